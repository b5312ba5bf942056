import * as z from 'zod';
import { assuranceLevelField, clientIdField, maskedIdField } from './auth-fields';
import { baseDetailSchema } from './envelope';

/**
 * A real-name verification (实名核验) was answered. Carries the answer and a masked identifier only: never the
 * number, the name or anything stored in the registry.
 */
export const buildIdentityVerifiedV1 = () =>
  baseDetailSchema
    .extend({
      version: z.literal(1).describe('Detail schema version.'),
      verificationId: z
        .string()
        .min(1)
        .max(64)
        .regex(/^[A-Za-z0-9_-]+$/)
        .describe('Id of the verification, as returned to the caller. Dedupe key.'),
      subject: z
        .enum(['person', 'enterprise'])
        .describe('person: name + citizen ID number; enterprise: credit code + legal representative.'),
      result: z
        .enum(['match', 'mismatch', 'not_found'])
        .describe(
          'The answer given: the registry holds the pair, holds the number with another name, or not the number.',
        ),
      maskedId: maskedIdField,
      clientId: clientIdField.describe('The platform that asked.'),
      assuranceLevel: assuranceLevelField.describe('Assurance level the verification supports.'),
    })
    .describe('IdentityVerified v1: a real-name verification was answered.');

/** Built at import for modules that read it; a bundle that never does drops the call (it is marked pure). */
export const identityVerifiedV1 = /* @__PURE__ */ buildIdentityVerifiedV1();

export type IdentityVerifiedV1 = z.infer<typeof identityVerifiedV1>;
