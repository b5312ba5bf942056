import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type GatewayRequest, respond } from '../../../infra/local/gateway';
import type { FunctionHost } from '../../../infra/local/model';
import { emptyModel, privateCaseRoutes } from '../../support/model';

const model = emptyModel({ routes: privateCaseRoutes });

function hostRunning(handler: (functionKey: string, event: APIGatewayProxyEvent) => unknown) {
  const calls: { functionKey: string; event: APIGatewayProxyEvent }[] = [];
  const host: FunctionHost = {
    invoke: async (functionKey, event) => {
      calls.push({ functionKey, event: event as APIGatewayProxyEvent });
      return handler(functionKey, event as APIGatewayProxyEvent);
    },
    stop: async () => {},
  };
  return { host, calls };
}

const request = (overrides: Partial<GatewayRequest> = {}): GatewayRequest => ({
  method: 'GET',
  url: '/v1/cases/330000%3A0001',
  rawHeaders: ['Host', 'localhost'],
  body: Buffer.alloc(0),
  sourceIp: '127.0.0.1',
  correlationId: 'corr-1',
  receivedAt: new Date('2026-11-21T02:00:00Z'),
  ...overrides,
});

const silent = () => {};
const json = (body: Buffer) => JSON.parse(body.toString('utf8'));

describe('respond', () => {
  it('invokes the route’s function with the proxy event and returns its result', async () => {
    const { host, calls } = hostRunning((_, event) => ({
      statusCode: 200,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ caseId: event.pathParameters?.caseId }),
    }));
    const response = await respond(request(), { model, host, isReady: () => true }, silent);
    expect(calls.map((c) => c.functionKey)).toEqual(['private/GetCaseFn']);
    expect(response.statusCode).toBe(200);
    expect(json(response.body)).toEqual({ caseId: '330000%3A0001' });
    expect(response.headers['X-Correlation-Id']).toEqual(['corr-1']);
  });

  it('answers health from isReady', async () => {
    const { host } = hostRunning(() => null);
    const ready = await respond(request({ url: '/health' }), { model, host, isReady: () => true }, silent);
    expect([ready.statusCode, json(ready.body)]).toEqual([200, { status: 'ok' }]);
    const starting = await respond(
      request({ url: '/health' }),
      { model, host, isReady: () => false },
      silent,
    );
    expect(starting.statusCode).toBe(503);
    expect(starting.headers['Content-Type']).toEqual(['application/problem+json']);
  });

  it.each([
    ['unknown path', request({ url: '/v2/nothing' }), 404, 'urn:zwfw-hub:problem:not-found'],
    ['wrong method', request({ method: 'DELETE' }), 405, 'urn:zwfw-hub:problem:method-not-allowed'],
    [
      'too large a body',
      request({ method: 'POST', url: '/v1/cases:batch', body: 'too-large' }),
      413,
      'urn:zwfw-hub:problem:payload-too-large',
    ],
  ])('answers %s with a problem and never calls the function', async (_, req, status, type) => {
    const { host, calls } = hostRunning(() => null);
    const response = await respond(req, { model, host, isReady: () => true }, silent);
    expect(calls).toEqual([]);
    expect(response.statusCode).toBe(status);
    expect(response.headers['Content-Type']).toEqual(['application/problem+json']);
    expect(json(response.body)).toMatchObject({
      type,
      status,
      title: expect.any(String),
      detail: expect.any(String),
    });
    expect(response.headers['X-Correlation-Id']).toEqual(['corr-1']);
  });

  it('lists the allowed methods on a 405', async () => {
    const { host } = hostRunning(() => null);
    const response = await respond(request({ method: 'PUT' }), { model, host, isReady: () => true }, silent);
    expect(response.headers.Allow).toEqual(['GET']);
  });

  it.each([
    ['throws', () => Promise.reject(new Error('handler exploded'))],
    ['returns no proxy result', () => ({ hello: 'world' })],
  ])('answers 502 Bad Gateway and logs when the function %s', async (_, handler) => {
    const { host } = hostRunning(handler);
    const log: Record<string, unknown>[] = [];
    const response = await respond(request(), { model, host, isReady: () => true }, (e) => log.push(e));
    expect(response.statusCode).toBe(502);
    expect(json(response.body)).toMatchObject({ title: 'Bad Gateway', status: 502 });
    expect(log).toEqual([
      expect.objectContaining({ level: 'ERROR', functionKey: 'private/GetCaseFn', correlationId: 'corr-1' }),
    ]);
  });

  it('answers 504 when the function outlives the integration timeout', async () => {
    const { host } = hostRunning(() => new Promise(() => {}));
    const response = await respond(
      request(),
      { model, host, isReady: () => true, integrationTimeoutMs: 5 },
      silent,
    );
    expect(response.statusCode).toBe(504);
    expect(json(response.body)).toMatchObject({ type: 'urn:zwfw-hub:problem:gateway-timeout' });
  });
});
