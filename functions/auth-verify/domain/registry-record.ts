import * as z from 'zod';
import { validateCitizenId, validateCreditCode } from '../../../shared/identifiers';
import { maskIdNumber } from '../../../shared/masking';
import { hmacIdentifier } from '../../../shared/pii';

/**
 * The identity registry (population and legal-person registry) as the hub keeps it: keyed HMACs of the
 * identifiers and names, a masked id for operators, and a status. The clear identity exists only on the
 * way in (a loaded CSV row, a verification request) and is turned into a record here, never stored.
 */

export const REGISTRY_STATUSES = ['active', 'cancelled'] as const;
/** `cancelled`: the registry no longer holds a live identity under this number (deceased, deregistered …). */
export type RegistryStatus = (typeof REGISTRY_STATUSES)[number];

export type RegistrySubject = 'person' | 'enterprise';

/** A clear identity, as a registry extract or a seed carries it. Never stored, never logged. */
export type RegistryIdentity =
  | { subject: 'person'; idNumber: string; name: string; status?: RegistryStatus }
  | { subject: 'enterprise'; creditCode: string; legalRepresentative: string; status?: RegistryStatus };

export interface PersonRecord {
  subject: 'person';
  /** HMAC of the citizen ID number: `hmacIdentifier(key, 'citizen_id', idNumber)`, as every capability. */
  idHmac: string;
  nameHmac: string;
  maskedId: string;
  status: RegistryStatus;
}

export interface EnterpriseRecord {
  subject: 'enterprise';
  /** HMAC of the unified social credit code: `hmacIdentifier(key, 'credit_code', creditCode)`. */
  creditCodeHmac: string;
  legalRepresentativeNameHmac: string;
  maskedId: string;
  status: RegistryStatus;
}

export type RegistryRecord = PersonRecord | EnterpriseRecord;

/** What a lookup needs: the subject and the HMAC of its number. */
export type RegistryLookup =
  | { subject: 'person'; idHmac: string }
  | { subject: 'enterprise'; creditCodeHmac: string };

// Identifier types as the rest of the hub spells them, so one person has one idHmac in every table.
const CITIZEN_ID = 'citizen_id';
const CREDIT_CODE = 'credit_code';
// A different label from any identifier type: a name never hashes like a number with the same text.
const NAME = 'name';

/** The longest name accepted, in code points: generous for transliterated and minority names. */
export const MAX_NAME_LENGTH = 64;

/**
 * One spelling per name before hashing: Unicode NFC (a composed and a decomposed character are the same
 * name) and no surrounding blanks. Inner spaces and the middle dot of minority names are kept as given.
 */
export const normaliseName = (name: string): string => name.normalize('NFC').trim();

export const personIdHmac = (key: Uint8Array | string, idNumber: string): string =>
  hmacIdentifier(key, CITIZEN_ID, idNumber);

export const creditCodeHmac = (key: Uint8Array | string, creditCode: string): string =>
  hmacIdentifier(key, CREDIT_CODE, creditCode);

export const nameHmac = (key: Uint8Array | string, name: string): string =>
  hmacIdentifier(key, NAME, normaliseName(name));

// Control characters and the replacement character (what a non-UTF-8 byte decodes to) are never part of a name.
const FORBIDDEN_IN_NAME = /[\p{Cc}\p{Cf}\uFFFD]/u;

export type NameErrorCode = 'name_missing' | 'name_too_long' | 'name_invalid_characters';

/** Checks a name without echoing it: reasons are fixed texts. */
export function validateName(
  input: unknown,
): { ok: true; value: string } | { ok: false; code: NameErrorCode; reason: string } {
  const value = typeof input === 'string' ? normaliseName(input) : '';
  if (value.length === 0) return { ok: false, code: 'name_missing', reason: 'A name is required.' };
  if ([...value].length > MAX_NAME_LENGTH) {
    return { ok: false, code: 'name_too_long', reason: `A name has at most ${MAX_NAME_LENGTH} characters.` };
  }
  if (FORBIDDEN_IN_NAME.test(value)) {
    return {
      ok: false,
      code: 'name_invalid_characters',
      reason: 'A name contains control or undecodable characters.',
    };
  }
  return { ok: true, value };
}

/** A person's or legal representative's name: normalised, validated, and never echoed in an issue. */
export const personNameSchema = z
  .string()
  .check((ctx) => {
    const result = validateName(ctx.value);
    if (!result.ok) ctx.issues.push({ code: 'custom', message: result.reason, input: ctx.value });
  })
  .overwrite(normaliseName)
  .describe(`A person's name as registered (NFC, trimmed, 1–${MAX_NAME_LENGTH} characters).`);

export function toRegistryRecord(identity: RegistryIdentity, key: Uint8Array | string): RegistryRecord {
  const status = identity.status ?? 'active';
  if (identity.subject === 'person') {
    return {
      subject: 'person',
      idHmac: personIdHmac(key, identity.idNumber),
      nameHmac: nameHmac(key, identity.name),
      maskedId: maskIdNumber(identity.idNumber),
      status,
    };
  }
  return {
    subject: 'enterprise',
    creditCodeHmac: creditCodeHmac(key, identity.creditCode),
    legalRepresentativeNameHmac: nameHmac(key, identity.legalRepresentative),
    maskedId: maskIdNumber(identity.creditCode),
    status,
  };
}

export const lookupOf = (record: RegistryRecord): RegistryLookup =>
  record.subject === 'person'
    ? { subject: 'person', idHmac: record.idHmac }
    : { subject: 'enterprise', creditCodeHmac: record.creditCodeHmac };

/** One row of a registry extract, columns by name; `id` is the citizen ID or the credit code. */
export interface RegistryRow {
  subject: string;
  id: string;
  name: string;
  status?: string;
}

export type RowResult = { ok: true; identity: RegistryIdentity } | { ok: false; reason: string };

/**
 * Validates one extract row. The reason is a fixed code (`citizen_id:check_character_mismatch`,
 * `name:name_missing`, `unknown_subject` …) that never contains a value, so it may be printed and logged.
 */
export function parseRegistryRow(row: RegistryRow): RowResult {
  const subject = row.subject.trim().toLowerCase();
  const status = parseStatus(row.status);
  if (status === undefined) return { ok: false, reason: 'unknown_status' };
  const name = validateName(row.name);
  if (subject === 'person') {
    const id = validateCitizenId(row.id);
    if (!id.ok) return { ok: false, reason: `citizen_id:${id.code}` };
    if (!name.ok) return { ok: false, reason: `name:${name.code}` };
    return { ok: true, identity: { subject, idNumber: id.value, name: name.value, status } };
  }
  if (subject === 'enterprise') {
    const code = validateCreditCode(row.id);
    if (!code.ok) return { ok: false, reason: `credit_code:${code.code}` };
    if (!name.ok) return { ok: false, reason: `legal_representative:${name.code}` };
    return {
      ok: true,
      identity: { subject, creditCode: code.value, legalRepresentative: name.value, status },
    };
  }
  return { ok: false, reason: 'unknown_subject' };
}

function parseStatus(raw: string | undefined): RegistryStatus | undefined {
  const status = (raw ?? '').trim().toLowerCase();
  if (status === '') return 'active';
  return (REGISTRY_STATUSES as readonly string[]).includes(status) ? (status as RegistryStatus) : undefined;
}
