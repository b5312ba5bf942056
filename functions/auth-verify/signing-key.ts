import { createPublicKey } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GetPublicKeyCommand, type KMSClient, SignCommand } from '@aws-sdk/client-kms';
import {
  base64url,
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  SignJWT,
} from 'jose';
import * as z from 'zod';
import {
  ACCESS_TOKEN_TYPE,
  type AccessTokenClaims,
  SIGNING_ALGORITHM,
  type TokenSigner,
} from './domain/tokens';

/**
 * The access-token signing key. In the cloud it is a KMS asymmetric key (ECC_NIST_P256, SIGN_VERIFY) whose
 * private half never leaves KMS (TOKEN_SIGNING_KEY_ARN); on one machine it is a private JWK file the local
 * runtime creates before any worker starts (HUB_SIGNING_KEY_FILE, which wins when both are set, as the other
 * local-only variables do). Either way the key id (`kid`) is the RFC 7638 thumbprint of the public key, so it
 * changes exactly when the key does.
 */

const ecPrivateJwkSchema = z.object({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: z.string().min(1),
  y: z.string().min(1),
  d: z.string().min(1),
  kid: z.string().min(1),
});
type EcPrivateJwk = z.output<typeof ecPrivateJwkSchema>;

/** The public half of a key as the JWKS publishes it. */
export interface PublicSigningJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  alg: typeof SIGNING_ALGORITHM;
  use: 'sig';
}

const publicJwkOf = (jwk: { x: string; y: string }, kid: string): PublicSigningJwk => ({
  kty: 'EC',
  crv: 'P-256',
  x: jwk.x,
  y: jwk.y,
  kid,
  alg: SIGNING_ALGORITHM,
  use: 'sig',
});

const thumbprintOf = (jwk: { x: string; y: string }) =>
  calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, 'sha256');

/**
 * Creates the local signing key file if it is missing: an ES256 key pair as a private JWK with its `kid`,
 * readable by the owner only (0600). Idempotent, and safe when two processes race: the file is created
 * exclusively, and the loser reads the winner's key. Resolves to the key id.
 */
export async function ensureLocalSigningKey(path: string): Promise<{ kid: string; created: boolean }> {
  const existing = await readLocalSigningKey(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing) return { kid: existing.kid, created: false };

  const { privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
  const exported = await exportJWK(privateKey);
  const jwk = ecPrivateJwkSchema.parse({ ...exported, kid: await thumbprintOf(exported as EcPrivateJwk) });
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    await writeFile(path, `${JSON.stringify({ ...jwk, alg: SIGNING_ALGORITHM, use: 'sig' }, null, 2)}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { kid: (await readLocalSigningKey(path)).kid, created: false };
  }
  return { kid: jwk.kid, created: true };
}

/** Reads and checks the key file. Errors name the file, never its content. */
async function readLocalSigningKey(path: string): Promise<EcPrivateJwk> {
  const text = await readFile(path, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`The signing key file ${path} is not JSON.`);
  }
  const result = ecPrivateJwkSchema.safeParse(parsed);
  if (!result.success) throw new Error(`The signing key file ${path} is not a P-256 private JWK with a kid.`);
  if (result.data.kid !== (await thumbprintOf(result.data))) {
    throw new Error(`The kid in ${path} is not the thumbprint of its key.`);
  }
  return result.data;
}

/** Signs with the private JWK in `keyFile` (jose SignJWT). The file is read once, on first use. */
export function createLocalTokenSigner(keyFile: string): TokenSigner {
  let loading: Promise<{ key: CryptoKey | Uint8Array; jwk: EcPrivateJwk }> | undefined;
  const load = () => {
    if (!loading) {
      loading = readLocalSigningKey(keyFile).then(async (jwk) => ({
        jwk,
        key: await importJWK({ ...jwk, alg: SIGNING_ALGORITHM } as JWK, SIGNING_ALGORITHM),
      }));
      loading.catch(() => {
        loading = undefined;
      });
    }
    return loading;
  };
  return {
    algorithm: SIGNING_ALGORITHM,
    async sign(claims) {
      const { key, jwk } = await load();
      return new SignJWT({ ...claims })
        .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: jwk.kid, typ: ACCESS_TOKEN_TYPE })
        .sign(key);
    },
    async publicJwks() {
      const { jwk } = await load();
      return { keys: [publicJwkOf(jwk, jwk.kid) as JWK] };
    },
  };
}

/** What the KMS signer needs of KMS: narrow, so tests can stand in a node:crypto key. */
export interface KmsSigningPort {
  /** ECDSA_SHA_256 over the message (KMS hashes it); the signature DER-encoded, as KMS returns it. */
  sign(message: Uint8Array): Promise<Uint8Array>;
  /** The public key as DER SubjectPublicKeyInfo, as KMS GetPublicKey returns it. */
  publicKeySpki(): Promise<Uint8Array>;
}

/** KMS Sign's limit for MessageType RAW; a token's signing input is a few hundred bytes. */
export const KMS_MAX_RAW_MESSAGE_BYTES = 4096;

/** The port over a real KMS key. Checks the key spec so a wrong key fails at the first use, loudly. */
export function kmsSigningPort(client: KMSClient, keyId: string): KmsSigningPort {
  return {
    async sign(message) {
      if (message.length > KMS_MAX_RAW_MESSAGE_BYTES) {
        throw new Error(`A KMS RAW message holds at most ${KMS_MAX_RAW_MESSAGE_BYTES} bytes.`);
      }
      const { Signature } = await client.send(
        new SignCommand({
          KeyId: keyId,
          Message: message,
          MessageType: 'RAW',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      );
      if (!Signature) throw new Error('KMS Sign returned no signature.');
      return Signature;
    },
    async publicKeySpki() {
      const { PublicKey, KeySpec, KeyUsage } = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
      if (!PublicKey) throw new Error('KMS GetPublicKey returned no key.');
      if (KeySpec !== 'ECC_NIST_P256' || KeyUsage !== 'SIGN_VERIFY') {
        throw new Error('The token signing key must be ECC_NIST_P256 with usage SIGN_VERIFY.');
      }
      return PublicKey;
    },
  };
}

/**
 * Signs through KMS: builds the JWS signing input itself, has KMS sign it (ECDSA_SHA_256), and converts KMS's DER
 * ECDSA signature to the fixed-length r||s JOSE uses (RFC 7518 §3.4). The public key is fetched once.
 */
export function createKmsTokenSigner(port: KmsSigningPort): TokenSigner {
  let publicKey: Promise<PublicSigningJwk> | undefined;
  const loadPublicKey = () => {
    if (publicKey) return publicKey;
    publicKey = port.publicKeySpki().then(async (spki) => {
      const jwk = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({
        format: 'jwk',
      });
      if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) {
        throw new Error('The token signing key is not a P-256 key.');
      }
      return publicJwkOf({ x: jwk.x, y: jwk.y }, await thumbprintOf({ x: jwk.x, y: jwk.y }));
    });
    publicKey.catch(() => {
      publicKey = undefined;
    });
    return publicKey;
  };
  return {
    algorithm: SIGNING_ALGORITHM,
    async sign(claims: AccessTokenClaims) {
      const { kid } = await loadPublicKey();
      const header = { alg: SIGNING_ALGORITHM, kid, typ: ACCESS_TOKEN_TYPE };
      const signingInput = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(claims))}`;
      const der = await port.sign(Buffer.from(signingInput, 'ascii'));
      return `${signingInput}.${base64url.encode(derToJose(der, P256_COORDINATE_BYTES))}`;
    },
    async publicJwks(): Promise<JSONWebKeySet> {
      return { keys: [(await loadPublicKey()) as JWK] };
    },
  };
}

