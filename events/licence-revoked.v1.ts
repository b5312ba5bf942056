import * as z from 'zod';
import { clientIdField } from './auth-fields';
import { baseDetailSchema } from './envelope';
import { isoDateTimeField } from './fields';
import {
  issuingAuthorityCodeField,
  licenceIdField,
  licenceTypeCodeField,
  maskedHolderField,
} from './licence-fields';

/**
 * A licence was revoked (注销/撤销) by its issuing authority. The free-text reason stays in the licences table.
 * At least once (a repeated revocation announces again): dedupe on `licenceId`.
 */
export const buildLicenceRevokedV1 = () =>
  baseDetailSchema
    .extend({
      version: z.literal(1).describe('Detail schema version.'),
      licenceId: licenceIdField.describe('The revoked licence. Dedupe key.'),
      typeCode: licenceTypeCodeField,
      authorityCode: issuingAuthorityCodeField,
      holder: maskedHolderField,
      revokedBy: clientIdField.describe('The issuing platform that revoked it.'),
      revokedAt: isoDateTimeField.describe('When the hub recorded the revocation (ISO 8601).'),
    })
    .describe('LicenceRevoked v1: a licence was revoked by its issuing authority.');

/** Built at import for modules that read it; a bundle that never does drops the call (it is marked pure). */
export const licenceRevokedV1 = /* @__PURE__ */ buildLicenceRevokedV1();

export type LicenceRevokedV1 = z.infer<typeof licenceRevokedV1>;
