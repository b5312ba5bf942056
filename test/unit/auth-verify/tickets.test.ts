import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type ConsumeOutcome,
  grantTicket,
  identityOf,
  isRegisteredRedirect,
  judgeRedemption,
  newTicket,
  redirectWithTicket,
  type SignedInPerson,
  ticketIdOf,
  ticketSchema,
} from '../../../functions/auth-verify/domain/tickets';

const PERSON: SignedInPerson = {
  idHmac: 'Bf2XpYAItYlScow_VT59ac340hW9EPy0SrvIORmdzYg',
  sub: 'u_8Jq2vXbN0kTq4yR7wLm3sA',
  maskedId: '110105********002X',
  maskedName: '张**',
  assuranceLevel: 'L2',
  authMethod: 'dev',
};
const REDIRECT = 'https://app.example.gov.cn/sso/callback';
const NOW = new Date('2026-11-21T02:00:00.700Z');

const grant = (ticket = newTicket()) =>
  grantTicket({
    ticket,
    person: PERSON,
    clientId: 'app-citizen',
    redirectUri: REDIRECT,
    now: NOW,
    ttlSeconds: 60,
  });

describe('tickets', () => {
  it('are 256 random bits in 43 base64url characters, never repeated', () => {
    const tickets = Array.from({ length: 1000 }, () => newTicket());
    expect(new Set(tickets).size).toBe(1000);
    for (const ticket of tickets) expect(ticketSchema.safeParse(ticket).success).toBe(true);
    expect(newTicket(() => Buffer.alloc(32, 0xff))).toBe(`${'_'.repeat(42)}8`);
  });

  it('are stored and announced as their SHA-256 only', () => {
    const ticket = newTicket();
    const g = grant(ticket);
    expect(g.ticketId).toBe(createHash('sha256').update(ticket).digest('base64url'));
    expect(JSON.stringify(g)).not.toContain(ticket);
    expect(ticketIdOf(ticket)).toBe(g.ticketId);
  });

  it('expire TTL seconds after issue, in Unix seconds', () => {
    expect(grant()).toMatchObject({ issuedAt: 1_795_226_400, expiresAt: 1_795_226_460 });
  });

  it('refuse malformed values before any lookup', () => {
    for (const bad of ['', 'short', `${'A'.repeat(42)}=`, `${'A'.repeat(44)}`, `${'A'.repeat(42)}+`]) {
      expect(ticketSchema.safeParse(bad).success).toBe(false);
    }
  });
});

describe('redirects', () => {
  const client = { redirectUris: [REDIRECT, 'http://127.0.0.1:5173/callback'] };

  it('must be registered exactly: no prefix, path, port, case or trailing-slash variants', () => {
    expect(isRegisteredRedirect(client, REDIRECT)).toBe(true);
    for (const variant of [
      `${REDIRECT}/`,
      `${REDIRECT}/../evil`,
      `${REDIRECT}?next=https://evil.example`,
      'https://app.example.gov.cn:8443/sso/callback',
      'HTTPS://APP.EXAMPLE.GOV.CN/sso/callback',
      'https://app.example.gov.cn.evil.example/sso/callback',
    ]) {
      expect(isRegisteredRedirect(client, variant)).toBe(false);
    }
    expect(isRegisteredRedirect({}, REDIRECT)).toBe(false);
  });

  it('carry the ticket as a query parameter, keeping any query the redirect has', () => {
    const ticket = newTicket();
    expect(redirectWithTicket(REDIRECT, ticket)).toBe(`${REDIRECT}?ticket=${ticket}`);
    expect(redirectWithTicket('https://a.example/cb?lang=zh', ticket)).toBe(
      `https://a.example/cb?lang=zh&ticket=${ticket}`,
    );
  });
});

describe('judgeRedemption', () => {
  const presented = { clientId: 'app-citizen', redirectUri: REDIRECT };
  const consumed = (): ConsumeOutcome => ({ outcome: 'consumed', grant: grant() });

  it('admits the client and redirect the ticket was issued for', () => {
    const result = judgeRedemption(consumed(), presented);
    expect(result.ok).toBe(true);
  });

  it.each([
    ['unknown', { outcome: 'unknown' } as ConsumeOutcome, presented],
    ['already_used', { outcome: 'already_used' } as ConsumeOutcome, presented],
    ['expired', { outcome: 'expired' } as ConsumeOutcome, presented],
    ['wrong_client', consumed(), { ...presented, clientId: 'region-330000' }],
    ['wrong_redirect', consumed(), { ...presented, redirectUri: `${REDIRECT}/other` }],
  ])('refuses %s', (reason, outcome, who) => {
    expect(judgeRedemption(outcome, who)).toEqual({ ok: false, reason });
  });

  it('answers with masked, pseudonymous identity only', () => {
    expect(identityOf(grant())).toEqual({
      sub: PERSON.sub,
      maskedId: PERSON.maskedId,
      maskedName: PERSON.maskedName,
      assuranceLevel: 'L2',
      authMethod: 'dev',
    });
  });
});