export const P256_COORDINATE_BYTES = 32;

/**
 * DER `SEQUENCE { INTEGER r, INTEGER s }` → r||s, each left-padded to `size` bytes. DER integers are signed and
 * minimal, so r or s may carry a leading 0x00 (high bit set) or be shorter than `size` (leading zero bytes
 * dropped); both are undone here. Anything that is not exactly such a sequence is refused.
 */
export function derToJose(der: Uint8Array, size: number): Uint8Array {
  const reader = new DerReader(der);
  const sequenceEnd = reader.expect(0x30);
  if (sequenceEnd !== der.length) throw new Error('DER signature: trailing bytes after the sequence.');
  const r = reader.integer(size);
  const s = reader.integer(size);
  if (reader.offset !== der.length) throw new Error('DER signature: unexpected content after s.');
  const jose = new Uint8Array(size * 2);
  jose.set(r, size - r.length);
  jose.set(s, size * 2 - s.length);
  return jose;
}

class DerReader {
  offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  /** Reads a tag and a length; returns where the value ends. */
  expect(tag: number): number {
    if (this.bytes[this.offset] !== tag)
      throw new Error(`DER signature: expected tag 0x${tag.toString(16)}.`);
    this.offset++;
    const length = this.length();
    const end = this.offset + length;
    if (end > this.bytes.length) throw new Error('DER signature: length runs past the end.');
    return end;
  }

  /** A positive INTEGER as unsigned big-endian bytes without leading zeros, at most `size` bytes. */
  integer(size: number): Uint8Array {
    const end = this.expect(0x02);
    let value = this.bytes.subarray(this.offset, end);
    this.offset = end;
    if (value.length === 0) throw new Error('DER signature: empty integer.');
    if ((value[0] ?? 0) & 0x80) throw new Error('DER signature: negative integer.');
    while (value.length > 1 && value[0] === 0) value = value.subarray(1);
    if (value.length > size) throw new Error('DER signature: integer longer than the curve order.');
    return value;
  }

  private length(): number {
    const first = this.bytes[this.offset++];
    if (first === undefined) throw new Error('DER signature: truncated length.');
    if (first < 0x80) return first;
    const count = first & 0x7f;
    if (count === 0 || count > 2) throw new Error('DER signature: unsupported length form.');
    let length = 0;
    for (let i = 0; i < count; i++) {
      const byte = this.bytes[this.offset++];
      if (byte === undefined) throw new Error('DER signature: truncated length.');
      length = (length << 8) | byte;
    }
    return length;
  }
}
