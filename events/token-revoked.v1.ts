import * as z from 'zod';
import { clientIdField, jtiField, subjectField } from './auth-fields';
import { baseDetailSchema } from './envelope';
import { isoDateTimeField } from './fields';

/**
 * An access token was revoked (single logout, 单点登出): connected platforms holding a session for `sub` end it.
 * Announced once per revocation request; a repeated revocation of the same `jti` may announce it again.
 */
export const buildTokenRevokedV1 = () =>
  baseDetailSchema
    .extend({
      version: z.literal(1).describe('Detail schema version.'),
      jti: jtiField.describe('JWT id of the revoked token. Dedupe key.'),
      sub: subjectField,
      clientId: clientIdField.describe('Audience of the token: the platform it was issued to.'),
      revokedBy: clientIdField.describe('The client that asked for the revocation.'),
      expiresAt: isoDateTimeField.describe('When the token would have expired anyway, ISO 8601.'),
    })
    .describe('TokenRevoked v1: an access token was revoked before its expiry.');

/** Built at import for modules that read it; a bundle that never does drops the call (it is marked pure). */
export const tokenRevokedV1 = /* @__PURE__ */ buildTokenRevokedV1();

export type TokenRevokedV1 = z.infer<typeof tokenRevokedV1>;
