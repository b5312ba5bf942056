import { createHash, randomBytes } from 'node:crypto';
import * as z from 'zod';
import { type AssuranceLevel, assuranceLevelSchema } from './assurance';

/**
 * Single sign-on tickets (一次登录、全网通办). After a person signs in at the hub, the browser is sent to the
 * connected platform's registered redirect with a ticket; the platform's server redeems it once, within 60 s,
 * for the person's identity and an access token.
 *
 * The ticket is a bearer secret of 256 random bits. The hub stores and announces only its SHA-256 (`ticketId`),
 * so neither a table read nor an event subscriber can redeem one.
 */

export const TICKET_BYTES = 32;
export const DEFAULT_TICKET_TTL_SECONDS = 60;

/** 32 bytes in base64url without padding: exactly 43 characters. */
export const ticketSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, 'A ticket is 43 base64url characters.')
  .describe('The one-time ticket from the redirect query (`?ticket=`).');

export const AUTH_METHODS = ['dev', 'password', 'sms_otp', 'face', 'e_id'] as const;
export const authMethodSchema = z.enum(AUTH_METHODS);
export type AuthMethod = z.output<typeof authMethodSchema>;

export const newTicket = (random: (bytes: number) => Buffer = randomBytes): string =>
  random(TICKET_BYTES).toString('base64url');

export const ticketIdOf = (ticket: string): string =>
  createHash('sha256').update(ticket, 'utf8').digest('base64url');

/** Who signed in and how, as a ticket carries it: pseudonymised and masked, never a clear number or name. */
export interface SignedInPerson {
  idHmac: string;
  sub: string;
  maskedId: string;
  maskedName: string;
  assuranceLevel: AssuranceLevel;
  authMethod: AuthMethod;
}

/** A stored ticket: the person plus what it is bound to. Times are Unix seconds (the table's TTL unit). */
export interface TicketGrant extends SignedInPerson {
  ticketId: string;
  clientId: string;
  redirectUri: string;
  issuedAt: number;
  expiresAt: number;
}

export const ticketGrantSchema = z.object({
  ticketId: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  clientId: z.string().min(1),
  redirectUri: z.string().min(1),
  idHmac: z.string().min(1),
  sub: z.string().min(1),
  maskedId: z.string().min(1),
  maskedName: z.string(),
  assuranceLevel: assuranceLevelSchema,
  authMethod: authMethodSchema,
  issuedAt: z.number().int(),
  expiresAt: z.number().int(),
}) satisfies z.ZodType<TicketGrant>;

export function grantTicket(input: {
  ticket: string;
  person: SignedInPerson;
  clientId: string;
  redirectUri: string;
  now: Date;
  ttlSeconds: number;
}): TicketGrant {
  const issuedAt = Math.floor(input.now.getTime() / 1000);
  return {
    ...input.person,
    ticketId: ticketIdOf(input.ticket),
    clientId: input.clientId,
    redirectUri: input.redirectUri,
    issuedAt,
    expiresAt: issuedAt + input.ttlSeconds,
  };
}

/**
 * Redirects are compared as exact strings, as OAuth 2.1 requires: no prefix matching, no normalisation, so a
 * registered `https://a.example/cb` never admits `https://a.example/cb/../evil` or another port.
 */
export function isRegisteredRedirect(
  client: { redirectUris?: readonly string[] },
  redirectUri: string,
): boolean {
  return (client.redirectUris ?? []).includes(redirectUri);
}

/** Where the browser goes after sign-in: the registered redirect with `ticket` added to its query. */
export function redirectWithTicket(redirectUri: string, ticket: string): string {
  const url = new URL(redirectUri);
  url.searchParams.set('ticket', ticket);
  return url.toString();
}

/** What redeeming a ticket found, before binding checks. `consumed` means this call spent it. */
export type ConsumeOutcome =
  | { outcome: 'consumed'; grant: TicketGrant }
  | { outcome: 'unknown' }
  | { outcome: 'already_used' }
  | { outcome: 'expired' };

export type RedemptionRefusal = 'unknown' | 'already_used' | 'expired' | 'wrong_client' | 'wrong_redirect';

export type Redemption = { ok: true; grant: TicketGrant } | { ok: false; reason: RedemptionRefusal };

/**
 * Judges a redemption. The ticket is spent before the binding is checked: a ticket presented by another client or
 * with another redirect has leaked, and spending it makes the leak fail closed (the person signs in again) instead
 * of leaving the attacker further tries.
 */
export function judgeRedemption(
  consumed: ConsumeOutcome,
  presented: { clientId: string; redirectUri: string },
): Redemption {
  if (consumed.outcome !== 'consumed') return { ok: false, reason: consumed.outcome };
  if (consumed.grant.clientId !== presented.clientId) return { ok: false, reason: 'wrong_client' };
  if (consumed.grant.redirectUri !== presented.redirectUri) return { ok: false, reason: 'wrong_redirect' };
  return { ok: true, grant: consumed.grant };
}

/** The identity a validated ticket answers with. */
export interface TicketIdentity {
  sub: string;
  maskedId: string;
  maskedName: string;
  assuranceLevel: AssuranceLevel;
  authMethod: AuthMethod;
}

export const identityOf = (grant: TicketGrant): TicketIdentity => ({
  sub: grant.sub,
  maskedId: grant.maskedId,
  maskedName: grant.maskedName,
  assuranceLevel: grant.assuranceLevel,
  authMethod: grant.authMethod,
});
