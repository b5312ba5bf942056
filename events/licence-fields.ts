import * as z from 'zod';
import { maskedIdField } from './auth-fields';

/*
 * Field shapes shared by the licence events (LicenceIssued, LicenceRevoked, LicenceAccessed). Shape only, like
 * fields.ts: licence-retrieve has checked the identifier's MOD 37,36 character at its boundary.
 */

export const licenceIdField = z
  .string()
  .regex(/^1\.2\.156\.3005\.2\.[0-9A-Z]{21}\.[0-9A-Z]{18}\.[0-9A-Z]{1,32}\.\d{3}\.[0-9A-Z]$/)
  .describe(
    'Electronic licence identifier (GB/T 36904): 1.2.156.3005.2.{type code}.{issuing authority code}.{serial}.{version}.{check}.',
  );

export const licenceTypeCodeField = z
  .string()
  .regex(/^[0-9A-HJ-NPQRTUWXY]{18}\d{3}$/)
  .describe('Licence type code: credit code of the ministry defining the type + 3 digits.');

export const issuingAuthorityCodeField = z
  .string()
  .regex(/^[0-9A-HJ-NPQRTUWXY]{18}$/)
  .describe('Unified social credit code (GB 32100) of the issuing authority.');

/** The holder as events show it: masked only — no ID HMAC, no subject, no name. */
export const maskedHolderField = z
  .strictObject({
    type: z.enum(['person', 'legal_person']).describe('Natural person or legal person.'),
    idType: z.enum(['citizen_id', 'credit_code']).describe('Kind of identifier the holder is known by.'),
    maskedId: maskedIdField,
  })
  .describe('The licence holder, masked.');

export const isoDateField = z.iso.date().describe('A calendar date, yyyy-mm-dd (Asia/Shanghai).');
