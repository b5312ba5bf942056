import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  base64url,
  calculateJwkThumbprint,
  compactVerify,
  createLocalJWKSet,
  importJWK,
  jwtVerify,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTokenClaims, createTokenVerifier } from '../../../functions/auth-verify/domain/tokens';
import {
  createKmsTokenSigner,
  createLocalTokenSigner,
  derToJose,
  ensureLocalSigningKey,
  type KmsSigningPort,
} from '../../../functions/auth-verify/signing-key';

const ISSUER = 'https://hub.zwfw.local/test';
const NOW = new Date('2026-11-21T02:00:00Z');
const claims = () =>
  accessTokenClaims({
    issuer: ISSUER,
    audience: 'app-citizen',
    person: { sub: 'u_AAAAAAAAAAAAAAAAAAAAAA', assuranceLevel: 'L2', authMethod: 'dev' },
    now: NOW,
    ttlSeconds: 3600,
  });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'signing-key-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A DER INTEGER of `bytes` (positive: a 0x00 is prepended when the high bit is set). */
function derInteger(bytes: number[]): number[] {
  const body = (bytes[0] ?? 0) & 0x80 ? [0, ...bytes] : bytes;
  return [0x02, body.length, ...body];
}
const derSequence = (...parts: number[][]) => {
  const body = parts.flat();
  return Uint8Array.from([0x30, body.length, ...body]);
};

describe('derToJose', () => {
  it('pads short integers and strips the sign byte of high ones to 32-byte r||s', () => {
    const r = [0x80, ...Array(31).fill(0x11)]; // high bit set: DER prepends 0x00
    const s = [0x7f, 0x22]; // short: leading zero bytes dropped by DER
    const jose = derToJose(derSequence(derInteger(r), derInteger(s)), 32);
    expect(jose.length).toBe(64);
    expect([...jose.subarray(0, 32)]).toEqual(r);
    expect([...jose.subarray(32)]).toEqual([...Array(30).fill(0), 0x7f, 0x22]);
  });

  it('converts signatures node:crypto makes in DER, and jose verifies them', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicJwk = publicKey.export({ format: 'jwk' });
    const key = await importJWK({ ...publicJwk, alg: 'ES256' }, 'ES256');
    // Many signatures, so the short-r, short-s and high-bit cases all occur (each has p ≈ 1/2 or 1/256).
    for (let i = 0; i < 300; i++) {
      const signingInput = `${base64url.encode('{"alg":"ES256"}')}.${base64url.encode(`{"n":${i}}`)}`;
      const der = nodeSign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'der' });
      const jws = `${signingInput}.${base64url.encode(derToJose(der, 32))}`;
      const { payload } = await compactVerify(jws, key);
      expect(JSON.parse(new TextDecoder().decode(payload))).toEqual({ n: i });
    }
  });

  it('refuses anything that is not exactly SEQUENCE { INTEGER, INTEGER }', () => {
    const good = derSequence(derInteger([1]), derInteger([2]));
    expect(() => derToJose(Uint8Array.from([...good, 0]), 32)).toThrow(/trailing/);
    expect(() => derToJose(Uint8Array.from([0x31, ...good.subarray(1)]), 32)).toThrow(/tag/);
    expect(() => derToJose(derSequence(derInteger([1])), 32)).toThrow();
    expect(() => derToJose(derSequence(derInteger(Array(33).fill(0x11)), derInteger([2])), 32)).toThrow(
      /longer/,
    );
    expect(() => derToJose(derSequence([0x02, 0x01, 0x80], derInteger([2])), 32)).toThrow(/negative/);
    expect(() => derToJose(Uint8Array.from([0x30, 0x10, 0x02]), 32)).toThrow(/past the end/);
  });
});

