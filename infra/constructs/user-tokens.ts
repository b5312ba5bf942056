import { Stack } from 'aws-cdk-lib';
import type { HubFunction } from './hub-function';
import type { HubRestApi } from './hub-rest-api';

/** Where the hub publishes its token keys (auth verification's public JWKS route). */
export const JWKS_PATH = '/.well-known/jwks.json';

/**
 * Lets a function verify a person's access token (shared/user-token.ts `bearerVerifierFromEnvironment`): the
 * JWKS URL of the API's own key route and the issuer. Built from the API id, not `api.url`: the URL names the
 * deployment stage, which depends on the function's own route — a cycle. The local hub points the URL at its
 * gateway.
 */
export function bindUserTokenVerification(
  fn: HubFunction,
  options: { api: HubRestApi; tokenIssuer: string; stage: string },
): HubFunction {
  const stack = Stack.of(fn);
  fn.addEnvironment(
    'TOKEN_JWKS_URL',
    `https://${options.api.api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/${options.stage}${JWKS_PATH}`,
  );
  fn.addEnvironment('TOKEN_ISSUER', options.tokenIssuer);
  return fn;
}
