import * as z from 'zod';
import { assuranceLevelField, authMethodField, clientIdField, subjectField } from './auth-fields';
import { baseDetailSchema } from './envelope';
import { isoDateTimeField } from './fields';

/**
 * A single sign-on ticket was issued for a person and a connected platform. The ticket itself is a bearer secret and
 * never leaves the hub's response: `ticketId` is its SHA-256, which names it without letting anyone redeem it.
 */
export const buildTicketIssuedV1 = () =>
  baseDetailSchema
    .extend({
      version: z.literal(1).describe('Detail schema version.'),
      ticketId: z
        .string()
        .regex(/^[A-Za-z0-9_-]{43}$/)
        .describe('base64url SHA-256 of the ticket: a reference to it, not the ticket. Dedupe key.'),
      clientId: clientIdField.describe(
        'The platform the ticket was issued to (the only one that may validate it).',
      ),
      sub: subjectField,
      assuranceLevel: assuranceLevelField,
      authMethod: authMethodField,
      expiresAt: isoDateTimeField.describe('When the ticket stops being valid, ISO 8601 (60 s after issue).'),
    })
    .describe('TicketIssued v1: a single-use sign-on ticket was issued.');

/** Built at import for modules that read it; a bundle that never does drops the call (it is marked pure). */
export const ticketIssuedV1 = /* @__PURE__ */ buildTicketIssuedV1();

export type TicketIssuedV1 = z.infer<typeof ticketIssuedV1>;
