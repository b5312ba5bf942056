import { randomUUID } from 'node:crypto';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy, { type MiddlewareObj, type MiddyfiedHandler } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import { documentClient, dynamoDb } from './aws/dynamodb';
import { isTransientAwsError } from './aws-errors';
import {
  type AuthenticatedClient,
  type ClientRegistry,
  hasScope,
  loadClientRegistry,
  withoutSecret,
} from './client-registry';
import { httpEnv, loadConfig } from './config';
import type { Authentication, ContractResult, ResponseContract, RouteContract } from './contract';
import { idempotencyKeyMiddleware } from './http/idempotency';
import { assertJsonContentType, MAX_BODY_BYTES, parseJsonBody, rawBodyBytes } from './http/json-body';
import { NonceStore } from './nonce-store';
import { type HubLogger, type HubMetrics, logger, metrics, tracer } from './observability';
import {
  dependencyUnavailable,
  type FieldError,
  fieldErrors,
  forbidden,
  internalError,
  isProblem,
  type Problem,
  toProblemResponse,
  unauthorized,
  validationFailed,
} from './problem';
import { NONCE_TTL_SECONDS, verifySignature } from './signing';

/**
 * The HTTP stack every API entry point uses. A route declares its operation, the scope it needs and
 * zod schemas for path, query and body; `handle` receives validated values and the calling client
 * and returns `{ status, body }`. Everything else — signature, replay, scope, size, media type,
 * JSON, validation, idempotency, problem responses, correlation id, logs, metrics, traces — is here.
 *
 * Order of checks (each refusal is an application/problem+json response):
 *   413 body over 1 MiB → 401 signature → 403 scope → 415 media type → 400 JSON → 422 schema
 *   → Idempotency-Key replay (POST, `idempotent` routes) → handle.
 * A `public` route (e.g. the JWKS) skips signature, nonce, scope and idempotency; everything else still applies.
 * Request bodies are never logged: they carry personal data.
 */

type Schema = z.ZodType | undefined;
type Parsed<S extends Schema> = S extends z.ZodType ? z.output<S> : undefined;

export interface HandlerInput<B extends Schema, P extends Schema, Q extends Schema> {
  body: Parsed<B>;
  path: Parsed<P>;
  query: Parsed<Q>;
  client: AuthenticatedClient;
  correlationId: string;
  logger: HubLogger;
  metrics: HubMetrics;
  event: APIGatewayProxyEvent;
}

