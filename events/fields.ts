import * as z from 'zod';

/*
 * Field shapes shared by event details. They check shape only (no check characters): the capability that
 * produces an event has validated the identifiers at its boundary; here they keep a malformed or personal value
 * from leaving the hub and tell consumers what to expect. Producers may reuse them.
 */

export const regionCodeField = z
  .string()
  .regex(/^\d{6}$/)
  .describe('Administrative division code (GB/T 2260), 6 digits.');

export const caseIdField = z
  .string()
  .regex(/^\d{6}:[A-Za-z0-9_-]{1,64}$/)
  .describe('Case id `{regionCode}:{caseNumber}`: the platform case number prefixed by its region code.');

export const departmentCodeField = z
  .string()
  .regex(/^[0-9A-HJ-NPQRTUWXY]{18}$/)
  .describe('Unified social credit code (GB 32100) of the handling department.');

export const itemCodeField = z
  .string()
  .regex(/^[0-9A-HJ-NPQRTUWXY]{18}[0-9A-Z]{13}$/)
  .describe('Service item implementation code (实施编码, GB/T 39554.1): 31 characters led by a credit code.');

export const channelField = z
  .enum(['online', 'window', 'mobile', 'terminal'])
  .describe('Where the case was lodged: online, service window, mobile app, self-service terminal.');

export const fullyOnlineField = z.boolean().describe('Handled fully online end to end (全程网办).');

export const caseStatusField = z
  .enum(['submitted', 'accepted', 'rejected', 'in_progress', 'completed', 'terminated'])
  .describe('Case status: submitted → accepted | rejected; accepted → in_progress | completed | terminated.');

export const isoDateTimeField = z.iso.datetime({ offset: true });

/** Applicants appear only as a keyed hash plus a masked id: never a clear ID number or name. */
export const applicantField = z
  .strictObject({
    type: z.enum(['person', 'legal_person']).describe('Natural person or legal person.'),
    idType: z
      .enum(['citizen_id', 'credit_code', 'other'])
      .describe('Kind of identifier: citizen ID number, unified social credit code, or other.'),
    idHmac: z
      .string()
      .regex(/^[A-Za-z0-9_-]{43}$/)
      .describe(
        'base64url HMAC-SHA256 of `{idType}:{normalised id}` under the hub key: matches the same holder across capabilities.',
      ),
    maskedId: z
      .string()
      .regex(/^(?=.*\*)[0-9A-Za-z*]{1,64}$/)
      .describe('Identifier with its middle masked (first 6 and last 4 kept), e.g. `110105********002X`.'),
  })
  .describe('The applicant, pseudonymised.');
