import type { AssuranceLevel } from './assurance';
import type { RevocationCheck } from './revocations';
import type { AuthMethod } from './tickets';
import type { AccessTokenClaims, TokenVerifier } from './tokens';

/**
 * Token introspection in the shape of RFC 7662. Anything that is not a currently valid, unrevoked hub access
 * token — malformed, `alg: none`, unknown `kid`, another key, tampered, another issuer, not yet valid, expired,
 * revoked — is `{ active: false }` and nothing else, so the answer never tells an attacker which check failed.
 * This function needs no HTTP and no table read per call: the benchmark calls it directly.
 */

export interface ActiveToken {
  active: true;
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  /** RFC 7662: the client the token was issued to; for hub tokens the audience. */
  client_id: string;
  token_type: 'Bearer';
  assurance_level: AssuranceLevel;
  auth_method: AuthMethod;
}

export type IntrospectionResponse = ActiveToken | { active: false };

export const INACTIVE: { active: false } = Object.freeze({ active: false });

export interface IntrospectionDependencies {
  verifier: TokenVerifier;
  revocations: RevocationCheck;
}

export async function introspectToken(
  token: string,
  { verifier, revocations }: IntrospectionDependencies,
): Promise<IntrospectionResponse> {
  const claims = await verifier.verify(token);
  if (!claims) return INACTIVE;
  // Only a token that is otherwise valid pays for the (rare) refresh of the revocation set.
  if (await revocations.isRevoked(claims.jti)) return INACTIVE;
  return activeToken(claims);
}

export const activeToken = (claims: AccessTokenClaims): ActiveToken => ({
  active: true,
  iss: claims.iss,
  sub: claims.sub,
  aud: claims.aud,
  exp: claims.exp,
  iat: claims.iat,
  nbf: claims.nbf,
  jti: claims.jti,
  client_id: claims.aud,
  token_type: 'Bearer',
  assurance_level: claims.assurance_level,
  auth_method: claims.auth_method,
});