export interface HttpResult {
  status: number;
  /** Serialised as JSON; omit for an empty body. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** The stack's own view of a route, made from its contract (`routeOfContract`). */
interface HttpRoute<B extends Schema, P extends Schema, Q extends Schema> {
  /** Stable name, e.g. `cases.ingestBatch`: in every log line, and the idempotency key prefix. */
  operation: string;
  /** Scope the client must hold; omit when any authenticated client may call. */
  scope?: string;
  body?: B;
  /** Validates pathParameters, after percent-decoding each value once. */
  path?: P;
  /** Validates queryStringParameters (the last value of a repeated parameter). */
  query?: Q;
  /** Honour `Idempotency-Key` on POST. Off by default: a stored response or body digest is data at rest. */
  idempotent?: boolean;
  maxBodyBytes?: number;
  public?: false;
  handle: (input: HandlerInput<B, P, Q>) => Promise<HttpResult>;
}

/** What a public route's handler gets: no client, since nobody signed the request. */
export type PublicHandlerInput<B extends Schema, P extends Schema, Q extends Schema> = Omit<
  HandlerInput<B, P, Q>,
  'client'
>;

/**
 * An unsigned route anyone may call, for documents that must be fetchable without credentials (the JWKS).
 * No signature, nonce, scope or idempotency; size, media type, JSON and schema checks still apply.
 */
interface PublicHttpRoute<B extends Schema, P extends Schema, Q extends Schema>
  extends Omit<HttpRoute<B, P, Q>, 'scope' | 'idempotent' | 'public' | 'handle'> {
  public: true;
  handle: (input: PublicHandlerInput<B, P, Q>) => Promise<HttpResult>;
}

/**
 * A route served from its contract (shared/contract.ts): the contract gives the operation, scope, schemas and
 * idempotency; `handle` must answer one of the statuses the contract declares, with that status's body.
 */
export interface ContractRoute<
  B extends Schema,
  P extends Schema,
  Q extends Schema,
  R extends Record<number, ResponseContract>,
  A extends Authentication,
> {
  contract: RouteContract<B, P, Q, R, A>;
  maxBodyBytes?: number;
  handle: (
    input: A extends 'public' ? PublicHandlerInput<B, P, Q> : HandlerInput<B, P, Q>,
  ) => Promise<ContractResult<NoInfer<R>>>;
}

export type HttpLambdaHandler = MiddyfiedHandler<APIGatewayProxyEvent, APIGatewayProxyResult>;

/** What the stack talks to. Defaults come from the environment (see shared/config httpEnv). */
export interface HttpDependencies {
  clientRegistry: () => Promise<ClientRegistry>;
  nonces: NonceStore;
  idempotency: BasePersistenceLayer;
  clock: () => Date;
}

export interface HttpDependencyOverrides extends Partial<HttpDependencies> {
  /** Builds the default nonce store and idempotency layer on these clients instead of the module's. */
  dynamo?: { client: DynamoDBClient; doc: DynamoDBDocumentClient };
}

function resolveDependencies(overrides: HttpDependencyOverrides): () => Promise<HttpDependencies> {
  let resolved: Promise<HttpDependencies> | undefined;
  const build = async (): Promise<HttpDependencies> => {
    const config = () => loadConfig(httpEnv);
    const dynamo = overrides.dynamo ?? { client: dynamoDb, doc: documentClient };
    const clock = overrides.clock ?? (() => new Date());
    return {
      clock,
      clientRegistry: overrides.clientRegistry ?? (() => loadClientRegistry()),
      nonces: overrides.nonces ?? new NonceStore(dynamo.doc, config().NONCES_TABLE, clock),
      idempotency:
        overrides.idempotency ??
        new DynamoDBPersistenceLayer({
          tableName: config().IDEMPOTENCY_TABLE,
          awsSdkV3Client: dynamo.client,
        }),
    };
  };
  // Resolved on the first request, not at import: a misconfigured function answers 500 and logs
  // which variables are wrong, and tests can set the environment after importing.
  return () => {
    resolved ??= build();
    resolved.catch(() => {
      resolved = undefined;
    });
    return resolved;
  };
}

interface RequestState {
  correlationId: string;
  client?: AuthenticatedClient;
  rawBody?: Buffer;
  body?: unknown;
  path?: unknown;
  query?: unknown;
}

const CORRELATION_HEADER = 'x-correlation-id';
const CORRELATION_PATTERN = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * A route served from its contract: the only form — a route without a contract would be served but not
 * documented, and its answers not checked against what the OpenAPI promises.
 */
export function httpHandler<
  B extends Schema,
  P extends Schema,
  Q extends Schema,
  R extends Record<number, ResponseContract>,
  A extends Authentication,
>(route: ContractRoute<B, P, Q, R, A>, overrides: HttpDependencyOverrides = {}): HttpLambdaHandler {
  return buildHttpHandler(
    // Erased to the stack's untyped view: the typing was the caller's, checked above.
    routeOfContract(
      route as unknown as ContractRoute<
        Schema,
        Schema,
        Schema,
        Record<number, ResponseContract>,
        Authentication
      >,
    ),
    overrides,
  );
}

/** The stack's view of a contract: the same checks as a hand-declared route, all taken from the contract. */
function routeOfContract(
  route: ContractRoute<Schema, Schema, Schema, Record<number, ResponseContract>, Authentication>,
): HttpRoute<Schema, Schema, Schema> | PublicHttpRoute<Schema, Schema, Schema> {
  const { contract } = route;
  const common = {
    operation: contract.operation,
    body: contract.body,
    path: contract.params,
    query: contract.query,
    ...(route.maxBodyBytes === undefined ? {} : { maxBodyBytes: route.maxBodyBytes }),
  };
  const handle = route.handle as (input: PublicHandlerInput<Schema, Schema, Schema>) => Promise<HttpResult>;
  if (contract.authentication === 'public') return { ...common, public: true, handle };
  return { ...common, scope: contract.scope, idempotent: contract.idempotent === true, handle };
}

function buildHttpHandler<B extends Schema, P extends Schema, Q extends Schema>(
  route: HttpRoute<B, P, Q> | PublicHttpRoute<B, P, Q>,
  overrides: HttpDependencyOverrides,
): HttpLambdaHandler {
  const dependencies = resolveDependencies(overrides);
  // Keyed by the event: middy hands the handler only (event, context), and no middleware replaces it.
  const states = new WeakMap<APIGatewayProxyEvent, RequestState>();
  const stateOf = (event: APIGatewayProxyEvent): RequestState => {
    const state = states.get(event);
    if (!state) throw new Error('request state missing: correlation middleware did not run');
    return state;
  };

  const correlationAndProblems: MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> = {
    before: (request) => {
      const correlationId = correlationIdOf(request.event, request.context);
      states.set(request.event, { correlationId });
      logger.appendKeys({ correlationId, operation: route.operation });
    },
    after: (request) => {
      const state = stateOf(request.event);
      if (request.response) {
        request.response.headers = { ...request.response.headers, [CORRELATION_HEADER]: state.correlationId };
        countResponse(request.response.statusCode);
      }
    },
    onError: (request) => {
      const correlationId =
        states.get(request.event)?.correlationId ?? correlationIdOf(request.event, request.context);
      const problem = asProblem(request.error);
      request.response = toProblemResponse(problem, correlationId);
      countResponse(problem.status);
    },
  };

  const authentication: MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> = {
    before: async (request) => {
      const state = stateOf(request.event);
      const maxBytes = route.maxBodyBytes ?? MAX_BODY_BYTES;
      state.rawBody = rawBodyBytes(request.event, maxBytes);
      if (route.public) return;
      const deps = await dependencies();
      const registry = await deps.clientRegistry();
      const event = request.event;
      const verified = verifySignature({
        headers: event.headers ?? {},
        method: event.httpMethod,
        paths: [event.requestContext?.path, event.path].filter((p): p is string => Boolean(p)),
        query: event.multiValueQueryStringParameters ?? event.queryStringParameters,
        body: state.rawBody,
        now: deps.clock(),
        secretFor: (accessKeyId) => registry.findByAccessKey(accessKeyId)?.secret,
      });
      const client = registry.findByAccessKey(verified.accessKeyId);
      if (!client) throw unauthorized('signature-invalid', 'The access key is unknown.');
      if (
        (await deps.nonces.recordNonce(verified.accessKeyId, verified.nonce, NONCE_TTL_SECONDS)) ===
        'replayed'
      ) {
        throw unauthorized('signature-replayed', 'This X-Hub-Nonce was already used.');
      }
      state.client = withoutSecret(client);
      logger.appendKeys({ clientId: client.clientId });
      if (route.scope && !hasScope(client, route.scope)) {
        throw forbidden('scope-missing', `This operation needs the scope ${route.scope}.`);
      }
    },
  };

  const parsingAndValidation: MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> = {
    before: (request) => {
      const state = stateOf(request.event);
      const event = request.event;
      if (route.body) {
        assertJsonContentType(event.headers?.['content-type']);
        state.body = parseJsonBody(state.rawBody ?? Buffer.alloc(0));
      }
      const errors: FieldError[] = [];
      state.path = validate(route.path, decodePathParameters(event.pathParameters, errors), 'path', errors);
      state.query = validate(route.query, event.queryStringParameters ?? {}, 'query', errors);
      state.body = validate(route.body, state.body, 'body', errors);
      if (errors.length > 0) throw validationFailed(errors);
    },
  };

  const idempotency = idempotencyKeyMiddleware({
    operation: route.operation,
    persistence: async () => (await dependencies()).idempotency,
    // Powertools has already flushed metrics and reset the logger when a stored response is replayed.
    onReplay: (request, stored) => {
      return {
        ...stored,
        headers: {
          ...stored.headers,
          [CORRELATION_HEADER]: stateOf(request.event).correlationId,
          'idempotent-replayed': 'true',
        },
      };
    },
  });

  const handle = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const state = stateOf(event);
    const input: PublicHandlerInput<B, P, Q> = {
      body: state.body as Parsed<B>,
      path: state.path as Parsed<P>,
      query: state.query as Parsed<Q>,
      correlationId: state.correlationId,
      logger,
      metrics,
      event,
    };
    if (route.public) return toJsonResponse(await route.handle(input));
    if (!state.client) throw new Error('handler reached without an authenticated client');
    return toJsonResponse(await route.handle({ ...input, client: state.client }));
  };

