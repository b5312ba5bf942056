import { request as httpRequest } from 'node:http';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from '../../../infra/local/gateway';
import type { FunctionHost } from '../../../infra/local/model';
import { emptyModel, privateCaseRoutes } from '../../support/model';

const model = emptyModel({
  routes: [
    ...privateCaseRoutes,
    { apiKey: 'public/Api', method: 'POST', resourcePath: '/v1/files', functionKey: 'public/FilesFn' },
  ],
});

/** Echoes what it received so the test sees the event the gateway built. */
const echo = (event: APIGatewayProxyEvent) => ({
  statusCode: 200,
  headers: { 'Content-Type': 'application/json' },
  multiValueHeaders: { 'X-Seen': ['one', 'two'] },
  body: JSON.stringify(event),
});

describe('local gateway over HTTP', () => {
  let gateway: RunningGateway;
  let ready = false;
  let calls: string[] = [];
  let behaviour: (event: APIGatewayProxyEvent) => unknown = echo;
  const logs: Record<string, unknown>[] = [];
  const base = () => `http://127.0.0.1:${gateway.port}`;

  beforeAll(async () => {
    const host: FunctionHost = {
      invoke: async (functionKey, event) => {
        calls.push(functionKey);
        return behaviour(event as APIGatewayProxyEvent);
      },
      stop: async () => {},
    };
    gateway = await startGateway({
      model,
      host,
      port: 0,
      isReady: () => ready,
      bodyLimitBytes: 64 * 1024,
      log: (entry) => logs.push(entry),
    });
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  beforeEach(() => {
    calls = [];
    behaviour = echo;
    logs.length = 0;
  });

  it('answers /health 503 until ready, then 200', async () => {
    ready = false;
    const starting = await fetch(`${base()}/health`);
    expect(starting.status).toBe(503);
    expect(starting.headers.get('content-type')).toBe('application/problem+json');
    ready = true;
    const up = await fetch(`${base()}/health`);
    expect([up.status, await up.json()]).toEqual([200, { status: 'ok' }]);
  });

  it('routes a JSON POST to its function and writes the proxy result back', async () => {
    const response = await fetch(`${base()}/v1/cases:batch?dryRun=true`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Hub-Key': 'AK-region-330000' },
      body: JSON.stringify({ records: [{ itemName: '设立登记' }] }),
    });
    expect(response.status).toBe(200);
    expect(calls).toEqual(['private/IngestFn']);
    expect(response.headers.get('x-seen')).toBe('one, two');
    const event = (await response.json()) as APIGatewayProxyEvent;
    expect(event).toMatchObject({
      resource: '/v1/cases:batch',
      path: '/v1/cases:batch',
      httpMethod: 'POST',
      isBase64Encoded: false,
      queryStringParameters: { dryRun: 'true' },
      requestContext: {
        stage: 'local',
        resourcePath: '/v1/cases:batch',
        identity: { sourceIp: '127.0.0.1' },
      },
    });
    expect(JSON.parse(event.body ?? '')).toEqual({ records: [{ itemName: '设立登记' }] });
    expect(event.headers['x-hub-key'] ?? event.headers['X-Hub-Key']).toBe('AK-region-330000');
  });

  it('keeps the path and the case id as sent (the handler decodes it)', async () => {
    const response = await fetch(`${base()}/v1/cases/330000%3A11330000002593947X`);
    const event = (await response.json()) as APIGatewayProxyEvent;
    expect(event.pathParameters).toEqual({ caseId: '330000%3A11330000002593947X' });
    expect(event.path).toBe('/v1/cases/330000%3A11330000002593947X');
  });

  it('passes repeated query parameters and headers as multi-values', async () => {
    const response = await new Promise<{ body: string }>((resolve, reject) => {
      // fetch folds repeated headers into one; node:http can send them separately, as some clients do.
      const req = httpRequest(
        `${base()}/v1/cases/1?status=accepted&status=completed&page=2`,
        // A raw header list makes node send the pairs as given, so Host has to be in it too.
        {
          headers: ['Host', `127.0.0.1:${gateway.port}`, 'X-Tag', 'a', 'X-Tag', 'b'] as unknown as Record<
            string,
            string
          >,
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => {
            body += chunk.toString();
          });
          res.on('end', () => resolve({ body: res.statusCode === 200 ? body : `${res.statusCode} ${body}` }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    const event = JSON.parse(response.body) as APIGatewayProxyEvent;
    expect(event.queryStringParameters).toEqual({ status: 'completed', page: '2' });
    expect(event.multiValueQueryStringParameters).toEqual({ status: ['accepted', 'completed'], page: ['2'] });
    expect(event.multiValueHeaders['X-Tag']).toEqual(['a', 'b']);
    expect(event.headers['X-Tag']).toBe('b');
  });

  it('passes a binary body base64-encoded and returns a binary result as bytes', async () => {
    const bytes = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0xfe, 0x80]);
    behaviour = (event) => ({
      statusCode: 201,
      headers: { 'Content-Type': 'application/octet-stream' },
      body: event.isBase64Encoded ? (event.body ?? '') : 'bm90IGJhc2U2NA==',
      isBase64Encoded: true,
    });
    const response = await fetch(`${base()}/v1/files`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/pdf' },
      body: bytes,
    });
    expect(response.status).toBe(201);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes);
  });

  it('answers unknown paths 404 and wrong methods 405 with Allow, as problems', async () => {
    const notFound = await fetch(`${base()}/v1/unknown`);
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('content-type')).toBe('application/problem+json');
    expect(await notFound.json()).toMatchObject({ type: 'urn:zwfw-hub:problem:not-found', status: 404 });

    const wrongMethod = await fetch(`${base()}/v1/cases:batch`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect(await wrongMethod.json()).toMatchObject({
      type: 'urn:zwfw-hub:problem:method-not-allowed',
      status: 405,
    });
    expect(calls).toEqual([]);
  });

  it('answers 413 to a body over the limit without calling the function', async () => {
    const response = await fetch(`${base()}/v1/cases:batch`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ records: 'x'.repeat(64 * 1024) }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({
      type: 'urn:zwfw-hub:problem:payload-too-large',
      status: 413,
    });
    expect(calls).toEqual([]);
  });

  it('answers 502 when the function throws, and the server keeps serving', async () => {
    behaviour = () => {
      throw new Error('Task timed out after 10.00 seconds');
    };
    const failed = await fetch(`${base()}/v1/cases/1`);
    expect(failed.status).toBe(502);
    expect(await failed.json()).toMatchObject({ title: 'Bad Gateway', status: 502 });
    expect(logs).toEqual([expect.objectContaining({ level: 'ERROR', functionKey: 'private/GetCaseFn' })]);

    behaviour = echo;
    expect((await fetch(`${base()}/v1/cases/1`)).status).toBe(200);
  });

  it('adds a correlation id when absent and keeps the one sent', async () => {
    const fresh = await fetch(`${base()}/v1/cases/1`);
    const freshId = fresh.headers.get('x-correlation-id');
    expect(freshId).toMatch(/^[0-9a-f-]{36}$/);
    const freshEvent = (await fresh.json()) as APIGatewayProxyEvent;
    expect(freshEvent.headers['X-Correlation-Id']).toBe(freshId);

    const sent = await fetch(`${base()}/v1/cases/1`, { headers: { 'X-Correlation-Id': 'trace-123' } });
    expect(sent.headers.get('x-correlation-id')).toBe('trace-123');

    const problem = await fetch(`${base()}/nowhere`, { headers: { 'X-Correlation-Id': 'trace-404' } });
    expect(problem.headers.get('x-correlation-id')).toBe('trace-404');
  });
});
