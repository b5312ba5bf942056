import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createGatewayState,
  type GatewayRequest,
  type GatewayState,
  respond,
} from '../../../infra/local/gateway';
import type { AuthorizerModel, FunctionHost, RouteModel, UsagePlanModel } from '../../../infra/local/model';
import { CLIENT_KIND_TAG } from '../../../infra/rate-limits';
import { emptyModel } from '../../support/model';

const API = 'private/Api';
const authorizer: AuthorizerModel = {
  key: 'private/ClientAuthorizer',
  functionKey: 'private/AuthorizerFn',
  type: 'REQUEST',
  identityHeaders: ['X-Hub-Key'],
  resultTtlSeconds: 300,
};
const guarded = (method: string, resourcePath: string): RouteModel => ({
  apiKey: API,
  method,
  resourcePath,
  functionKey: 'private/ApiFn',
  authorizerFunctionKey: authorizer.functionKey,
  authorizer,
  apiKeyRequired: true,
});
const plan = (kind: string, rateLimit: number, burstLimit: number): UsagePlanModel => ({
  key: `private/Plan-${kind}`,
  name: `zwfw-dev-private-${kind}`,
  apiKeys: [API],
  throttle: { rateLimit, burstLimit },
  tags: { [CLIENT_KIND_TAG]: kind },
});

const model = emptyModel({
  routes: [
    guarded('GET', '/v1/cases/{caseId}'),
    guarded('POST', '/v1/cases:batch'),
    { apiKey: API, method: 'GET', resourcePath: '/.well-known/jwks.json', functionKey: 'private/ApiFn' },
  ],
  usagePlans: [plan('region', 2, 3), plan('app', 100, 200)],
});

/** Clients the fake authorizer knows, by access key; `kind` picks the usage plan. */
const CLIENTS: Record<string, { clientId: string; kind: string; apiKey?: string }> = {
  AKREGION: { clientId: 'region-330000', kind: 'region', apiKey: 'apikey-region-330000' },
  AKREGION2: { clientId: 'region-440000', kind: 'region', apiKey: 'apikey-region-440000' },
  AKISSUER: { clientId: 'issuer-1', kind: 'issuer', apiKey: 'apikey-issuer-1' },
  AKNOAPIKEY: { clientId: 'app-x', kind: 'app' },
};

let calls: { functionKey: string; event: unknown }[];
let state: GatewayState;
let nowMs: number;
/** What the authorizer does; by default the stage-wide Allow of the hub's authorizer. */
let authorize: (event: APIGatewayRequestAuthorizerEvent) => unknown;

const stageWideAllow = (event: APIGatewayRequestAuthorizerEvent) => {
  const client = CLIENTS[event.headers?.['X-Hub-Key'] ?? ''];
  if (!client) throw new Error('Unauthorized');
  return {
    principalId: client.clientId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'execute-api:Invoke',
          Resource: event.methodArn.replace(/\/[A-Z]+\/.*$/, '/*/*'),
        },
      ],
    },
    context: { clientId: client.clientId, kind: client.kind },
    ...(client.apiKey ? { usageIdentifierKey: client.apiKey } : {}),
  };
};

const host: FunctionHost = {
  invoke: async (functionKey, event) => {
    calls.push({ functionKey, event });
    if (functionKey === authorizer.functionKey) return authorize(event as APIGatewayRequestAuthorizerEvent);
    return {
      statusCode: 200,
      body: JSON.stringify({
        authorizer: (event as APIGatewayProxyEvent).requestContext.authorizer,
        apiKey: (event as APIGatewayProxyEvent).requestContext.identity.apiKey,
      }),
    };
  },
  stop: async () => {},
};

const request = (accessKey: string | undefined, overrides: Partial<GatewayRequest> = {}): GatewayRequest => ({
  method: 'GET',
  url: '/v1/cases/330000%3A0001',
  rawHeaders: ['Host', 'localhost', ...(accessKey === undefined ? [] : ['X-Hub-Key', accessKey])],
  body: Buffer.alloc(0),
  sourceIp: '127.0.0.1',
  correlationId: 'corr-1',
  receivedAt: new Date('2026-11-21T02:00:00Z'),
  ...overrides,
});

const send = (req: GatewayRequest, extra: { enforceUsagePlans?: boolean } = {}) =>
  respond(req, { model, host, isReady: () => true, state, clock: () => nowMs, ...extra }, () => {});
const json = (body: Buffer) => JSON.parse(body.toString('utf8'));
const authorizerCalls = () => calls.filter((call) => call.functionKey === authorizer.functionKey).length;
const functionCalls = () => calls.filter((call) => call.functionKey === 'private/ApiFn').length;

beforeEach(() => {
  calls = [];
  state = createGatewayState();
  nowMs = Date.parse('2026-11-21T02:00:00Z');
  authorize = stageWideAllow;
});

