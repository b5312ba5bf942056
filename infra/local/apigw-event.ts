/**
 * Pure half of the local API gateway: route matching with API Gateway's precedence, the REST (v1)
 * proxy event a route's function receives, and the HTTP response a proxy result turns into.
 * Nothing here touches sockets, so the rules are unit-tested on their own.
 */
import { createHash, randomUUID } from 'node:crypto';
import type {
  APIGatewayProxyEvent,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayTokenAuthorizerEvent,
} from 'aws-lambda';
import { type AuthorizerModel, LOCAL_ACCOUNT, LOCAL_REGION, type RouteModel } from './model';

export type RouteMatch =
  | { kind: 'matched'; route: RouteModel; pathParameters: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' };

type SegmentRank = 0 | 1 | 2;
const LITERAL: SegmentRank = 0;
const PARAMETER: SegmentRank = 1;
const GREEDY: SegmentRank = 2;

interface ResourceMatch {
  route: RouteModel;
  pathParameters: Record<string, string>;
  ranks: SegmentRank[];
}

/**
 * Picks the route for a request the way API Gateway does: among resources whose path matches, a literal
 * segment beats `{param}`, which beats `{proxy+}`, compared left to right. A path that some resource
 * matches but none for this method is 405, so clients see the methods that do exist.
 */
export function matchRoute(routes: readonly RouteModel[], method: string, rawPath: string): RouteMatch {
  const requestSegments = splitPath(rawPath);
  const pathMatches = routes
    .map((route) => matchResource(route, requestSegments))
    .filter((match): match is ResourceMatch => match !== undefined);
  if (pathMatches.length === 0) return { kind: 'not-found' };

  const upperMethod = method.toUpperCase();
  const methodMatches = pathMatches.filter(
    ({ route }) => route.method === 'ANY' || route.method.toUpperCase() === upperMethod,
  );
  const best = methodMatches.sort(compareSpecificity)[0];
  if (!best) {
    const allow = [...new Set(pathMatches.map(({ route }) => route.method.toUpperCase()))].sort();
    return { kind: 'method-not-allowed', allow };
  }
  return { kind: 'matched', route: best.route, pathParameters: best.pathParameters };
}

/** Most specific first; an explicit method beats ANY on the same resource. */
function compareSpecificity(a: ResourceMatch, b: ResourceMatch): number {
  const length = Math.max(a.ranks.length, b.ranks.length);
  for (let i = 0; i < length; i++) {
    const diff = (a.ranks[i] ?? GREEDY) - (b.ranks[i] ?? GREEDY);
    if (diff !== 0) return diff;
  }
  return Number(a.route.method === 'ANY') - Number(b.route.method === 'ANY');
}

function matchResource(route: RouteModel, requestSegments: string[]): ResourceMatch | undefined {
  const resourceSegments = splitPath(route.resourcePath);
  const pathParameters: Record<string, string> = {};
  const ranks: SegmentRank[] = [];
  for (const [i, resourceSegment] of resourceSegments.entries()) {
    const greedyName = /^\{(.+)\+\}$/.exec(resourceSegment)?.[1];
    if (greedyName) {
      const rest = requestSegments.slice(i);
      if (rest.length === 0 || rest.some((segment) => segment === '')) return undefined;
      // REST APIs hand path parameters over as sent, still percent-encoded; the handler decodes them.
      pathParameters[greedyName] = rest.join('/');
      ranks.push(GREEDY);
      return { route, pathParameters, ranks };
    }
    const requestSegment = requestSegments[i];
    if (requestSegment === undefined || requestSegment === '') return undefined;
    const paramName = /^\{(.+)\}$/.exec(resourceSegment)?.[1];
    if (paramName) {
      pathParameters[paramName] = requestSegment;
      ranks.push(PARAMETER);
    } else if (decodeSegment(requestSegment) === resourceSegment) {
      ranks.push(LITERAL);
    } else {
      return undefined;
    }
  }
  return requestSegments.length === resourceSegments.length ? { route, pathParameters, ranks } : undefined;
}

function splitPath(path: string): string[] {
  const trimmed = path.replace(/^\/+/, '');
  return trimmed === '' ? [] : trimmed.split('/');
}

/** Literal segments compare decoded; a malformed escape is compared as sent rather than failing. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Header pairs in arrival order with the client's spelling, as node's `rawHeaders` gives them. */
export type RawHeaders = readonly string[];

export interface IncomingRequest {
  method: string;
  /** Path and query exactly as sent, e.g. `/v1/cases/330000%3A1?x=1&x=2`. */
  url: string;
  rawHeaders: RawHeaders;
  body: Buffer;
  sourceIp: string;
  correlationId: string;
  receivedAt: Date;
}

export const CORRELATION_HEADER = 'X-Correlation-Id';

/** Builds the REST API (v1) Lambda proxy event for a matched route. */
export function buildProxyEvent(
  request: IncomingRequest,
  match: Extract<RouteMatch, { kind: 'matched' }>,
): APIGatewayProxyEvent {
  const { path, query } = splitUrl(request.url);
  const { headers, multiValueHeaders } = collectHeaders(request.rawHeaders, request.correlationId);
  const { queryStringParameters, multiValueQueryStringParameters } = parseQuery(query);
  const body = encodeBody(request.body, headerValue(headers, 'content-type'));
  const { route } = match;
  const apiId = localApiId(route.apiKey);
  return {
    resource: route.resourcePath,
    path,
    httpMethod: request.method.toUpperCase(),
    headers,
    multiValueHeaders,
    queryStringParameters,
    multiValueQueryStringParameters,
    pathParameters: Object.keys(match.pathParameters).length > 0 ? match.pathParameters : null,
    stageVariables: null,
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId,
      authorizer: undefined,
      domainName: headerValue(headers, 'host') ?? '127.0.0.1',
      extendedRequestId: randomUUID(),
      httpMethod: request.method.toUpperCase(),
      identity: localIdentity(request.sourceIp, headerValue(headers, 'user-agent')),
      // The path as the client sent it (with any base path or stage), which is what a signature covers.
      path,
      protocol: 'HTTP/1.1',
      requestId: randomUUID(),
      requestTime: formatRequestTime(request.receivedAt),
      requestTimeEpoch: request.receivedAt.getTime(),
      resourceId: localApiId(`${route.apiKey} ${route.resourcePath}`).slice(0, 6),
      resourcePath: route.resourcePath,
      stage: 'local',
    },
    body: body.text,
    isBase64Encoded: body.isBase64Encoded,
  };
}

