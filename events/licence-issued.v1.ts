import * as z from 'zod';
import { clientIdField } from './auth-fields';
import { baseDetailSchema } from './envelope';
import { isoDateTimeField, regionCodeField } from './fields';
import {
  isoDateField,
  issuingAuthorityCodeField,
  licenceIdField,
  licenceTypeCodeField,
  maskedHolderField,
} from './licence-fields';

/** A licence (电子证照) was registered by its issuing authority. At least once: dedupe on `licenceId`. */
export const buildLicenceIssuedV1 = () =>
  baseDetailSchema
    .extend({
      version: z.literal(1).describe('Detail schema version.'),
      licenceId: licenceIdField.describe('The licence identifier. Dedupe key.'),
      typeCode: licenceTypeCodeField,
      authorityCode: issuingAuthorityCodeField,
      issuerClientId: clientIdField.describe('The issuing platform that registered the licence.'),
      jurisdictionCode: regionCodeField.describe('Division (GB/T 2260) whose authority issued the licence.'),
      holder: maskedHolderField,
      issuedOn: isoDateField.describe('Issue date printed on the licence.'),
      validFrom: isoDateField.describe('First day of validity.'),
      validTo: isoDateField
        .optional()
        .describe('Last day of validity; absent for a licence valid indefinitely.'),
      registeredAt: isoDateTimeField.describe('When the hub registered the licence (ISO 8601).'),
    })
    .describe('LicenceIssued v1: a licence was registered by its issuing authority.');

/** Built at import for modules that read it; a bundle that never does drops the call (it is marked pure). */
export const licenceIssuedV1 = /* @__PURE__ */ buildLicenceIssuedV1();

export type LicenceIssuedV1 = z.infer<typeof licenceIssuedV1>;
