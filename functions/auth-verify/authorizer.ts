import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { type ClientRegistry, loadClientRegistry } from '../../shared/client-registry';
import { type HubLogger, logger as processLogger } from '../../shared/observability';
import { accessKeyOf, decide, UNAUTHORIZED_MESSAGE } from './domain/authorizer-policy';

/**
 * The API Gateway REQUEST authorizer of the hub's REST APIs (identity source: the X-Hub-Key header, results
 * cached 300 s per key). It resolves the access key in the client registry and allows the whole stage, naming
 * the client in the context and its API key as the usage identifier (usage plans per client kind). It does not
 * and cannot verify the request signature — authorizers never see the body; every function's HTTP stack still
 * does (shared/http.ts). Unknown key → `Unauthorized` (API Gateway's 401).
 */

export interface AuthorizerDependencies {
  registry: () => Promise<ClientRegistry>;
  logger?: Pick<HubLogger, 'info' | 'warn'>;
}

export function createAuthorizer(deps: AuthorizerDependencies) {
  const logger = deps.logger ?? processLogger;
  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const accessKey = accessKeyOf(event.headers);
    const client = accessKey ? (await deps.registry()).findByAccessKey(accessKey) : undefined;
    const decision = decide(accessKey, client, event.methodArn);
    const requestId = event.requestContext?.requestId;
    if (decision.kind === 'unauthorized') {
      // Never the presented key: an unknown one may be a mistyped secret or someone probing.
      logger.warn('client refused', { reason: decision.reason, requestId });
      throw new Error(UNAUTHORIZED_MESSAGE);
    }
    logger.info('client authorized', { clientId: decision.result.principalId, requestId });
    return decision.result;
  };
}

export const handler = createAuthorizer({ registry: () => loadClientRegistry() });
