import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { introspectToken } from '../../../functions/auth-verify/domain/introspection';
import { RevocationCache } from '../../../functions/auth-verify/domain/revocations';
import {
  type AccessTokenClaims,
  accessTokenClaims,
  createTokenVerifier,
  type TokenSigner,
} from '../../../functions/auth-verify/domain/tokens';
import { createLocalTokenSigner, ensureLocalSigningKey } from '../../../functions/auth-verify/signing-key';
import { createTokenStore } from '../../../functions/auth-verify/token-store';
import { localDynamo, scratchTables } from '../../support/dynamo';

/**
 * Two introspecting instances (each its own store client, verifier and revocation set) over one DynamoDB Local
 * tokens table, with their clocks driven by the test: a revocation recorded through one is seen by the other at
 * its first check one refresh interval (500 ms) later, and by a fresh instance at once.
 */
const ISSUER = 'https://hub.zwfw.local/test';
const REFRESH_MS = 500;
const TTL_SECONDS = 3600;
const T0 = new Date('2026-11-21T02:59:59.000Z').getTime(); // the revocation lands in the next hour bucket

const dynamo = localDynamo();
const tables = scratchTables(dynamo.client);
let table: string;
let signer: TokenSigner;
let keyDir: string;

beforeAll(async () => {
  table = await tables.create('tokens', { gsi1: true });
  keyDir = await mkdtemp(join(tmpdir(), 'tokens-revocation-'));
  const keyFile = join(keyDir, 'signing-key.json');
  await ensureLocalSigningKey(keyFile);
  signer = createLocalTokenSigner(keyFile);
});
afterAll(async () => {
  await tables.dropAll();
  await rm(keyDir, { recursive: true, force: true });
});

function instance(startAt: number) {
  let now = startAt;
  const clock = () => new Date(now);
  const store = createTokenStore({ doc: localDynamo().doc, tableName: table });
  const revocations = new RevocationCache({
    feed: store,
    clock,
    refreshIntervalMs: REFRESH_MS,
    lookbackMs: TTL_SECONDS * 1000,
  });
  const verifier = createTokenVerifier({ issuer: ISSUER, jwks: () => signer.publicJwks(), clock });
  return {
    store,
    revocations,
    clock,
    advanceTo: (at: number) => {
      now = at;
    },
    introspect: (token: string) => introspectToken(token, { verifier, revocations }),
    /** What the revoke route does: record in the table, then take it into this instance's own set. */
    revoke: async (claims: AccessTokenClaims) => {
      await store.recordRevocation({
        jti: claims.jti,
        sub: claims.sub,
        clientId: claims.aud,
        revokedBy: claims.aud,
        revokedAt: clock(),
        expiresAt: claims.exp,
      });
      revocations.add({ jti: claims.jti, expiresAt: claims.exp });
    },
  };
}

const tokenAt = async (at: number) => {
  const claims = accessTokenClaims({
    issuer: ISSUER,
    audience: 'app-citizen',
    person: { sub: 'u_8Jq2vXbN0kTq4yR7wLm3sA', assuranceLevel: 'L2', authMethod: 'dev' },
    now: new Date(at),
    ttlSeconds: TTL_SECONDS,
  });
  return { claims, token: await signer.sign(claims) };
};

describe('revocation across instances', () => {
  it('reaches another instance within one refresh interval, the revoking one at once, a new one at its start', async () => {
    const { claims, token } = await tokenAt(T0 - 60_000);
    const a = instance(T0);
    const b = instance(T0);
    expect(await a.introspect(token)).toMatchObject({ active: true, jti: claims.jti });
    expect(await b.introspect(token)).toMatchObject({ active: true });

    a.advanceTo(T0 + 1_200);
    await a.revoke(claims);
    expect(await a.introspect(token)).toEqual({ active: false });

    // B refreshed at T0; until T0 + 500 it answers from memory, then its first check queries and sees it.
    b.advanceTo(T0 + 1_300);
    expect(await b.introspect(token)).toEqual({ active: false });
    expect(b.revocations.refreshCount).toBe(2);

    const c = instance(T0 + 1_400);
    expect(await c.introspect(token)).toEqual({ active: false });
  });

  it('is not seen before the interval is over: the set is served from memory, without a query per check', async () => {
    const { claims, token } = await tokenAt(T0);
    const a = instance(T0 + 10_000);
    const b = instance(T0 + 10_000);
    expect(await b.introspect(token)).toMatchObject({ active: true });
    a.advanceTo(T0 + 10_100);
    await a.revoke(claims);
    for (const at of [10_100, 10_200, 10_499]) {
      b.advanceTo(T0 + at);
      expect(await b.introspect(token)).toMatchObject({ active: true });
    }
    expect(b.revocations.refreshCount).toBe(1);
    b.advanceTo(T0 + 10_500);
    expect(await b.introspect(token)).toEqual({ active: false });
  });

  it('leaves other tokens of the same person active', async () => {
    const first = await tokenAt(T0 + 20_000);
    const second = await tokenAt(T0 + 20_000);
    const a = instance(T0 + 20_000);
    const b = instance(T0 + 20_000);
    await a.revoke(first.claims);
    b.advanceTo(T0 + 20_600);
    expect(await b.introspect(first.token)).toEqual({ active: false });
    expect(await b.introspect(second.token)).toMatchObject({ active: true, jti: second.claims.jti });
  });
});
