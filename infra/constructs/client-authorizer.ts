import { Duration } from 'aws-cdk-lib';
import { IdentitySource, RequestAuthorizer } from 'aws-cdk-lib/aws-apigateway';
import type { Construct } from 'constructs';
import { ACCESS_KEY_HEADER } from '../../functions/auth-verify/domain/authorizer-policy';
import { HubFunction } from './hub-function';
import type { HubRestApi } from './hub-rest-api';
import type { FunctionPlatform } from './platform';

/** API Gateway caches the authorizer's answer per X-Hub-Key for this long. */
export const AUTHORIZER_CACHE_TTL = Duration.seconds(300);

export interface ClientAuthorizer {
  fn: HubFunction;
  authorizer: RequestAuthorizer;
}

/**
 * The signature authorizer (functions/auth-verify/authorizer.ts) in `scope`, guarding every later route of `api`:
 * it resolves X-Hub-Key in the platform's client registry and names the caller's usage-plan key. Both clouds use
 * it, each with its own registry (the public one lists only the clients allowed on the internet-facing API).
 * Ids `AuthorizerFunction` / `ClientAuthorizer` in the scope, as auth verification has always named them.
 */
export function createClientAuthorizer(
  scope: Construct,
  props: { platform: FunctionPlatform; api: HubRestApi; authorizerName: string },
): ClientAuthorizer {
  const fn = new HubFunction(scope, 'AuthorizerFunction', {
    platform: props.platform,
    entry: 'functions/auth-verify/authorizer.ts',
    serviceName: 'auth-verify',
    description:
      'API Gateway authorizer: resolves X-Hub-Key in the client registry, names the usage plan key',
    // API Gateway waits at most 29 s for the whole request; a registry read is milliseconds.
    timeout: Duration.seconds(5),
    memorySize: 256,
  });
  // The authorizer reads the client registry and nothing else.
  fn.bindSecretRead(props.platform.clientsSecret, 'HUB_CLIENTS_SECRET_ID');
  const authorizer = new RequestAuthorizer(scope, 'ClientAuthorizer', {
    authorizerName: props.authorizerName,
    handler: fn,
    identitySources: [IdentitySource.header(ACCESS_KEY_HEADER)],
    resultsCacheTtl: AUTHORIZER_CACHE_TTL,
  });
  props.api.useClientAuthorizer(authorizer);
  return { fn, authorizer };
}