describe('the route authorizer', () => {
  it('passes an allowed client to the function with the context, its principal and its API key', async () => {
    const response = await send(request('AKREGION'));
    expect(response.statusCode).toBe(200);
    expect(json(response.body)).toEqual({
      authorizer: { clientId: 'region-330000', kind: 'region', principalId: 'region-330000' },
      apiKey: 'apikey-region-330000',
    });
    const authorizerEvent = calls[0]?.event as APIGatewayRequestAuthorizerEvent;
    expect(authorizerEvent).toMatchObject({ type: 'REQUEST', resource: '/v1/cases/{caseId}' });
  });

  it('refuses a request without X-Hub-Key with 401 before calling anything', async () => {
    const response = await send(request(undefined));
    expect(response.statusCode).toBe(401);
    expect(response.headers['Content-Type']).toEqual(['application/problem+json']);
    expect(json(response.body)).toMatchObject({
      type: 'urn:zwfw-hub:problem:signature-invalid',
      status: 401,
    });
    expect(response.headers['X-Correlation-Id']).toEqual(['corr-1']);
    expect(calls).toEqual([]);
  });

  it('answers 401 when the authorizer says Unauthorized, and does not remember it', async () => {
    for (let i = 0; i < 2; i++) {
      const response = await send(request('AKNOBODY'));
      expect(response.statusCode).toBe(401);
      expect(json(response.body).type).toBe('urn:zwfw-hub:problem:signature-invalid');
    }
    expect(authorizerCalls()).toBe(2);
    expect(functionCalls()).toBe(0);
  });

  it('answers 403 to a Deny', async () => {
    authorize = (event) => ({
      principalId: 'x',
      policyDocument: {
        Statement: [{ Effect: 'Deny', Action: 'execute-api:Invoke', Resource: event.methodArn }],
      },
    });
    const response = await send(request('AKREGION'));
    expect(response.statusCode).toBe(403);
    expect(json(response.body)).toMatchObject({ type: 'urn:zwfw-hub:problem:access-denied', status: 403 });
    expect(functionCalls()).toBe(0);
  });

  it.each([
    ['fails', () => Promise.reject(new Error('registry unreachable'))],
    ['returns no policy', () => ({ principalId: 'x' })],
  ])('answers 500 when the authorizer %s', async (_, behaviour) => {
    authorize = behaviour as never;
    const response = await send(request('AKREGION'));
    expect(response.statusCode).toBe(500);
    expect(json(response.body)).toMatchObject({ type: 'urn:zwfw-hub:problem:authorizer-failed' });
    expect(functionCalls()).toBe(0);
  });

  it('remembers a result per access key for the TTL, across routes, then asks again', async () => {
    await send(request('AKREGION'));
    await send(request('AKREGION', { method: 'POST', url: '/v1/cases:batch' }));
    expect(authorizerCalls()).toBe(1);
    expect(functionCalls()).toBe(2);
    await send(request('AKREGION2'));
    expect(authorizerCalls()).toBe(2);
    nowMs += 300_000;
    await send(request('AKREGION'));
    expect(authorizerCalls()).toBe(3);
  });

  it('applies a remembered policy to each route, so a route-specific Allow refuses the next route', async () => {
    authorize = (event) => ({
      ...(stageWideAllow(event) as object),
      policyDocument: {
        Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: event.methodArn }],
      },
    });
    expect((await send(request('AKREGION'))).statusCode).toBe(200);
    const other = await send(request('AKREGION', { method: 'POST', url: '/v1/cases:batch' }));
    expect(other.statusCode).toBe(403);
    expect(authorizerCalls()).toBe(1);
  });

  it('leaves routes without an authorizer alone', async () => {
    const response = await send(request(undefined, { url: '/.well-known/jwks.json' }));
    expect(response.statusCode).toBe(200);
    expect(calls.map((call) => call.functionKey)).toEqual(['private/ApiFn']);
  });
});

describe('usage plans', () => {
  it('throttle a client over its plan’s burst with 429 and Retry-After, each client on its own bucket', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await send(request('AKREGION'))).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const throttled = await send(request('AKREGION'));
    expect(throttled.headers['Retry-After']).toEqual(['1']);
    expect(json(throttled.body)).toMatchObject({
      type: 'urn:zwfw-hub:problem:too-many-requests',
      status: 429,
    });
    // Another client of the same kind has its own bucket.
    expect((await send(request('AKREGION2'))).statusCode).toBe(200);
    // Half a second at 2 requests/s gives one more.
    nowMs += 500;
    expect((await send(request('AKREGION'))).statusCode).toBe(200);
    expect((await send(request('AKREGION'))).statusCode).toBe(429);
  });

  it('refuse a client whose kind has no plan, or who names no API key, with 403', async () => {
    for (const key of ['AKISSUER', 'AKNOAPIKEY']) {
      const response = await send(request(key));
      expect(response.statusCode).toBe(403);
      expect(json(response.body)).toMatchObject({ type: 'urn:zwfw-hub:problem:usage-plan-missing' });
    }
    expect(functionCalls()).toBe(0);
  });

  it('can be switched off, the authorizer still running', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await send(request('AKREGION'), { enforceUsagePlans: false })).statusCode).toBe(200);
    }
    expect((await send(request('AKISSUER'), { enforceUsagePlans: false })).statusCode).toBe(200);
    expect((await send(request('AKNOBODY'), { enforceUsagePlans: false })).statusCode).toBe(401);
  });
});
