/**
 * The local API gateway: one node:http server on 127.0.0.1 that serves every REST route of both APIs,
 * hands each request to its function as a REST (v1) proxy event and writes the proxy result back.
 * Like API Gateway, it first runs a route's Lambda authorizer (401 without the identity header or on
 * `Unauthorized`, 403 on a Deny, results cached per identity for the authorizer's TTL) and meters the client
 * under the usage plan of its kind (429 over the plan's rate and burst). Gateway-made errors are RFC 9457
 * problems — the same documents as the cloud's gateway responses (infra/gateway-responses.ts).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { GATEWAY_PROBLEMS, type GatewayResponseType, gatewayProblemBody } from '../gateway-responses';
import { CLIENT_KIND_TAG } from '../rate-limits';
import {
  type AuthorizerVerdict,
  buildAuthorizerEvent,
  buildProxyEvent,
  CORRELATION_HEADER,
  type HttpResponse,
  headerValue,
  type IncomingRequest,
  identityValues,
  judgeAuthorizerResult,
  matchRoute,
  methodArnOf,
  proxyResultToResponse,
} from './apigw-event';
import { DASHBOARD_PATH, type DashboardSource, dashboardResponse } from './dashboard-site';
import { listenOnLoopback } from './engines/ports';
import type { AuthorizerModel, FunctionHost, HubModel, RouteModel, UsagePlanModel } from './model';
import { RateLimiter } from './rate-limit';

/** API Gateway's payload limit for REST APIs. */
export const DEFAULT_BODY_LIMIT_BYTES = 10 * 1024 * 1024;
/** API Gateway's default integration timeout for REST APIs. */
export const DEFAULT_INTEGRATION_TIMEOUT_MS = 29_000;

export interface GatewayOptions {
  model: HubModel;
  host: FunctionHost;
  /** 0 picks a free port. */
  port: number;
  /** Whether every resource exists and every consumer runs; drives `GET /health`. */
  isReady: () => boolean;
  bodyLimitBytes?: number;
  integrationTimeoutMs?: number;
  log?: (entry: Record<string, unknown>) => void;
  /**
   * Authorizer cache and usage-plan buckets, which outlive a request. startGateway makes one; callers of
   * `respond` pass their own to see caching and throttling across calls (without one, nothing is remembered).
   */
  state?: GatewayState;
  /** Meter clients under their usage plans (default true). Off for benchmarks that measure the hub, not the plan. */
  enforceUsagePlans?: boolean;
  /** Milliseconds since the epoch; tests move it to expire cached authorizations and refill buckets. */
  clock?: () => number;
  /** Where `/dashboard` reads the published assessment snapshots; without it the page has no data. */
  dashboard?: DashboardSource;
}

export interface GatewayState {
  /** Authorizer results (their policies) by authorizer and identity, re-applied to each request's route. */
  authorizations: Map<string, { expiresAtMs: number; result: unknown }>;
  rateLimiter: RateLimiter;
}

export function createGatewayState(): GatewayState {
  return { authorizations: new Map(), rateLimiter: new RateLimiter() };
}