describe('ensureLocalSigningKey', () => {
  it('creates a private P-256 JWK with its thumbprint as kid, mode 0600, and leaves it alone afterwards', async () => {
    const path = join(dir, 'nested', 'signing-key.json');
    const first = await ensureLocalSigningKey(path);
    expect(first.created).toBe(true);
    const jwk = JSON.parse(await readFile(path, 'utf8'));
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: first.kid });
    expect(jwk.d).toEqual(expect.any(String));
    expect(first.kid).toBe(await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }));
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    const again = await ensureLocalSigningKey(path);
    expect(again).toEqual({ kid: first.kid, created: false });
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(jwk);
  });

  it('gives racing callers one key', async () => {
    const path = join(dir, 'raced.json');
    const results = await Promise.all(Array.from({ length: 5 }, () => ensureLocalSigningKey(path)));
    expect(new Set(results.map((r) => r.kid)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('refuses a file that is not a P-256 private JWK whose kid is its thumbprint', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(path, '{"kty":"oct","k":"c2VjcmV0"}');
    await expect(ensureLocalSigningKey(path)).rejects.toThrow(/not a P-256 private JWK/);
    const good = join(dir, 'good.json');
    await ensureLocalSigningKey(good);
    const jwk = JSON.parse(await readFile(good, 'utf8'));
    await writeFile(path, JSON.stringify({ ...jwk, kid: 'someone-elses-kid' }));
    await expect(ensureLocalSigningKey(path)).rejects.toThrow(/thumbprint/);
  });
});

describe('local token signer', () => {
  it('signs ES256 at+jwt tokens with the kid that the published JWKS holds', async () => {
    const path = join(dir, 'local.json');
    const { kid } = await ensureLocalSigningKey(path);
    const signer = createLocalTokenSigner(path);
    const jwks = await signer.publicJwks();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toEqual({
      kty: 'EC',
      crv: 'P-256',
      x: expect.any(String),
      y: expect.any(String),
      kid,
      alg: 'ES256',
      use: 'sig',
    });
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const token = await signer.sign(claims());
    const { protectedHeader, payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      currentDate: NOW,
    });
    expect(protectedHeader).toEqual({ alg: 'ES256', kid, typ: 'at+jwt' });
    const { jti: _jti, ...expected } = claims();
    expect(payload).toEqual({ ...expected, jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) });
  });
});

describe('KMS token signer', () => {
  // KMS itself cannot run here. The port stands in for it with a node:crypto key that answers exactly as KMS
  // does: DER ECDSA signatures over a SHA-256 digest, and the public key as DER SubjectPublicKeyInfo.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const messagesSigned: string[] = [];
  const port: KmsSigningPort = {
    async sign(message) {
      messagesSigned.push(Buffer.from(message).toString('ascii'));
      return nodeSign('sha256', message, { key: privateKey, dsaEncoding: 'der' });
    },
    publicKeySpki: async () => publicKey.export({ format: 'der', type: 'spki' }),
  };

  it('produces tokens the generic verifier accepts, with the thumbprint of the KMS public key as kid', async () => {
    const signer = createKmsTokenSigner(port);
    const jwks = await signer.publicJwks();
    const publicJwk = publicKey.export({ format: 'jwk' });
    expect(jwks.keys[0]).toMatchObject({ x: publicJwk.x, y: publicJwk.y, alg: 'ES256', use: 'sig' });
    expect(jwks.keys[0]?.kid).toBe(
      await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: publicJwk.x, y: publicJwk.y }),
    );
    const verifier = createTokenVerifier({
      issuer: ISSUER,
      jwks: () => signer.publicJwks(),
      clock: () => NOW,
    });
    for (let i = 0; i < 20; i++) {
      const token = await signer.sign(claims());
      expect(await verifier.verify(token)).toMatchObject({ aud: 'app-citizen', iss: ISSUER });
    }
    // KMS sees the JWS signing input only (header.payload), never a private key or a finished token.
    expect(messagesSigned).toHaveLength(20);
    expect(messagesSigned.every((m) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(m))).toBe(true);
  });
});
