import { CREDIT_CODE_ALPHABET } from './credit-code';

export interface LicenceIdParts {
  /** Credit code of the ministry defining the licence type + 3 digits (21 characters). */
  typeCode: string;
  /** 18-character credit code of the issuing authority. */
  authorityCode: string;
  serial: string;
  /** 3 digits. */
  version: string;
}

export interface LicenceId extends LicenceIdParts {
  /** Normalised: upper-case, no surrounding blanks. */
  value: string;
  checkCharacter: string;
}

export type LicenceIdErrorCode =
  | 'invalid_type'
  | 'invalid_structure'
  | 'invalid_type_code'
  | 'invalid_authority_code'
  | 'invalid_serial'
  | 'invalid_version'
  | 'check_character_mismatch';

export type LicenceIdResult =
  | ({ ok: true } & LicenceId)
  | { ok: false; code: LicenceIdErrorCode; reason: string };

/** The OID arc GB/T 36904 puts in front of every licence identifier. */
export const LICENCE_ID_PREFIX = '1.2.156.3005.2.';
const MOD_3736_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
// GB/T 36904 leaves the serial to the issuer; the bound keeps identifiers usable as table keys.
export const MAX_SERIAL_LENGTH = 32;
const CREDIT = `[${CREDIT_CODE_ALPHABET}]{18}`;
const TYPE_CODE = new RegExp(`^${CREDIT}\\d{3}$`);
const AUTHORITY_CODE = new RegExp(`^${CREDIT}$`);
const SERIAL = new RegExp(`^[0-9A-Z]{1,${MAX_SERIAL_LENGTH}}$`);
const VERSION = /^\d{3}$/;
const CHECK = /^[0-9A-Z]$/;

/** ISO/IEC 7064 MOD 37,36 (GB/T 17710) check character of `payload` (characters 0-9, A-Z). */
export function mod3736CheckCharacter(payload: string): string {
  let product = 36;
  for (const character of payload) {
    let sum = (product + MOD_3736_ALPHABET.indexOf(character)) % 36;
    if (sum === 0) sum = 36;
    product = (2 * sum) % 37;
  }
  return MOD_3736_ALPHABET[(37 - product) % 36] ?? '';
}

/** The check character of a licence identifier: MOD 37,36 over its parts joined without dots. */
export function licenceCheckCharacter(parts: LicenceIdParts): string {
  return mod3736CheckCharacter(`${parts.typeCode}${parts.authorityCode}${parts.serial}${parts.version}`);
}

/** The full identifier, check character included, for parts that are already valid. */
export function formatLicenceId(parts: LicenceIdParts): string {
  const { typeCode, authorityCode, serial, version } = parts;
  return `${LICENCE_ID_PREFIX}${typeCode}.${authorityCode}.${serial}.${version}.${licenceCheckCharacter(parts)}`;
}

export function validateLicenceId(input: unknown): LicenceIdResult {
  if (typeof input !== 'string') return reject('invalid_type', 'A licence identifier must be a string.');
  const value = input.trim().toUpperCase();
  const fields = value.startsWith(LICENCE_ID_PREFIX) ? value.slice(LICENCE_ID_PREFIX.length).split('.') : [];
  const [typeCode = '', authorityCode = '', serial = '', version = '', checkCharacter = ''] = fields;
  if (fields.length !== 5) {
    return reject(
      'invalid_structure',
      'A licence identifier reads 1.2.156.3005.2.{type}.{authority}.{serial}.{version}.{check}.',
    );
  }
  const partProblem = findPartProblem({ typeCode, authorityCode, serial, version }, checkCharacter);
  if (partProblem) return partProblem;
  const parts = { typeCode, authorityCode, serial, version };
  if (licenceCheckCharacter(parts) !== checkCharacter) {
    return reject('check_character_mismatch', 'The check character of the licence identifier is wrong.');
  }
  return { ok: true, value, ...parts, checkCharacter };
}

function findPartProblem(parts: LicenceIdParts, checkCharacter: string): LicenceIdResult | undefined {
  if (!TYPE_CODE.test(parts.typeCode)) {
    return reject(
      'invalid_type_code',
      'A licence type code is an 18-character credit code followed by 3 digits.',
    );
  }
  if (!AUTHORITY_CODE.test(parts.authorityCode)) {
    return reject(
      'invalid_authority_code',
      'A licence issuing authority code is an 18-character credit code.',
    );
  }
  if (!SERIAL.test(parts.serial)) {
    return reject(
      'invalid_serial',
      `A licence serial is 1 to ${MAX_SERIAL_LENGTH} digits or upper-case letters.`,
    );
  }
  if (!VERSION.test(parts.version)) return reject('invalid_version', 'A licence version has 3 digits.');
  if (!CHECK.test(checkCharacter)) {
    return reject('check_character_mismatch', 'A licence check character is one digit or upper-case letter.');
  }
  return undefined;
}

function reject(code: LicenceIdErrorCode, reason: string): LicenceIdResult {
  return { ok: false, code, reason };
}