function splitUrl(url: string): { path: string; query: string } {
  const queryStart = url.indexOf('?');
  return queryStart < 0
    ? { path: url, query: '' }
    : { path: url.slice(0, queryStart), query: url.slice(queryStart + 1) };
}

function collectHeaders(rawHeaders: RawHeaders, correlationId: string) {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  if (headerValue(headers, CORRELATION_HEADER) === undefined) {
    headers[CORRELATION_HEADER] = correlationId;
    multiValueHeaders[CORRELATION_HEADER] = [correlationId];
  }
  return { headers, multiValueHeaders };
}

export function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** API Gateway decodes query names and values, keeps the last value singly and all values in order. */
function parseQuery(query: string) {
  if (query === '') return { queryStringParameters: null, multiValueQueryStringParameters: null };
  const queryStringParameters: Record<string, string> = {};
  const multiValueQueryStringParameters: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(query)) {
    queryStringParameters[name] = value;
    multiValueQueryStringParameters[name] = [...(multiValueQueryStringParameters[name] ?? []), value];
  }
  return { queryStringParameters, multiValueQueryStringParameters };
}

const TEXT_CONTENT_TYPE = [
  /^text\//,
  /^application\/(json|xml|javascript|x-www-form-urlencoded|problem\+json|problem\+xml)$/,
  /^application\/[\w.-]+\+(json|xml)$/,
];

