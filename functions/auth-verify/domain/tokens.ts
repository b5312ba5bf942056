import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import * as z from 'zod';
import { assuranceLevelSchema } from './assurance';
import { SUBJECT_PATTERN } from './subject';
import { authMethodSchema, type SignedInPerson } from './tickets';

/**
 * Access tokens: ES256 JWTs (RFC 9068 profile, header `typ: at+jwt`) with the hub as issuer, the platform that
 * validated the ticket as audience, and the person's pseudonymous `sub`, assurance level and sign-in method.
 * The signing key is KMS-held in the cloud and a local key file on one machine (signing-key.ts); verification
 * here needs only the public JWKS, so any process can verify without a network call.
 */

export const SIGNING_ALGORITHM = 'ES256';
export const ACCESS_TOKEN_TYPE = 'at+jwt';
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 3600;
/** Larger than any token the hub signs; longer input is refused before it is parsed. */
export const MAX_TOKEN_LENGTH = 4096;
const JTI_BYTES = 16;

export const jtiSchema = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/);

export const accessTokenClaimsSchema = z.object({
  iss: z.string().min(1),
  sub: z.string().regex(SUBJECT_PATTERN),
  aud: z.string().min(1),
  exp: z.number().int(),
  iat: z.number().int(),
  nbf: z.number().int(),
  jti: jtiSchema,
  assurance_level: assuranceLevelSchema,
  auth_method: authMethodSchema,
});
export type AccessTokenClaims = z.output<typeof accessTokenClaimsSchema>;

/** 128 random bits: unguessable, and unique without coordination between instances. */
export const newJti = (random: (bytes: number) => Buffer = randomBytes): string =>
  random(JTI_BYTES).toString('base64url');

export function accessTokenClaims(input: {
  issuer: string;
  audience: string;
  person: Pick<SignedInPerson, 'sub' | 'assuranceLevel' | 'authMethod'>;
  now: Date;
  ttlSeconds: number;
  jti?: string;
}): AccessTokenClaims {
  const iat = Math.floor(input.now.getTime() / 1000);
  return {
    iss: input.issuer,
    sub: input.person.sub,
    aud: input.audience,
    exp: iat + input.ttlSeconds,
    iat,
    nbf: iat,
    jti: input.jti ?? newJti(),
    assurance_level: input.person.assuranceLevel,
    auth_method: input.person.authMethod,
  };
}

/** Signs claims into a compact JWS. Implementations: local JWK file, KMS (signing-key.ts). */
export interface TokenSigner {
  readonly algorithm: typeof SIGNING_ALGORITHM;
  sign(claims: AccessTokenClaims): Promise<string>;
  /** The public keys tokens are verified with, as published at /.well-known/jwks.json. */
  publicJwks(): Promise<JSONWebKeySet>;
}

/** Verifies a token; `undefined` for anything that is not a currently valid hub access token. */
export interface TokenVerifier {
  verify(token: string): Promise<AccessTokenClaims | undefined>;
}

export interface TokenVerifierOptions {
  issuer: string;
  /** The published keys; read once. A failure to read them is thrown, never mistaken for a bad token. */
  jwks: () => Promise<JSONWebKeySet>;
  clock?: () => Date;
}

/**
 * Checks, in order: length, compact JWS with `alg: ES256` (so `none` and HMAC tricks fail), a `kid` naming a
 * published key, the signature, `typ: at+jwt`, issuer, `nbf`/`exp` against the clock (no leeway: every issuer
 * instance shares the NTP-disciplined clock of its platform), and finally the claim shapes.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const clock = options.clock ?? (() => new Date());
  let keySet: Promise<ReturnType<typeof createLocalJWKSet>> | undefined;
  const keys = () => {
    if (!keySet) {
      keySet = options.jwks().then((jwks) => createLocalJWKSet(jwks));
      // A failed read is not kept: the next verification tries again.
      keySet.catch(() => {
        keySet = undefined;
      });
    }
    return keySet;
  };
  return {
    async verify(token) {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH)
        return undefined;
      const resolveKey = await keys();
      let payload: JWTPayload;
      try {
        const verified = await jwtVerify(token, resolveKey, {
          algorithms: [SIGNING_ALGORITHM],
          typ: ACCESS_TOKEN_TYPE,
          issuer: options.issuer,
          currentDate: clock(),
          requiredClaims: ['sub', 'aud', 'exp', 'iat', 'nbf', 'jti'],
        });
        if (verified.protectedHeader.kid === undefined) return undefined;
        payload = verified.payload;
      } catch {
        // Every verification failure means the same to a caller: not an active token.
        return undefined;
      }
      const claims = accessTokenClaimsSchema.safeParse(payload);
      return claims.success ? claims.data : undefined;
    },
  };
}
