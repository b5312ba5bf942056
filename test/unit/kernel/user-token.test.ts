import { createPublicKey } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTokenClaims } from '../../../functions/auth-verify/domain/tokens';
import { createLocalTokenSigner, ensureLocalSigningKey } from '../../../functions/auth-verify/signing-key';
import { createBearerVerifier, keySetOfPublicKey, userTokenEnvSchema } from '../../../shared/user-token';

/**
 * The public cloud verifies persons' tokens with the signing key's public half alone (read from KMS there): the
 * key set built from a DER SPKI must accept what the hub signs and refuse what another key signs.
 */
const ISSUER = 'https://hub.zwfw.local/dev';
let dir: string;
let keyFile: string;
let otherKeyFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zwfw-user-token-'));
  keyFile = join(dir, 'signing.jwk');
  otherKeyFile = join(dir, 'other.jwk');
  await ensureLocalSigningKey(keyFile);
  await ensureLocalSigningKey(otherKeyFile);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The public half as KMS GetPublicKey returns it: DER SubjectPublicKeyInfo. */
const spkiOf = async (file: string): Promise<Uint8Array> => {
  const [jwk] = (await createLocalTokenSigner(file).publicJwks()).keys;
  const { kty, crv, x, y } = jwk as { kty: string; crv: string; x: string; y: string };
  return createPublicKey({ key: { kty, crv, x, y }, format: 'jwk' }).export({ format: 'der', type: 'spki' });
};

const tokenSignedBy = (file: string, now = new Date()) =>
  createLocalTokenSigner(file).sign(
    accessTokenClaims({
      issuer: ISSUER,
      audience: 'app-citizen',
      person: { sub: 'u_abcdefghijklmnopqrstuv', assuranceLevel: 'L2', authMethod: 'password' },
      now,
      ttlSeconds: 3600,
    }),
  );

describe('verifying tokens with the public key alone', () => {
  it('accepts a token the hub signed and refuses one signed by another key', async () => {
    const verify = createBearerVerifier({ keys: keySetOfPublicKey(() => spkiOf(keyFile)), issuer: ISSUER });
    expect(await verify(await tokenSignedBy(keyFile))).toMatchObject({ sub: 'u_abcdefghijklmnopqrstuv' });
    expect(await verify(await tokenSignedBy(otherKeyFile))).toBeUndefined();
  });

  it('fetches the key once, and again only after a failed fetch (a 503 then, never a refusal)', async () => {
    let fetches = 0;
    const verify = createBearerVerifier({
      keys: keySetOfPublicKey(async () => {
        fetches++;
        if (fetches === 1) throw new Error('KMS is unreachable');
        return spkiOf(keyFile);
      }),
      issuer: ISSUER,
    });
    const token = await tokenSignedBy(keyFile);
    await expect(verify(token)).rejects.toThrow('KMS is unreachable');
    expect(await verify(token)).toBeDefined();
    expect(await verify(token)).toBeDefined();
    expect(fetches).toBe(2);
  });

  it('needs the JWKS URL or the signing key ARN in the environment', () => {
    expect(userTokenEnvSchema.safeParse({ TOKEN_ISSUER: ISSUER }).success).toBe(false);
    expect(
      userTokenEnvSchema.safeParse({
        TOKEN_ISSUER: ISSUER,
        TOKEN_SIGNING_KEY_ARN: 'arn:aws:kms:cn-north-1:111111111111:alias/zwfw-prod-token-signing',
      }).success,
    ).toBe(true);
  });
});
