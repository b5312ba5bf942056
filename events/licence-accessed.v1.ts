import * as z from 'zod';
import { clientIdField, jtiField } from './auth-fields';
import { baseDetailSchema } from './envelope';
import { caseIdField, isoDateTimeField } from './fields';
import { licenceIdField, licenceTypeCodeField } from './licence-fields';

/** What was done with the licence: listed among a holder's licences, fetched, or a download URL was issued. */
export const licenceUseOperationField = z
  .enum(['list', 'fetch', 'download_url'])
  .describe(
    'list: shown in a holder listing; fetch: read with its surface data; download_url: a file URL issued.',
  );

/** The authorisation a use rested on: the holder's own token, or a case of the caller in which the holder applied. */
export const licenceUseAuthorisationField = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z
        .literal('holder_token')
        .describe("The holder's own access token, issued to the calling platform."),
      jti: jtiField,
    }),
    z.strictObject({
      kind: z
        .literal('case')
        .describe('A case (办件) of the calling platform in which the holder is the applicant.'),
      caseId: caseIdField,
    }),
  ])
  .describe('What authorised the use.');

/**
 * One use of a licence (用证记录): who, which licence, on what authorisation, for what stated reason, when.
 * Emitted for every licence a list shows, every fetch and every download URL issued. Dedupe on `useId`.
 */
export const buildLicenceAccessedV1 = () =>
  baseDetailSchema
    .extend({
      version: z.literal(1).describe('Detail schema version.'),
      useId: z
        .string()
        .regex(/^[A-Za-z0-9_-]{16,64}$/)
        .describe('Unique id of this use. Dedupe key.'),
      licenceId: licenceIdField,
      typeCode: licenceTypeCodeField,
      operation: licenceUseOperationField,
      clientId: clientIdField.describe('The platform that used the licence.'),
      authorisation: licenceUseAuthorisationField,
      reason: z
        .string()
        .min(1)
        .max(200)
        .describe(
          "The reason for use (用证事由) the platform stated, as it stated it (it is the platform's record).",
        ),
      accessedAt: isoDateTimeField.describe('When the hub served the use (ISO 8601).'),
    })
    .describe('LicenceAccessed v1: one use of a licence, for the audit and the holder.');

/** Built at import for modules that read it; a bundle that never does drops the call (it is marked pure). */
export const licenceAccessedV1 = /* @__PURE__ */ buildLicenceAccessedV1();

export type LicenceAccessedV1 = z.infer<typeof licenceAccessedV1>;
