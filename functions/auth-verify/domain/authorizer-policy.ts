import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import type { AuthenticatedClient } from '../../../shared/client-registry';

/**
 * What the API Gateway authorizer decides, without AWS: who the access key belongs to and what API Gateway
 * should remember about it. The authorizer sees headers but never the body, so it cannot check the HMAC; it
 * only names the client (for the usage plan and the logs) and the function's HTTP stack verifies timestamp,
 * nonce, body digest and scopes as before.
 */

export const ACCESS_KEY_HEADER = 'X-Hub-Key';

/** API Gateway's answer for "no such identity": it turns the message `Unauthorized` into a 401. */
export const UNAUTHORIZED_MESSAGE = 'Unauthorized';

/** The authorizer context the functions receive as `requestContext.authorizer` (API Gateway allows flat strings). */
export interface ClientAuthorizerContext {
  [name: string]: string;
  clientId: string;
  kind: string;
  /** Empty when the client has none (ministries, apps). */
  regionCode: string;
  /** Empty when the client has none. */
  departmentCode: string;
  /** Space-separated, as in OAuth `scope`. */
  scopes: string;
}

export type AuthorizerClient = Pick<
  AuthenticatedClient,
  'clientId' | 'kind' | 'regionCode' | 'departmentCode' | 'scopes' | 'apiKey'
>;

/** The X-Hub-Key header, whatever its case; undefined when absent or empty. */
export function accessKeyOf(
  headers: Record<string, string | undefined> | null | undefined,
): string | undefined {
  const wanted = ACCESS_KEY_HEADER.toLowerCase();
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() === wanted && value) return value;
  }
  return undefined;
}

/**
 * `arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path>` → the same API and stage with
 * every method and path. API Gateway caches the policy per access key, not per route, so a policy naming
 * only the first route called would refuse the client's next, different route for the cache's lifetime.
 */
export function stageWideResource(methodArn: string): string {
  const match = /^(arn:[^:]+:execute-api:[^:]+:[^:]+:)([^/]+)\/([^/]+)\//.exec(methodArn);
  if (!match) throw new Error('The authorizer event carries no execute-api method ARN.');
  const [, prefix, apiId, stage] = match;
  return `${prefix}${apiId}/${stage}/*/*`;
}

export function authorizerContextOf(client: AuthorizerClient): ClientAuthorizerContext {
  return {
    clientId: client.clientId,
    kind: client.kind,
    regionCode: client.regionCode ?? '',
    departmentCode: client.departmentCode ?? '',
    scopes: client.scopes.join(' '),
  };
}

export type AuthorizerDecision =
  | { kind: 'allow'; result: APIGatewayAuthorizerResult }
  | { kind: 'unauthorized'; reason: 'access-key-missing' | 'access-key-unknown' | 'api-key-missing' };

/**
 * Allow for the whole stage, with the client's API key as the usage identifier so API Gateway meters it
 * under the usage plan of its kind. A registered client without an API key cannot be metered, so it is
 * refused like an unknown key rather than let through unthrottled.
 */
export function decide(
  accessKey: string | undefined,
  client: AuthorizerClient | undefined,
  methodArn: string,
): AuthorizerDecision {
  if (!accessKey) return { kind: 'unauthorized', reason: 'access-key-missing' };
  if (!client) return { kind: 'unauthorized', reason: 'access-key-unknown' };
  if (!client.apiKey) return { kind: 'unauthorized', reason: 'api-key-missing' };
  return {
    kind: 'allow',
    result: {
      principalId: client.clientId,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'execute-api:Invoke', Resource: stageWideResource(methodArn) },
        ],
      },
      context: authorizerContextOf(client),
      usageIdentifierKey: client.apiKey,
    },
  };
}
