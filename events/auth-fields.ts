import * as z from 'zod';

/*
 * Field shapes shared by the auth-verify events (TicketIssued, TokenRevoked, IdentityVerified). Like fields.ts they
 * check shape only; they keep anything that could be a clear ID number or name from leaving the hub.
 */

export const clientIdField = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/)
  .describe('Id of a connected platform (接入方) in the client registry.');

export const subjectField = z
  .string()
  .regex(/^u_[A-Za-z0-9_-]{22}$/)
  .describe(
    'Pseudonymous, stable subject of a person: `u_` + 22 base64url characters of an HMAC of the ID HMAC. Not reversible to an ID number.',
  );

export const assuranceLevelField = z
  .enum(['L1', 'L2', 'L3'])
  .describe(
    'Identity assurance: L1 self-asserted, L2 registry-verified, L3 registry-verified plus a second factor (face / e-ID).',
  );

export const authMethodField = z
  .enum(['dev', 'password', 'sms_otp', 'face', 'e_id'])
  .describe(
    'How the person signed in at the hub: `dev` (development sign-in, dev stage only), password, SMS one-time code, face, e-ID.',
  );

export const jtiField = z
  .string()
  .regex(/^[A-Za-z0-9_-]{16,64}$/)
  .describe('JWT id (`jti`) of an access token.');

export const maskedIdField = z
  .string()
  .regex(/^(?=.*\*)[0-9A-Za-z*]{1,64}$/)
  .describe('Identifier with its middle masked (first 6 and last 4 kept), e.g. `110105********002X`.');