/**
 * In the cloud the API's binaryMediaTypes decide; the template does not carry them here, so anything that
 * is not plainly text travels base64-encoded, which is what a handler must cope with for binary types.
 */
export function isTextContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return true;
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return mediaType === '' || TEXT_CONTENT_TYPE.some((pattern) => pattern.test(mediaType));
}

function encodeBody(body: Buffer, contentType: string | undefined) {
  if (body.length === 0) return { text: null, isBase64Encoded: false };
  return isTextContentType(contentType)
    ? { text: body.toString('utf8'), isBase64Encoded: false }
    : { text: body.toString('base64'), isBase64Encoded: true };
}

/** Stable per API so logs and tests can tell the public API from the private one. */
function localApiId(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 10);
}

function localIdentity(sourceIp: string, userAgent: string | undefined) {
  return {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp,
    user: null,
    userAgent: userAgent ?? null,
    userArn: null,
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's CLF-style `requestTime`, e.g. `09/Apr/2015:12:34:56 +0000`. */
function formatRequestTime(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = pad(at.getUTCDate());
  const month = MONTHS[at.getUTCMonth()];
  const time = `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}`;
  return `${day}/${month}/${at.getUTCFullYear()}:${time} +0000`;
}

export interface HttpResponse {
  statusCode: number;
  /** Each header once, values in order; node writes arrays as repeated headers. */
  headers: Record<string, string[]>;
  body: Buffer;
}

/**
 * Turns a function's proxy result into the HTTP response, or undefined when the result is not one
 * (API Gateway answers 502 then). `multiValueHeaders` and `headers` merge; a name in both keeps the
 * multi-value list, and JSON is the default content type, as in the cloud.
 */
export function proxyResultToResponse(result: unknown, correlationId: string): HttpResponse | undefined {
  if (!isProxyResult(result)) return undefined;
  const headers: Record<string, string[]> = {};
  const nameOf = new Map<string, string>();
  const put = (name: string, values: string[]) => {
    const existing = nameOf.get(name.toLowerCase());
    if (existing !== undefined) return;
    nameOf.set(name.toLowerCase(), name);
    headers[name] = values;
  };
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) put(name, values.map(String));
  for (const [name, value] of Object.entries(result.headers ?? {})) put(name, [String(value)]);
  put('Content-Type', ['application/json']);
  put(CORRELATION_HEADER, [correlationId]);
  const rawBody = result.body ?? '';
  const body = result.isBase64Encoded ? Buffer.from(rawBody, 'base64') : Buffer.from(rawBody, 'utf8');
  return { statusCode: result.statusCode, headers, body };
}

interface LooseProxyResult {
  statusCode: number;
  headers?: Record<string, unknown> | null;
  multiValueHeaders?: Record<string, unknown[]> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
}

function isProxyResult(value: unknown): value is LooseProxyResult {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  const { statusCode, body, headers, multiValueHeaders } = candidate;
  const isRecord = (v: unknown) =>
    v === undefined || v === null || (typeof v === 'object' && !Array.isArray(v));
  return (
    typeof statusCode === 'number' &&
    Number.isInteger(statusCode) &&
    statusCode >= 100 &&
    statusCode <= 599 &&
    (body === undefined || body === null || typeof body === 'string') &&
    isRecord(headers) &&
    isRecord(multiValueHeaders) &&
    Object.values(multiValueHeaders ?? {}).every(Array.isArray)
  );
}

// ---------------------------------------------------------------------------------------------------------
// Lambda authorizers

/** `arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path as sent>`, as API Gateway builds it. */
export function methodArnOf(event: APIGatewayProxyEvent): string {
  const { apiId, stage } = event.requestContext;
  return `arn:aws:execute-api:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${apiId}/${stage}/${event.httpMethod}${event.path}`;
}

/** The values of the identity-source headers, or undefined when one is missing or empty (API Gateway's 401). */
export function identityValues(
  headers: Record<string, string>,
  identityHeaders: readonly string[],
): string[] | undefined {
  const values = identityHeaders.map((name) => headerValue(headers, name));
  return values.every((value): value is string => value !== undefined && value !== '') ? values : undefined;
}

/** The event a REQUEST (or TOKEN) authorizer receives for the request whose proxy event is `event`. */
export function buildAuthorizerEvent(
  authorizer: Pick<AuthorizerModel, 'type' | 'identityHeaders'>,
  event: APIGatewayProxyEvent,
): APIGatewayRequestAuthorizerEvent | APIGatewayTokenAuthorizerEvent {
  const methodArn = methodArnOf(event);
  if (authorizer.type === 'TOKEN') {
    const [header] = authorizer.identityHeaders;
    return {
      type: 'TOKEN',
      methodArn,
      authorizationToken: (header && headerValue(event.headers as Record<string, string>, header)) ?? '',
    };
  }
  const { body: _body, isBase64Encoded: _encoding, requestContext, ...request } = event;
  return {
    ...request,
    type: 'REQUEST',
    methodArn,
    requestContext: { ...requestContext, authorizer: undefined },
  } as APIGatewayRequestAuthorizerEvent;
}

export type AuthorizerVerdict =
  | {
      kind: 'allow';
      principalId: string;
      /** What the function sees as `requestContext.authorizer`: the context (strings) and `principalId`. */
      context: Record<string, string>;
      usageIdentifierKey?: string;
    }
  | { kind: 'deny' }
  | { kind: 'invalid'; reason: string };

interface PolicyStatement {
  Effect?: unknown;
  Action?: unknown;
  Resource?: unknown;
}

/**
 * Reads an authorizer's result and applies its policy to this request's method ARN, as API Gateway does: an
 * explicit Deny wins, an Allow must name the ARN (wildcards `*` and `?`), anything else is a Deny. A result
 * that is not a policy document, or whose context holds objects, is the authorizer's own fault (500).
 */
export function judgeAuthorizerResult(result: unknown, methodArn: string): AuthorizerVerdict {
  if (typeof result !== 'object' || result === null) return { kind: 'invalid', reason: 'not an object' };
  const { principalId, policyDocument, context, usageIdentifierKey } = result as Record<string, unknown>;
  if (typeof principalId !== 'string' || principalId === '') {
    return { kind: 'invalid', reason: 'principalId missing' };
  }
  const statements = (policyDocument as { Statement?: unknown } | undefined)?.Statement;
  if (!Array.isArray(statements)) return { kind: 'invalid', reason: 'policyDocument.Statement missing' };
  const flatContext: Record<string, string> = {};
  for (const [name, value] of Object.entries((context ?? {}) as Record<string, unknown>)) {
    if (!['string', 'number', 'boolean'].includes(typeof value)) {
      return { kind: 'invalid', reason: `context.${name} is not a string, number or boolean` };
    }
    flatContext[name] = String(value);
  }
  const matching = (statements as PolicyStatement[]).filter(
    (statement) => invokes(statement.Action) && namesArn(statement.Resource, methodArn),
  );
  const denied = matching.some((statement) => statement.Effect === 'Deny');
  const allowed = matching.some((statement) => statement.Effect === 'Allow');
  if (denied || !allowed) return { kind: 'deny' };
  return {
    kind: 'allow',
    principalId,
    context: { ...flatContext, principalId },
    ...(typeof usageIdentifierKey === 'string' ? { usageIdentifierKey } : {}),
  };
}

const asList = (value: unknown): string[] =>
  (Array.isArray(value) ? value : [value]).filter((item): item is string => typeof item === 'string');

function invokes(action: unknown): boolean {
  return asList(action).some((pattern) => globMatches(pattern, 'execute-api:Invoke'));
}

function namesArn(resource: unknown, methodArn: string): boolean {
  return asList(resource).some((pattern) => globMatches(pattern, methodArn));
}

/** IAM-style matching: `*` any run of characters, `?` one character, everything else literal. */
export function globMatches(pattern: string, value: string): boolean {
  const source = pattern
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's').test(value);
}
