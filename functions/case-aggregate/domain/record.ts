import * as z from 'zod';
import { citizenIdSchema, creditCodeSchema, implementationCodeSchema } from '../../../shared/identifiers';
import { type FieldError, fieldErrors } from '../../../shared/problem';
import { regionCodeSchema } from '../../../shared/regions';
import { APPLICANT_TYPES, CASE_NUMBER_PATTERN, CHANNELS } from './change';
import { CASE_STATUSES } from './status';

/** How far ahead of the hub's clock a status time may be: platform clocks drift, the future does not happen. */
export const MAX_CLOCK_AHEAD_MS = 5 * 60 * 1000;
export const MAX_RECORDS_PER_BATCH = 500;
/** A generous bound on time limits; it keeps the working-day arithmetic finite on garbage input. */
export const MAX_TIME_LIMIT_DAYS = 3650;

const applicantName = z.string().trim().min(1).max(100);

/** The ID number is checked by the validator of its declared type (and normalised by it). */
const applicantSchema = z.discriminatedUnion('idType', [
  z.object({
    type: z.enum(APPLICANT_TYPES),
    idType: z.literal('citizen_id'),
    idNumber: citizenIdSchema,
    name: applicantName,
  }),
  z.object({
    type: z.enum(APPLICANT_TYPES),
    idType: z.literal('credit_code'),
    idNumber: creditCodeSchema,
    name: applicantName,
  }),
]);

const timeLimit = z.number().int().min(0).max(MAX_TIME_LIMIT_DAYS);

/** One case record as a platform pushes it (DESIGN.md §7). Unknown members are ignored. */
export const caseRecordSchema = z
  .object({
    regionCode: regionCodeSchema,
    caseNumber: z
      .string()
      .regex(CASE_NUMBER_PATTERN)
      .describe('Platform case number, 1–64 of [A-Za-z0-9_-].'),
    itemCode: implementationCodeSchema,
    itemName: z.string().trim().min(1).max(200),
    departmentCode: creditCodeSchema,
    applicant: applicantSchema,
    channel: z.enum(CHANNELS),
    fullyOnline: z.boolean(),
    promisedDays: timeLimit.describe('Promised time limit in working days (承诺时限).'),
    statutoryDays: timeLimit.describe(
      'Statutory time limit in working days (法定时限), at least the promised one.',
    ),
    status: z.enum(CASE_STATUSES),
    statusAt: z.iso
      .datetime({ offset: true })
      .describe('When the case reached the status, ISO 8601 with offset.'),
  })
  .refine((record) => record.statutoryDays >= record.promisedDays, {
    path: ['statutoryDays'],
    message: 'The statutory time limit must not be shorter than the promised one.',
  });

export type CaseRecordInput = z.input<typeof caseRecordSchema>;
export type ValidCaseRecord = z.output<typeof caseRecordSchema>;

export type RecordValidation = { ok: true; record: ValidCaseRecord } | { ok: false; errors: FieldError[] };

/** Validates one record on its own; the clock only matters for status times reported from the future. */
export function validateCaseRecord(input: unknown, now: Date): RecordValidation {
  const parsed = caseRecordSchema.safeParse(input);
  // fieldErrors drops the input from every message: a rejected ID number must not come back in the reply.
  if (!parsed.success) return { ok: false, errors: fieldErrors(parsed.error.issues) };
  if (Date.parse(parsed.data.statusAt) > now.getTime() + MAX_CLOCK_AHEAD_MS) {
    return { ok: false, errors: [{ path: '/statusAt', message: 'The status time lies in the future.' }] };
  }
  return { ok: true, record: parsed.data };
}
