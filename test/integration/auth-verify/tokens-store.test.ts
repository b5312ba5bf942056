import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantTicket, newTicket, type SignedInPerson } from '../../../functions/auth-verify/domain/tickets';
import {
  createTokenStore,
  revocationKey,
  type TokenStore,
  ticketKey,
} from '../../../functions/auth-verify/token-store';
import { localDynamo, scratchTables } from '../../support/dynamo';

const dynamo = localDynamo();
const tables = scratchTables(dynamo.client);
let table: string;
let store: TokenStore;

const NOW = new Date('2026-11-21T02:00:00Z');
const PERSON: SignedInPerson = {
  idHmac: 'Bf2XpYAItYlScow_VT59ac340hW9EPy0SrvIORmdzYg',
  sub: 'u_8Jq2vXbN0kTq4yR7wLm3sA',
  maskedId: '110105********002X',
  maskedName: '张**',
  assuranceLevel: 'L2',
  authMethod: 'dev',
};
const REDIRECT = 'http://127.0.0.1:5173/callback';

beforeAll(async () => {
  table = await tables.create('tokens', { gsi1: true });
  store = createTokenStore({ doc: dynamo.doc, tableName: table });
});
afterAll(() => tables.dropAll());

async function storedTicket(now = NOW) {
  const ticket = newTicket();
  const grant = grantTicket({
    ticket,
    person: PERSON,
    clientId: 'app-citizen',
    redirectUri: REDIRECT,
    now,
    ttlSeconds: 60,
  });
  await store.putTicket(grant);
  return { ticket, grant };
}

describe('tickets in the tokens table', () => {
  it('are stored under the hash of the ticket, never the ticket', async () => {
    const { ticket, grant } = await storedTicket();
    const { Item } = await dynamo.doc.send(
      new GetCommand({ TableName: table, Key: ticketKey(grant.ticketId) }),
    );
    expect(Item).toMatchObject({ ...grant, entity: 'ticket', expiresAt: grant.issuedAt + 60 });
    expect(JSON.stringify(Item)).not.toContain(ticket);
  });

  it('are consumed by exactly one of 10 concurrent redemptions', async () => {
    const { grant } = await storedTicket();
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => store.consumeTicket(grant.ticketId, new Date(NOW.getTime() + 1_000))),
    );
    const consumed = outcomes.filter((o) => o.outcome === 'consumed');
    expect(consumed).toHaveLength(1);
    expect(consumed[0]).toEqual({ outcome: 'consumed', grant });
    expect(outcomes.filter((o) => o.outcome === 'already_used')).toHaveLength(9);
    const { Item } = await dynamo.doc.send(
      new GetCommand({ TableName: table, Key: ticketKey(grant.ticketId) }),
    );
    expect(Item?.consumedAt).toBe('2026-11-21T02:00:01.000Z');
  });

  it('cannot be consumed at or after their expiry, nor when never issued', async () => {
    const { grant } = await storedTicket();
    expect(await store.consumeTicket(grant.ticketId, new Date(NOW.getTime() + 60_000))).toEqual({
      outcome: 'expired',
    });
    expect(await store.consumeTicket(grant.ticketId, new Date(NOW.getTime() + 59_999))).toMatchObject({
      outcome: 'consumed',
    });
    expect(await store.consumeTicket('A'.repeat(43), NOW)).toEqual({ outcome: 'unknown' });
  });
});

describe('revocations in the tokens table', () => {
  const revocation = (jti: string, revokedAt: Date) => ({
    jti,
    sub: PERSON.sub,
    clientId: 'app-citizen',
    revokedBy: 'app-citizen',
    revokedAt,
    expiresAt: Math.floor(revokedAt.getTime() / 1000) + 600,
  });

  it('are recorded once per jti, keyed for the time-bucketed index, with the token exp as TTL', async () => {
    const at = new Date('2026-11-21T02:15:30.250Z');
    expect(await store.recordRevocation(revocation('jti-once-0000001', at))).toBe('recorded');
    expect(await store.recordRevocation(revocation('jti-once-0000001', new Date(at.getTime() + 5_000)))).toBe(
      'already_revoked',
    );
    const { Item } = await dynamo.doc.send(
      new GetCommand({ TableName: table, Key: revocationKey('jti-once-0000001') }),
    );
    expect(Item).toMatchObject({
      gsi1pk: 'REVOKED#2026-11-21T02',
      gsi1sk: '2026-11-21T02:15:30.250Z#jti-once-0000001',
      revokedAt: '2026-11-21T02:15:30.250Z',
      expiresAt: Math.floor(at.getTime() / 1000) + 600,
      clientId: 'app-citizen',
      revokedBy: 'app-citizen',
      entity: 'revocation',
    });
  });

  it('are read back by time window, across hour buckets, with both ends included', async () => {
    const base = new Date('2026-11-22T05:59:58.000Z').getTime();
    const at = (ms: number) => new Date(base + ms);
    await Promise.all([
      store.recordRevocation(revocation('before-window-01', at(-1))),
      store.recordRevocation(revocation('window-start-001', at(0))),
      store.recordRevocation(revocation('last-of-hour-001', at(1_999))),
      store.recordRevocation(revocation('next-hour-00001', at(2_000))),
      store.recordRevocation(revocation('window-end-0001', at(4_000))),
      store.recordRevocation(revocation('after-window-01', at(4_001))),
    ]);
    const found = await store.revokedBetween(at(0), at(4_000));
    expect(found.map((t) => t.jti).sort()).toEqual(
      ['last-of-hour-001', 'next-hour-00001', 'window-end-0001', 'window-start-001'].sort(),
    );
    expect(found[0]).toEqual({ jti: expect.any(String), expiresAt: expect.any(Number) });
  });

  it('are read in pages when a window holds more than one page', async () => {
    const base = new Date('2026-11-23T08:00:00.000Z').getTime();
    const jtis = Array.from({ length: 60 }, (_, i) => `paged-${String(i).padStart(10, '0')}`);
    await Promise.all(jtis.map((jti, i) => store.recordRevocation(revocation(jti, new Date(base + i)))));
    // Pages of 7 items: the store must follow LastEvaluatedKey whatever page size DynamoDB chooses.
    const paging = createTokenStore({ doc: dynamo.doc, tableName: table, queryPageSize: 7 });
    const found = await paging.revokedBetween(new Date(base), new Date(base + 59));
    expect(found.map((t) => t.jti).sort()).toEqual(jtis);
  });

  it('hold no personal data', async () => {
    const { Items = [] } = await dynamo.doc.send(new ScanCommand({ TableName: table }));
    const text = JSON.stringify(Items);
    expect(text).not.toMatch(/\d{17}[\dX]/);
    expect(text).not.toContain('张三');
  });
});
