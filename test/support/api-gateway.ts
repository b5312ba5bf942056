import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { ClientRegistry } from '../../shared/client-registry';
import { encodeQuery, signRequest } from '../../shared/signing';

/** A Lambda context with what the HTTP stack reads: a request id and time left. */
export const lambdaContext = () =>
  ({ awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 30_000 }) as unknown as Context;

export interface ApiRequest {
  method: string;
  /** The path as sent (percent-encoded), which is signed. */
  path: string;
  /** The API Gateway resource template; the path by default. */
  resource?: string;
  /** The body as API Gateway hands it over; absent or null is signed as the empty body. */
  body?: string | null;
  query?: Record<string, string> | null;
  pathParameters?: Record<string, string> | null;
}

/** The API Gateway proxy event of a request with exactly these headers (signed or not). */
export function apiGatewayEvent(request: ApiRequest, headers: Record<string, string>): APIGatewayProxyEvent {
  const { method, path } = request;
  return {
    httpMethod: method,
    path,
    resource: request.resource ?? path,
    body: request.body ?? null,
    isBase64Encoded: false,
    headers,
    multiValueHeaders: {},
    pathParameters: request.pathParameters ?? null,
    queryStringParameters: request.query ?? null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: { path, requestId: randomUUID(), stage: 'dev' },
  } as unknown as APIGatewayProxyEvent;
}

export interface SignedRequest extends ApiRequest {
  /** Sends `Content-Type: application/json` before the signature headers (default true). */
  jsonContentType?: boolean;
  /** Headers after the signature ones (they may override them). */
  headers?: Record<string, string>;
  /** Signing time; the real clock by default. */
  now?: Date;
}

/** The API Gateway proxy event of a request signed as the dev client `accessKeyId` signs it (DESIGN.md §3). */
export function signedApiEvent(
  registry: ClientRegistry,
  accessKeyId: string,
  request: SignedRequest,
): APIGatewayProxyEvent {
  const client = registry.findByAccessKey(accessKeyId);
  if (!client) throw new Error(`no dev client ${accessKeyId}`);
  const signature = signRequest({
    method: request.method,
    path: request.path,
    body: request.body ?? '',
    query: request.query ? encodeQuery(request.query) : null,
    accessKeyId,
    secret: client.secret,
    ...(request.now ? { now: request.now } : {}),
  });
  return apiGatewayEvent(request, {
    ...(request.jsonContentType === false ? {} : { 'Content-Type': 'application/json' }),
    ...signature,
    ...request.headers,
  });
}
