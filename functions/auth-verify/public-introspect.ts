import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { routedHandler } from '../../shared/entry';
import { type HttpDependencyOverrides, httpHandler } from '../../shared/http';
import { Problem } from '../../shared/problem';
import { kmsPublicKeySpki } from '../../shared/published-token-key';
import { type BearerVerifier, bearerVerifierFromEnvironment } from '../../shared/user-token';
import { activeToken, INACTIVE, type IntrospectionResponse } from './domain/introspection';
import { TOKEN_ROUTES } from './tokens-api';

/**
 * `POST /v1/tokens/introspect` in the public cloud (DESIGN §4), for citizens' apps: the same contract and answer as
 * the private route (tokens-api.ts), signed the same way, but verified statelessly with the signing key's public
 * half (shared/user-token.ts: read from KMS through the key's alias; locally the hub's JWKS) — the public cloud may
 * not call the private one and keeps no token state.
 *
 * Revocations are NOT seen here: they live in auth verification's table in the private cloud, and nothing carries
 * them across. A revoked token stays `active: true` on this route until it expires (the access-token lifetime,
 * 1 h by default); a platform that must honour single logout at once introspects on the private API.
 */
export async function introspectStatelessly(
  token: string,
  verify: BearerVerifier,
): Promise<IntrospectionResponse> {
  const claims = await verify(token);
  return claims ? activeToken(claims) : INACTIVE;
}

const keysUnavailable = () =>
  new Problem({
    status: 503,
    slug: 'token-keys-unavailable',
    title: 'Service unavailable',
    detail: 'The token signing keys could not be read; try again.',
    headers: { 'retry-after': '5' },
  });

export function createPublicIntrospection(verifier: () => BearerVerifier, http?: HttpDependencyOverrides) {
  const introspect = httpHandler(
    {
      contract: TOKEN_ROUTES.introspect,
      handle: async ({ body, metrics }) => {
        let answer: IntrospectionResponse;
        try {
          answer = await introspectStatelessly(body.token, verifier());
        } catch {
          // The verifier throws only when the key set cannot be read: our trouble, never "inactive".
          throw keysUnavailable();
        }
        metrics.addMetric(answer.active ? 'TokensActive' : 'TokensInactive', MetricUnit.Count, 1);
        return { status: 200, headers: { 'cache-control': 'no-store' }, body: answer };
      },
    },
    http,
  );
  return { introspect };
}

export const handler = routedHandler({
  name: 'public token introspection API',
  contracts: { introspect: TOKEN_ROUTES.introspect },
  // Built on first use, so that importing the module (tests, synth) needs no environment.
  build: async () => {
    const verifier = bearerVerifierFromEnvironment(kmsPublicKeySpki);
    return createPublicIntrospection(() => verifier);
  },
});