  const stack = middy<APIGatewayProxyEvent, APIGatewayProxyResult>(handle)
    .use(httpHeaderNormalizer())
    .use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(correlationAndProblems)
    .use(authentication)
    .use(parsingAndValidation);
  return !route.public && route.idempotent ? stack.use(idempotency) : stack;
}

function correlationIdOf(event: APIGatewayProxyEvent, context: Context): string {
  const fromHeader = event.headers?.[CORRELATION_HEADER];
  if (fromHeader && CORRELATION_PATTERN.test(fromHeader)) return fromHeader;
  return event.requestContext?.requestId ?? context?.awsRequestId ?? randomUUID();
}

function asProblem(error: unknown): Problem {
  if (isProblem(error)) {
    logger.info('request refused', { status: error.status, problem: error.slug });
    return error;
  }
  if (isTransientAwsError(error)) {
    logger.warn('a dependency is throttling or failing', error as Error);
    return dependencyUnavailable();
  }
  logger.error('request failed', error as Error);
  return internalError();
}

function countResponse(status: number): void {
  metrics.addMetric(`Http${Math.floor(status / 100)}xx`, MetricUnit.Count, 1);
}

function validate(schema: Schema, value: unknown, location: string, errors: FieldError[]): unknown {
  if (!schema) return undefined;
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  errors.push(...fieldErrors(result.error.issues, [location]));
  return undefined;
}

// API Gateway REST passes path parameters still percent-encoded (a caseId arrives as `330000%3A…`).
function decodePathParameters(
  parameters: APIGatewayProxyEvent['pathParameters'],
  errors: FieldError[],
): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(parameters ?? {})) {
    if (value === undefined) continue;
    try {
      decoded[name] = decodeURIComponent(value);
    } catch {
      errors.push({ path: `/path/${name}`, message: 'Invalid percent-encoding' });
    }
  }
  return decoded;
}

function toJsonResponse(result: HttpResult): APIGatewayProxyResult {
  if (result.body === undefined) {
    return { statusCode: result.status, headers: { ...result.headers }, body: '' };
  }
  return {
    statusCode: result.status,
    headers: { ...result.headers, 'content-type': 'application/json' },
    body: JSON.stringify(result.body),
  };
}
