/**
 * The local API gateway: one node:http server on 127.0.0.1 that serves every REST route of both APIs,
 * hands each request to its function as a REST (v1) proxy event and writes the proxy result back.
 * Gateway-made errors are RFC 9457 problems, so clients see one error shape locally and in the cloud.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  buildProxyEvent,
  CORRELATION_HEADER,
  type HttpResponse,
  type IncomingRequest,
  matchRoute,
  proxyResultToResponse,
} from './apigw-event';
import { listenOnLoopback } from './engines/ports';
import type { FunctionHost, HubModel } from './model';

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
}

export interface RunningGateway {
  port: number;
  stop(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const log = options.log ?? logToStderr;
  warnAboutUnenforcedAuthorizers(options.model, log);
  const server = createServer((req, res) => {
    handleRequest(req, res, options, log).catch((error: unknown) => {
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

/** Authorizers arrive with the auth issue; until then say loudly that routes run unauthorised locally. */
function warnAboutUnenforcedAuthorizers(
  model: HubModel,
  log: (entry: Record<string, unknown>) => void,
): void {
  const guarded = model.routes.filter((route) => route.authorizerFunctionKey !== undefined);
  if (guarded.length === 0) return;
  log({
    level: 'WARN',
    message: 'the local gateway does not run API Gateway authorizers yet; these routes are open',
    routes: guarded.map((route) => `${route.method} ${route.resourcePath}`),
  });
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function logToStderr(entry: Record<string, unknown>): void {
  process.stderr.write(
    `${JSON.stringify({ component: 'gateway', timestamp: new Date().toISOString(), ...entry })}\n`,
  );
}