export interface RunningGateway {
  port: number;
  stop(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const log = options.log ?? logToStderr;
  warnAboutWhatIsNotEnforced(options.model, log);
  const withState = { ...options, state: options.state ?? createGatewayState() };
  const server = createServer((req, res) => {
    handleRequest(req, res, withState, log).catch((error: unknown) => {
      log({ level: 'ERROR', message: 'gateway failed to answer a request', error: errorText(error) });
      if (!res.headersSent)
        writeResponse(res, problem(502, 'bad-gateway', 'Bad Gateway', 'The gateway failed.'));
      else res.destroy();
    });
  });
  const port = await listenOnLoopback(server, options.port);
  return {
    port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handleRequest(
  req: IncomingMessage,
  res: ServerResponse,
  options: GatewayOptions,
  log: (entry: Record<string, unknown>) => void,
): Promise<void> {
  const receivedAt = new Date();
  const body = await readBody(req, options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES);
  const response = await respond(
    {
      method: (req.method ?? 'GET').toUpperCase(),
      url: req.url ?? '/',
      rawHeaders: req.rawHeaders,
      body,
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      correlationId: correlationIdOf(req),
      receivedAt,
    },
    options,
    log,
  );
  writeResponse(res, response);
}

/** A request as read off the socket; the body is only `too-large` when it exceeded the limit. */
export type GatewayRequest = Omit<IncomingRequest, 'body'> & { body: Buffer | 'too-large' };

/** Everything the gateway decides, without sockets: health, routing, limits, invocation, result mapping. */
export async function respond(
  request: GatewayRequest,
  options: Omit<GatewayOptions, 'port'>,
  log: (entry: Record<string, unknown>) => void = options.log ?? logToStderr,
): Promise<HttpResponse> {
  const { method, correlationId } = request;
  const path = request.url.split('?')[0] ?? '/';
  const answer = (response: HttpResponse) => withCorrelationId(response, correlationId);

  if (path === '/health') return answer(healthResponse(method, options.isReady()));
  // The hub's own documents, served beside the API as the cloud publishes them (not routes of either API).
  if (path === OPENAPI_PATH) return answer(await openApiResponse(method));
  if (path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`)) {
    return answer(await dashboardResponse(method, path, options.dashboard));
  }

  const match = matchRoute(options.model.routes, method, path);
  if (match.kind === 'not-found') {
    return answer(problem(404, 'not-found', 'Not Found', `No resource matches ${method} ${path}.`));
  }
  if (match.kind === 'method-not-allowed') {
    const response = problem(
      405,
      'method-not-allowed',
      'Method Not Allowed',
      `${path} does not accept ${method}.`,
    );
    response.headers.Allow = [match.allow.join(', ')];
    return answer(response);
  }
  if (request.body === 'too-large') {
    const limit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
    return answer(problem(413, 'payload-too-large', 'Payload Too Large', `The body exceeds ${limit} bytes.`));
  }

  const event = buildProxyEvent({ ...request, body: request.body }, match);
  const refusal = await guard(match.route, event, options, log);
  if (refusal) return answer(refusal);
  const functionKey = match.route.functionKey;
  const outcome = await invokeWithTimeout(
    options.host,
    functionKey,
    event,
    options.integrationTimeoutMs ?? DEFAULT_INTEGRATION_TIMEOUT_MS,
  );
  if (outcome.kind === 'timeout') {
    log({ level: 'ERROR', message: 'integration timed out', functionKey, correlationId });
    return answer(problem(504, 'gateway-timeout', 'Gateway Timeout', 'The function did not answer in time.'));
  }
  if (outcome.kind === 'error') {
    log({
      level: 'ERROR',
      message: 'function failed',
      functionKey,
      correlationId,
      error: errorText(outcome.error),
    });
    return answer(problem(502, 'bad-gateway', 'Bad Gateway', 'The function failed.'));
  }
  const response = proxyResultToResponse(outcome.result, correlationId);
  if (!response) {
    log({
      level: 'ERROR',
      message: 'function returned a malformed proxy result',
      functionKey,
      correlationId,
    });
    return answer(problem(502, 'bad-gateway', 'Bad Gateway', 'The function returned a malformed response.'));
  }
  return answer(response);
}

type InvokeOutcome =
  | { kind: 'result'; result: unknown }
  | { kind: 'error'; error: unknown }
  | { kind: 'timeout' };

/** The host enforces the function's own timeout (a 502); this is API Gateway's shorter cap on waiting. */
async function invokeWithTimeout(
  host: FunctionHost,
  functionKey: string,
  event: unknown,
  timeoutMs: number,
): Promise<InvokeOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<InvokeOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
  });
  const invocation = host.invoke(functionKey, event).then(
    (result): InvokeOutcome => ({ kind: 'result', result }),
    (error: unknown): InvokeOutcome => ({ kind: 'error', error }),
  );
  try {
    return await Promise.race([invocation, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads the whole body but keeps at most `limit` bytes: draining the rest lets the client finish sending
 * and read the 413, where closing early would surface as a connection reset on its side.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.once('end', () => resolve(size > limit ? 'too-large' : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function correlationIdOf(req: IncomingMessage): string {
  const sent = req.headers[CORRELATION_HEADER.toLowerCase()];
  const value = Array.isArray(sent) ? sent[0] : sent;
  return value && value.length > 0 ? value : randomUUID();
}

export const OPENAPI_PATH = '/openapi.json';
let openApiBody: Promise<Buffer> | undefined;

/** The OpenAPI document generated from the route contracts, built on the first request (it imports every API). */
async function openApiResponse(method: string): Promise<HttpResponse> {
  if (method !== 'GET' && method !== 'HEAD') {
    const response = problem(
      405,
      'method-not-allowed',
      'Method Not Allowed',
      `${OPENAPI_PATH} accepts GET only.`,
    );
    response.headers.Allow = ['GET'];
    return response;
  }
  openApiBody ??= import('../openapi/document').then(({ renderOpenApi }) =>
    Buffer.from(renderOpenApi(), 'utf8'),
  );
  return {
    statusCode: 200,
    headers: { 'Content-Type': ['application/json; charset=utf-8'] },
    body: method === 'HEAD' ? Buffer.alloc(0) : await openApiBody,
  };
}

function healthResponse(method: string, ready: boolean): HttpResponse {
  if (method !== 'GET' && method !== 'HEAD') {
    const response = problem(405, 'method-not-allowed', 'Method Not Allowed', '/health accepts GET only.');
    response.headers.Allow = ['GET'];
    return response;
  }
  if (!ready) return problem(503, 'not-ready', 'Service Unavailable', 'The hub is still starting.');
  return {
    statusCode: 200,
    headers: { 'Content-Type': ['application/json'] },
    body: jsonBody({ status: 'ok' }),
  };
}

/** An RFC 9457 problem made by the gateway itself. */
export function problem(status: number, slug: string, title: string, detail: string): HttpResponse {
  return {
    statusCode: status,
    headers: { 'Content-Type': ['application/problem+json'] },
    body: jsonBody({ type: `urn:zwfw-hub:problem:${slug}`, title, status, detail }),
  };
}

function withCorrelationId(response: HttpResponse, correlationId: string): HttpResponse {
  const present = Object.keys(response.headers).some(
    (name) => name.toLowerCase() === CORRELATION_HEADER.toLowerCase(),
  );
  return present
    ? response
    : { ...response, headers: { ...response.headers, [CORRELATION_HEADER]: [correlationId] } };
}

function writeResponse(res: ServerResponse, response: HttpResponse): void {
  res.statusCode = response.statusCode;
  for (const [name, values] of Object.entries(response.headers)) res.setHeader(name, values);
  res.setHeader('Content-Length', response.body.length);
  res.end(response.body);
}

const jsonBody = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');

/** What API Gateway would answer itself, as the same problem document the cloud's gateway response carries. */
export function gatewayProblem(
  type: GatewayResponseType,
  headers: Record<string, string> = {},
): HttpResponse {
  const defaults = GATEWAY_PROBLEMS[type].headers ?? {};
  const all = { 'Content-Type': 'application/problem+json', ...defaults, ...headers };
  return {
    statusCode: GATEWAY_PROBLEMS[type].status,
    headers: Object.fromEntries(Object.entries(all).map(([name, value]) => [name, [value]])),
    body: Buffer.from(gatewayProblemBody(type), 'utf8'),
  };
}

/**
 * Runs the route's authorizer and usage plan before its function, as API Gateway does. Resolves to the
 * refusal to send, or undefined with `event.requestContext.authorizer` (and `identity.apiKey`) filled in.
 */
async function guard(
  route: RouteModel,
  event: APIGatewayProxyEvent,
  options: Omit<GatewayOptions, 'port'>,
  log: (entry: Record<string, unknown>) => void,
): Promise<HttpResponse | undefined> {
  const { authorizer } = route;
  if (!authorizer) return undefined;
  const state = options.state ?? createGatewayState();
  const now = options.clock ?? Date.now;
  const verdict = await authorize(authorizer, event, options, state, now(), log);
  if (verdict.kind === 'unauthorized') return gatewayProblem('UNAUTHORIZED');
  if (verdict.kind === 'failed') {
    return problem(500, 'authorizer-failed', 'Internal Server Error', 'The authorizer failed.');
  }
  if (verdict.kind === 'deny') return gatewayProblem('ACCESS_DENIED');
  event.requestContext.authorizer = verdict.context;
  if (!route.apiKeyRequired || options.enforceUsagePlans === false) return undefined;

  const plan = usagePlanFor(options.model, route.apiKey, verdict.context.kind);
  if (!plan || !verdict.usageIdentifierKey) return gatewayProblem('INVALID_API_KEY');
  event.requestContext.identity.apiKey = verdict.usageIdentifierKey;
  if (!plan.throttle) return undefined;
  const taken = state.rateLimiter.take(plan.key, verdict.usageIdentifierKey, plan.throttle, now());
  if (taken.allowed) return undefined;
  return gatewayProblem('THROTTLED', { 'Retry-After': String(taken.retryAfterSeconds) });
}

type Authorization =
  | Extract<AuthorizerVerdict, { kind: 'allow' | 'deny' }>
  | { kind: 'unauthorized' }
  | { kind: 'failed' };

async function authorize(
  authorizer: AuthorizerModel,
  event: APIGatewayProxyEvent,
  options: Omit<GatewayOptions, 'port'>,
  state: GatewayState,
  nowMs: number,
  log: (entry: Record<string, unknown>) => void,
): Promise<Authorization> {
  const identity = identityValues(event.headers as Record<string, string>, authorizer.identityHeaders);
  // A missing identity source is refused before the authorizer is paid for.
  if (!identity) return { kind: 'unauthorized' };
  const methodArn = methodArnOf(event);
  // API Gateway caches only when identity sources are declared; the cached policy is applied to each route.
  const cacheable = authorizer.resultTtlSeconds > 0 && authorizer.identityHeaders.length > 0;
  const cacheKey = `${authorizer.key}\n${identity.join('\n')}`;
  const correlationId = headerValue(event.headers as Record<string, string>, CORRELATION_HEADER);
  const cached = cacheable ? state.authorizations.get(cacheKey) : undefined;
  if (cached && cached.expiresAtMs > nowMs) {
    return judged(cached.result, methodArn, authorizer, log, correlationId);
  }

  const outcome = await invokeWithTimeout(
    options.host,
    authorizer.functionKey,
    buildAuthorizerEvent(authorizer, event),
    options.integrationTimeoutMs ?? DEFAULT_INTEGRATION_TIMEOUT_MS,
  );
  // API Gateway's contract: the authorizer fails with exactly this message to mean "no such identity".
  if (outcome.kind === 'error' && errorMessage(outcome.error) === 'Unauthorized') {
    return { kind: 'unauthorized' };
  }
  if (outcome.kind !== 'result') {
    const error = outcome.kind === 'error' ? errorText(outcome.error) : 'timed out';
    log({
      level: 'ERROR',
      message: 'authorizer failed',
      functionKey: authorizer.functionKey,
      correlationId,
      error,
    });
    return { kind: 'failed' };
  }
  const verdict = judged(outcome.result, methodArn, authorizer, log, correlationId);
  if (cacheable && verdict.kind !== 'failed') {
    state.authorizations.set(cacheKey, {
      expiresAtMs: nowMs + authorizer.resultTtlSeconds * 1000,
      result: outcome.result,
    });
  }
  return verdict;
}

function judged(
  result: unknown,
  methodArn: string,
  authorizer: AuthorizerModel,
  log: (entry: Record<string, unknown>) => void,
  correlationId: string | undefined,
): Authorization {
  const verdict = judgeAuthorizerResult(result, methodArn);
  if (verdict.kind !== 'invalid') return verdict;
  log({
    level: 'ERROR',
    message: 'authorizer returned an invalid result',
    functionKey: authorizer.functionKey,
    correlationId,
    reason: verdict.reason,
  });
  return { kind: 'failed' };
}

/** The plan of this API whose client-kind tag is the kind the authorizer named. */
function usagePlanFor(model: HubModel, apiKey: string, kind: string | undefined): UsagePlanModel | undefined {
  if (kind === undefined) return undefined;
  return (model.usagePlans ?? []).find(
    (plan) => plan.apiKeys.includes(apiKey) && plan.tags[CLIENT_KIND_TAG] === kind,
  );
}

function warnAboutWhatIsNotEnforced(model: HubModel, log: (entry: Record<string, unknown>) => void): void {
  const quotas = (model.usagePlans ?? []).filter((plan) => plan.quota !== undefined);
  if (quotas.length > 0) {
    log({
      level: 'WARN',
      message: 'usage plan quotas are not enforced locally (throttling is)',
      plans: quotas.map((plan) => plan.name),
    });
  }
  const unmetered = model.routes.filter((route) => route.apiKeyRequired && !route.authorizer);
  if (unmetered.length > 0) {
    log({
      level: 'WARN',
      message: 'routes that require an API key without an authorizer to name it are not metered locally',
      routes: unmetered.map((route) => `${route.method} ${route.resourcePath}`),
    });
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function logToStderr(entry: Record<string, unknown>): void {
  process.stderr.write(
    `${JSON.stringify({ component: 'gateway', timestamp: new Date().toISOString(), ...entry })}\n`,
  );
}
