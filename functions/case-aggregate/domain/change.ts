import * as z from 'zod';
import { departmentCodeField, itemCodeField } from '../../../events/fields';
import { ingestProvenanceFields } from '../../../shared/ingest-message';
import { SUBJECT_PATTERN } from '../../auth-verify/domain/subject';
import { CASE_STATUSES } from './status';

/**
 * The queue contract between the ingest API and the consumer: one status change of one case,
 * free of personal data in clear (the ID number travels only as its keyed HMAC and masked form).
 */
export const CASE_NUMBER_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const REGION_CODE_PATTERN = /^\d{6}$/;
export const CHANNELS = ['online', 'window', 'mobile', 'terminal'] as const;
export const APPLICANT_TYPES = ['person', 'legal_person'] as const;
export const ID_TYPES = ['citizen_id', 'credit_code'] as const;

/** Channels that count as 网上办理 (online handling) in the assessment. */
export const ONLINE_CHANNELS: ReadonlySet<Channel> = new Set(['online', 'mobile']);

export const caseIdOf = (regionCode: string, caseNumber: string) => `${regionCode}:${caseNumber}`;

const CASE_ID_PATTERN = /^(\d{6}):([A-Za-z0-9_-]{1,64})$/;

/** Splits `{regionCode}:{caseNumber}`; undefined when malformed. */
export function parseCaseId(caseId: string): { regionCode: string; caseNumber: string } | undefined {
  const match = CASE_ID_PATTERN.exec(caseId);
  if (!match?.[1] || !match[2]) return undefined;
  return { regionCode: match[1], caseNumber: match[2] };
}

const isoInstant = z.iso.datetime({ offset: true });

/** A message naming a case both by id and by parts must name one case: the refinement every case message uses. */
export const caseIdMatchesParts = (m: { caseId: string; regionCode: string; caseNumber: string }) =>
  m.caseId === caseIdOf(m.regionCode, m.caseNumber);
export const CASE_ID_MISMATCH = { path: ['caseId'], message: 'caseId must be {regionCode}:{caseNumber}' };

export const maskedApplicantSchema = z.object({
  type: z.enum(APPLICANT_TYPES),
  idType: z.enum(ID_TYPES),
  idHmac: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  maskedId: z.string().regex(/^[0-9A-Za-z*]{1,64}$/),
  maskedName: z.string().min(1).max(200),
  /**
   * The applicant's subject (`sub` of their hub access tokens, auth-verify's pseudonym of the idHmac): the
   * user space finds a person's cases by it, since a token's subject cannot be turned back into an idHmac.
   */
  sub: z.string().regex(SUBJECT_PATTERN),
});
export type MaskedApplicant = z.infer<typeof maskedApplicantSchema>;

export const caseChangeMessageSchema = z
  .object({
    version: z.literal(1),
    caseId: z.string(),
    regionCode: z.string().regex(REGION_CODE_PATTERN),
    caseNumber: z.string().regex(CASE_NUMBER_PATTERN),
    itemCode: itemCodeField,
    itemName: z.string().min(1).max(500),
    departmentCode: departmentCodeField,
    applicant: maskedApplicantSchema,
    channel: z.enum(CHANNELS),
    fullyOnline: z.boolean(),
    promisedDays: z.number().int().min(0),
    statutoryDays: z.number().int().min(0),
    status: z.enum(CASE_STATUSES),
    statusAt: isoInstant,
    ...ingestProvenanceFields,
  })
  .refine(caseIdMatchesParts, CASE_ID_MISMATCH);

export type CaseChange = z.infer<typeof caseChangeMessageSchema>;
export type Channel = CaseChange['channel'];
