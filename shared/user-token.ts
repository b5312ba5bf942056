import type { APIGatewayProxyEvent } from 'aws-lambda';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import * as z from 'zod';
import {
  ACCESS_TOKEN_TYPE,
  type AccessTokenClaims,
  accessTokenClaimsSchema,
  MAX_TOKEN_LENGTH,
  SIGNING_ALGORITHM,
} from '../functions/auth-verify/domain/tokens';
import { createKmsTokenSigner } from '../functions/auth-verify/signing-key';
import type { AuthenticatedClient } from './client-registry';
import { loadConfig } from './config';
import { once } from './entry';
import { Problem, unauthorized } from './problem';

/**
 * A person's hub access token carried by a platform on the person's behalf. The platform signs the request as
 * itself (shared/signing.ts) and passes the person's token as `Authorization: Bearer`; routes that act for a
 * person (the user space `/v1/me/*`, a citizen's evaluation) accept only a token issued to that same platform
 * (RFC 9068 §4: `aud` is the platform that validated the person's ticket).
 *
 * The claims contract is auth verification's (functions/auth-verify/domain/tokens.ts): pure code, no AWS.
 */
export type { AccessTokenClaims };

/** A hub access token's claims, or undefined for anything that is not a valid token of this issuer. */
export type BearerVerifier = (token: string) => Promise<AccessTokenClaims | undefined>;

/** Failures that say nothing about the token: the key set could not be fetched or read. */
const KEY_SET_FAILURES = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID']);

/**
 * Verifies a hub access token against the published key set (jose `createRemoteJWKSet`: fetched on first use,
 * refetched when a token names an unknown `kid`, cached in between). The same checks as auth-verify's own
 * verifier: ES256 only, `typ: at+jwt`, the hub as issuer, `nbf`/`exp`, a `kid`, and the claim shapes.
 * Revocations are not seen here (they live in auth-verify's table): a revoked token stays usable until it
 * expires (`ACCESS_TOKEN_TTL_SECONDS`, 1 h by default).
 */
export function createBearerVerifier(options: {
  keys: JWTVerifyGetKey;
  issuer: string;
  clock?: () => Date;
}): BearerVerifier {
  const clock = options.clock ?? (() => new Date());
  return async (token) => {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return undefined;
    try {
      const { payload, protectedHeader } = await jwtVerify(token, options.keys, {
        algorithms: [SIGNING_ALGORITHM],
        typ: ACCESS_TOKEN_TYPE,
        issuer: options.issuer,
        currentDate: clock(),
        requiredClaims: ['sub', 'aud', 'exp', 'iat', 'nbf', 'jti'],
      });
      if (protectedHeader.kid === undefined) return undefined;
      const claims = accessTokenClaimsSchema.safeParse(payload);
      return claims.success ? claims.data : undefined;
    } catch (error) {
      if (error instanceof joseErrors.JOSEError && !KEY_SET_FAILURES.has(error.code)) return undefined;
      throw error;
    }
  };
}

/**
 * Where a function finds the token keys: the hub's own JWKS route (private cloud, and every function of the local
 * hub), or — in the public cloud, which may not call the private one — the signing key's public half read from
 * KMS through its alias (infra/constructs/user-tokens.ts `bindPublishedSigningKey`). The URL wins when both are set.
 */
export const userTokenEnvSchema = z
  .object({
    TOKEN_ISSUER: z.url(),
    TOKEN_JWKS_URL: z.url().optional(),
    TOKEN_SIGNING_KEY_ARN: z.string().startsWith('arn:').optional(),
  })
  .refine((env) => env.TOKEN_JWKS_URL !== undefined || env.TOKEN_SIGNING_KEY_ARN !== undefined, {
    message: 'Set TOKEN_JWKS_URL or TOKEN_SIGNING_KEY_ARN',
  });

/** Reads the signing key's public half (DER SPKI) by the key's ARN: shared/published-token-key.ts `kmsPublicKeySpki`. */
export type PublishedKeyReader = (keyArn: string) => Promise<Uint8Array>;

/**
 * The verifier a Lambda entry point builds from its environment. Only the public cloud's entry points may take the
 * key from TOKEN_SIGNING_KEY_ARN, and they pass the KMS reader: taking it as an argument, not importing it here,
 * keeps the KMS client out of every private-cloud bundle (esbuild cannot drop what a shared module references,
 * and a dynamic import of it measured larger and slower).
 */
export function bearerVerifierFromEnvironment(
  readPublishedKey?: PublishedKeyReader,
  env: NodeJS.ProcessEnv = process.env,
): BearerVerifier {
  const config = loadConfig(userTokenEnvSchema, env);
  return createBearerVerifier({ keys: keySetOf(config, readPublishedKey), issuer: config.TOKEN_ISSUER });
}

function keySetOf(config: z.output<typeof userTokenEnvSchema>, readPublishedKey?: PublishedKeyReader) {
  if (config.TOKEN_JWKS_URL) return createRemoteJWKSet(new URL(config.TOKEN_JWKS_URL));
  const keyArn = config.TOKEN_SIGNING_KEY_ARN as string;
  if (!readPublishedKey) {
    // A deployment mistake, named without values: this entry point verifies against a JWKS URL only.
    throw new Error('TOKEN_SIGNING_KEY_ARN is read by public-cloud entry points only; set TOKEN_JWKS_URL');
  }
  return keySetOfPublicKey(() => readPublishedKey(keyArn));
}

/**
 * A key set made of one public key (DER SPKI) fetched on first use — again after a failure, never again after a
 * success: KMS signing keys do not rotate in place (a new key means a new alias target and a redeploy).
 */
export function keySetOfPublicKey(fetchSpki: () => Promise<Uint8Array>): JWTVerifyGetKey {
  const keySet = once(async () => {
    const signer = createKmsTokenSigner({
      publicKeySpki: fetchSpki,
      sign: () => Promise.reject(new Error('this key set only verifies')),
    });
    return createLocalJWKSet(await signer.publicJwks());
  });
  return async (header, token) => (await keySet())(header, token);
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i;

const bearerRefused = (slug: 'bearer-token-missing' | 'bearer-token-invalid', detail: string) =>
  unauthorized(slug, detail, { headers: { 'www-authenticate': 'Bearer realm="zwfw-hub"' } });

/**
 * The person a signed platform request acts for: the verified claims of its Bearer token, which must have been
 * issued to the calling platform. Missing → 401 bearer-token-missing; invalid, expired or another platform's
 * → 401 bearer-token-invalid; the key set unreadable → 503 (our trouble: a 401 would sign the person out).
 */
export async function personOf(
  event: Pick<APIGatewayProxyEvent, 'headers'>,
  client: Pick<AuthenticatedClient, 'clientId'>,
  verify: BearerVerifier,
): Promise<AccessTokenClaims> {
  const match = BEARER.exec(event.headers?.authorization ?? '');
  if (!match?.[1]) {
    throw bearerRefused('bearer-token-missing', "Send the person's access token as a Bearer token.");
  }
  const claims = await verifyOrUnavailable(verify, match[1]);
  if (!claims || claims.aud !== client.clientId) {
    throw bearerRefused('bearer-token-invalid', 'The access token is not valid for this client.');
  }
  return claims;
}

async function verifyOrUnavailable(verify: BearerVerifier, token: string) {
  try {
    return await verify(token);
  } catch {
    throw new Problem({
      status: 503,
      slug: 'token-keys-unavailable',
      title: 'Service unavailable',
      detail: 'The token signing keys could not be read; try again.',
      headers: { 'retry-after': '5' },
    });
  }
}
