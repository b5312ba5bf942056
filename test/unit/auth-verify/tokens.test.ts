import {
  base64url,
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  SignJWT,
} from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { introspectToken } from '../../../functions/auth-verify/domain/introspection';
import type { RevocationCheck } from '../../../functions/auth-verify/domain/revocations';
import {
  type AccessTokenClaims,
  accessTokenClaims,
  createTokenVerifier,
  MAX_TOKEN_LENGTH,
  newJti,
  type TokenVerifier,
} from '../../../functions/auth-verify/domain/tokens';

const ISSUER = 'https://hub.zwfw.local/test';
const NOW = new Date('2026-11-21T02:00:00Z');
const NOW_S = NOW.getTime() / 1000;
const SUB = 'u_8Jq2vXbN0kTq4yR7wLm3sA';

interface TestKey {
  privateKey: CryptoKey;
  jwk: JWK;
}
async function testKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey: privateKey as CryptoKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' } };
}

let hubKey: TestKey;
let otherKey: TestKey;
let verifier: TokenVerifier;
let clock = NOW;

const claims = (overrides: Partial<AccessTokenClaims> = {}): AccessTokenClaims => ({
  ...accessTokenClaims({
    issuer: ISSUER,
    audience: 'app-citizen',
    person: { sub: SUB, assuranceLevel: 'L2', authMethod: 'dev' },
    now: NOW,
    ttlSeconds: 3600,
  }),
  ...overrides,
});

async function signed(
  payload: Record<string, unknown> = claims(),
  { key = hubKey, header = {} }: { key?: TestKey; header?: Record<string, unknown> } = {},
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', kid: key.jwk.kid, typ: 'at+jwt', ...header })
    .sign(key.privateKey);
}

beforeAll(async () => {
  hubKey = await testKey('hub-key');
  otherKey = await testKey('other-key');
  const jwks: JSONWebKeySet = { keys: [hubKey.jwk] };
  verifier = createTokenVerifier({ issuer: ISSUER, jwks: async () => jwks, clock: () => clock });
});

describe('access token claims', () => {
  it('carry issuer, audience, subject, lifetime, a fresh jti, assurance and method', () => {
    const c = accessTokenClaims({
      issuer: ISSUER,
      audience: 'region-330000',
      person: { sub: SUB, assuranceLevel: 'L3', authMethod: 'face' },
      now: new Date('2026-11-21T02:00:00.900Z'),
      ttlSeconds: 600,
    });
    expect(c).toEqual({
      iss: ISSUER,
      sub: SUB,
      aud: 'region-330000',
      iat: NOW_S,
      nbf: NOW_S,
      exp: NOW_S + 600,
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      assurance_level: 'L3',
      auth_method: 'face',
    });
    expect(newJti()).not.toBe(newJti());
  });
});

describe('token verifier', () => {
  it('accepts a token the hub key signed, until it expires', async () => {
    const token = await signed();
    expect(await verifier.verify(token)).toEqual(claims({ jti: expect.any(String) as unknown as string }));
    clock = new Date((NOW_S + 3599) * 1000);
    expect(await verifier.verify(token)).toBeDefined();
    clock = new Date((NOW_S + 3600) * 1000);
    expect(await verifier.verify(token)).toBeUndefined();
    clock = NOW;
  });

  const unsigned = (header: object, payload: object) =>
    `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}.`;

  it.each([
    ['alg none', async () => unsigned({ alg: 'none', typ: 'at+jwt', kid: 'hub-key' }, claims())],
    [
      'alg none with a signature copied from a real token',
      async () => {
        const real = await signed();
        return `${unsigned({ alg: 'none', typ: 'at+jwt', kid: 'hub-key' }, claims())}${real.split('.')[2]}`;
      },
    ],
    [
      'HS256 keyed with the public key (algorithm confusion)',
      async () =>
        new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS256', kid: 'hub-key', typ: 'at+jwt' })
          .sign(new TextEncoder().encode(JSON.stringify(hubKey.jwk))),
    ],
    ['another key under its own kid', async () => signed(claims(), { key: otherKey })],
    [
      'another key claiming the hub kid',
      async () => signed(claims(), { key: otherKey, header: { kid: 'hub-key' } }),
    ],
    ['no kid', async () => signed(claims(), { header: { kid: undefined } })],
    ['another typ', async () => signed(claims(), { header: { typ: 'JWT' } })],
    ['expired', async () => signed(claims({ iat: NOW_S - 7200, nbf: NOW_S - 7200, exp: NOW_S - 1 }))],
    ['not yet valid', async () => signed(claims({ nbf: NOW_S + 60 }))],
    ['another issuer', async () => signed(claims({ iss: 'https://evil.example' }))],
    [
      'a tampered payload',
      async () => {
        const [header, , signature] = (await signed()).split('.');
        const payload = base64url.encode(JSON.stringify(claims({ sub: 'u_BBBBBBBBBBBBBBBBBBBBBB' })));
        return `${header}.${payload}.${signature}`;
      },
    ],
    ['a claim missing (jti)', async () => signed({ ...claims(), jti: undefined })],
    ['an unknown assurance level', async () => signed({ ...claims(), assurance_level: 'L9' })],
    ['an audience list', async () => signed({ ...claims(), aud: ['app-citizen', 'region-330000'] })],
    ['malformed', async () => 'not.a.jwt'],
    ['empty', async () => ''],
    ['over-long', async () => `${await signed()}${'A'.repeat(MAX_TOKEN_LENGTH)}`],
  ])('refuses %s', async (_, make) => {
    expect(await verifier.verify(await make())).toBeUndefined();
  });

  it('throws when the keys cannot be read, rather than calling a good token bad', async () => {
    const broken = createTokenVerifier({
      issuer: ISSUER,
      jwks: async () => {
        throw new Error('KMS unavailable');
      },
    });
    await expect(broken.verify(await signed())).rejects.toThrow('KMS unavailable');
  });
});

describe('introspectToken', () => {
  const revoked = new Set<string>();
  const revocations: RevocationCheck = { isRevoked: async (jti) => revoked.has(jti) };

  it('answers the RFC 7662 members for an active token', async () => {
    const c = claims();
    expect(await introspectToken(await signed(c), { verifier, revocations })).toEqual({
      active: true,
      iss: ISSUER,
      sub: SUB,
      aud: 'app-citizen',
      client_id: 'app-citizen',
      exp: c.exp,
      iat: c.iat,
      nbf: c.nbf,
      jti: c.jti,
      token_type: 'Bearer',
      assurance_level: 'L2',
      auth_method: 'dev',
    });
  });

  it('answers only { active: false } for a revoked or bad token', async () => {
    const c = claims();
    revoked.add(c.jti);
    expect(await introspectToken(await signed(c), { verifier, revocations })).toEqual({ active: false });
    expect(await introspectToken('garbage', { verifier, revocations })).toEqual({ active: false });
  });

  it('does not consult revocations for a token that fails verification', async () => {
    let asked = 0;
    const counting: RevocationCheck = {
      isRevoked: async () => {
        asked++;
        return false;
      },
    };
    await introspectToken(await signed(claims(), { key: otherKey }), { verifier, revocations: counting });
    expect(asked).toBe(0);
  });
});
