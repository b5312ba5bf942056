import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { z } from 'zod';
import { type RunningFaultProxy, startFaultProxy } from '../../../infra/local/fault-proxy';
import { type AuthenticatedClient, ClientRegistry } from '../../../shared/client-registry';
import { defineRoute } from '../../../shared/contract';
import { httpHandler } from '../../../shared/http';
import { conflict } from '../../../shared/problem';
import { signRequest } from '../../../shared/signing';
import { localAwsConfig } from '../../support/aws';
import { createTestTable, localDynamo, uniqueTableName } from '../../support/dynamo';

const devClientsFile = join(import.meta.dirname, '../../../infra/local/clients.dev.json');
const dynamo = localDynamo();
const noncesTable = uniqueTableName('nonces');
const idempotencyTable = uniqueTableName('idempotency');
let registry: ClientRegistry;

beforeAll(async () => {
  // The stack builds its nonce store, idempotency layer and registry from these, as in a function.
  process.env.NONCES_TABLE = noncesTable;
  process.env.IDEMPOTENCY_TABLE = idempotencyTable;
  process.env.HUB_CLIENTS_FILE = devClientsFile;
  registry = ClientRegistry.parse(await readFile(devClientsFile, 'utf8'));
  await createTestTable(dynamo.client, noncesTable);
  await createTestTable(dynamo.client, idempotencyTable, { keySchema: ['id'] });
});

const context = (): Context =>
  ({
    functionName: 'case-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:case-api',
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/case-api',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 30_000,
  }) as unknown as Context;

interface EventInput {
  method?: string;
  path?: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  body?: string;
  headers?: Record<string, string>;
  accessKeyId?: string | null;
  nonce?: string;
}

/** An API Gateway REST proxy event as the private API delivers it, signed over the path as sent. */
function apiEvent(input: EventInput = {}): APIGatewayProxyEvent {
  const method = input.method ?? 'POST';
  const path = input.path ?? '/v1/cases:batch';
  const body = input.body ?? JSON.stringify({ records: [{ regionCode: '110000', name: 'Zhang San' }] });
  const client =
    input.accessKeyId === null
      ? undefined
      : registry.findByAccessKey(input.accessKeyId ?? 'AKDEVREGION110000');
  const signature = client
    ? signRequest({
        method,
        path,
        query: input.query,
        body,
        accessKeyId: client.accessKeyId,
        secret: client.secret,
        nonce: input.nonce,
      })
    : {};
  return {
    httpMethod: method,
    path,
    resource: path,
    body,
    isBase64Encoded: false,
    headers: { 'Content-Type': 'application/json', ...signature, ...input.headers },
    multiValueHeaders: {},
    pathParameters: input.pathParameters ?? null,
    queryStringParameters: input.query ?? null,
    multiValueQueryStringParameters: input.query
      ? Object.fromEntries(Object.entries(input.query).map(([k, v]) => [k, [v]]))
      : null,
    stageVariables: null,
    // requestContext.path carries the stage: the stack accepts a signature over either form.
    requestContext: { path: `/dev${path}`, requestId: randomUUID(), stage: 'dev' },
  } as unknown as APIGatewayProxyEvent;
}

const problemOf = (response: APIGatewayProxyResult) => {
  expect(response.headers?.['content-type']).toBe('application/problem+json');
  return JSON.parse(response.body) as {
    type: string;
    status: number;
    errors?: { path: string; message: string }[];
  };
};

const batchSchema = z.object({
  records: z
    .array(z.object({ regionCode: z.string().regex(/^[0-9]{6}$/), name: z.string().min(1) }).strict())
    .min(1)
    .max(500),
});

/** The routes under test, declared as every route of the hub is: by contract. */
const accepted = (schema: z.ZodType) => ({ 202: { description: 'Accepted.', schema } });
const TEST_ROUTES = {
  ingestBatch: defineRoute({
    operation: 'test.ingestBatch',
    method: 'POST',
    path: '/test/batches',
    tag: 'test',
    summary: 'A batch route.',
    scope: 'cases:write',
    authentication: 'signature',
    body: batchSchema,
    idempotent: true,
    responses: accepted(z.object({ batchId: z.string(), accepted: z.number() })),
  }),
  getCase: defineRoute({
    operation: 'test.getCase',
    method: 'GET',
    path: '/test/cases/{caseId}',
    tag: 'test',
    summary: 'A read route with path and query parameters.',
    scope: 'cases:read',
    authentication: 'signature',
    params: z.object({ caseId: z.string().regex(/^[0-9]{6}:[0-9A-Za-z]+$/) }),
    query: z.object({ history: z.enum(['true', 'false']).default('false') }),
    responses: {
      200: { description: 'The case.', schema: z.object({ caseId: z.string(), history: z.string() }) },
    },
  }),
  slow: defineRoute({
    operation: 'test.slow',
    method: 'POST',
    path: '/test/slow',
    tag: 'test',
    summary: 'An idempotent route any client may call.',
    authentication: 'signature',
    body: batchSchema,
    idempotent: true,
    responses: accepted(z.object({ done: z.boolean() })),
  }),
  throttled: defineRoute({
    operation: 'test.throttled',
    method: 'POST',
    path: '/test/throttled',
    tag: 'test',
    summary: 'A route whose own work meets a throttled table.',
    scope: 'cases:write',
    authentication: 'signature',
    body: batchSchema,
    responses: accepted(z.object({})),
  }),
};

const calls: { client: AuthenticatedClient; correlationId: string; accepted: number }[] = [];
const ingest = httpHandler(
  {
    contract: TEST_ROUTES.ingestBatch,
    handle: async ({ body, client, correlationId }) => {
      if (body.records[0]?.regionCode === '999999') throw conflict('region-busy', 'Try later.');
      if (body.records[0]?.regionCode === '000000') throw new Error('table users exploded at /var/secret');
      calls.push({ client, correlationId, accepted: body.records.length });
      return { status: 202, body: { batchId: randomUUID(), accepted: body.records.length } };
    },
  },
  { dynamo },
);

const getCase = httpHandler(
  {
    contract: TEST_ROUTES.getCase,
    handle: async ({ path, query }) => ({
      status: 200,
      body: { caseId: path.caseId, history: query.history },
    }),
  },
  { dynamo },
);

describe('httpHandler', () => {
  it('authenticates, parses, validates and answers JSON with the correlation id', async () => {
    const before = calls.length;
    const response = await ingest(
      apiEvent({ headers: { 'X-Correlation-Id': 'corr-from-client-1' } }),
      context(),
    );
    expect(response.statusCode).toBe(202);
    expect(response.headers?.['content-type']).toBe('application/json');
    expect(response.headers?.['x-correlation-id']).toBe('corr-from-client-1');
    expect(JSON.parse(response.body)).toMatchObject({ accepted: 1 });
    const call = calls[before];
    expect(call?.client).toMatchObject({ clientId: 'region-110000', regionCode: '110000' });
    expect(call?.client).not.toHaveProperty('secret');
    expect(call?.correlationId).toBe('corr-from-client-1');
  });

  it('decodes path parameters once and validates the query', async () => {
    const response = await getCase(
      apiEvent({
        method: 'GET',
        path: '/v1/cases/110000%3AABC123',
        pathParameters: { caseId: '110000%3AABC123' },
        query: { history: 'true' },
        body: '',
      }),
      context(),
    );
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ caseId: '110000:ABC123', history: 'true' });
  });

  it('answers 422 with pointers for path and query errors', async () => {
    const response = await getCase(
      apiEvent({
        method: 'GET',
        path: '/v1/cases/nope',
        pathParameters: { caseId: 'nope' },
        query: { history: 'maybe' },
        body: '',
      }),
      context(),
    );
    expect(response.statusCode).toBe(422);
    expect(
      problemOf(response)
        .errors?.map((e) => e.path)
        .sort(),
    ).toEqual(['/path/caseId', '/query/history']);
  });

  it.each([
    ['signature-missing', () => apiEvent({ accessKeyId: null })],
    ['signature-malformed', () => apiEvent({ headers: { 'X-Hub-Nonce': 'short' } })],
    [
      'signature-stale',
      () => apiEvent({ headers: { 'X-Hub-Timestamp': String(Math.floor(Date.now() / 1000) - 301) } }),
    ],
    [
      'signature-invalid',
      () => ({ ...apiEvent(), body: JSON.stringify({ records: [{ regionCode: '120000', name: 'x' }] }) }),
    ],
  ])('refuses %s with 401', async (slug, event) => {
    const response = await ingest(event(), context());
    expect(response.statusCode).toBe(401);
    expect(problemOf(response).type).toBe(`urn:zwfw-hub:problem:${slug}`);
  });

  it('refuses a replayed nonce with 401', async () => {
    const event = apiEvent();
    expect((await ingest(structuredClone(event), context())).statusCode).toBe(202);
    const replay = await ingest(structuredClone(event), context());
    expect(replay.statusCode).toBe(401);
    expect(problemOf(replay).type).toBe('urn:zwfw-hub:problem:signature-replayed');
  });

  it('refuses a client without the scope with 403', async () => {
    const response = await ingest(apiEvent({ accessKeyId: 'AKDEVAPPCITIZEN' }), context());
    expect(response.statusCode).toBe(403);
    expect(problemOf(response).type).toBe('urn:zwfw-hub:problem:scope-missing');
  });

  it('refuses a body that is not JSON by media type with 415', async () => {
    const response = await ingest(apiEvent({ headers: { 'Content-Type': 'text/plain' } }), context());
    expect(response.statusCode).toBe(415);
  });

  it.each([
    ['broken JSON', '{"records": ['],
    ['duplicate members', '{"records":[{"regionCode":"110000","name":"a","name":"b"}]}'],
  ])('refuses %s with 400 malformed-json', async (_name, body) => {
    const response = await ingest(apiEvent({ body }), context());
    expect(response.statusCode).toBe(400);
    expect(problemOf(response).type).toBe('urn:zwfw-hub:problem:malformed-json');
  });

  it('refuses invalid UTF-8 in a base64 body with 400', async () => {
    const bytes = Buffer.from([0x7b, 0x22, 0x72, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
    const client = registry.findByAccessKey('AKDEVREGION110000');
    const headers = signRequest({
      method: 'POST',
      path: '/v1/cases:batch',
      body: bytes,
      accessKeyId: 'AKDEVREGION110000',
      secret: client?.secret ?? '',
    });
    const event = { ...apiEvent(), body: bytes.toString('base64'), isBase64Encoded: true };
    event.headers = { ...event.headers, ...headers };
    const response = await ingest(event, context());
    expect(response.statusCode).toBe(400);
  });

  it('refuses a body over 1 MiB with 413 before checking the signature', async () => {
    const records = Array.from({ length: 12_000 }, () => ({ regionCode: '110000', name: 'x'.repeat(80) }));
    const response = await ingest(
      apiEvent({ body: JSON.stringify({ records }), accessKeyId: null }),
      context(),
    );
    expect(response.statusCode).toBe(413);
  });

  it('accepts a batch of 500 realistic records well under the size limit', async () => {
    const records = Array.from({ length: 500 }, () => ({ regionCode: '110000', name: '张三'.repeat(20) }));
    const response = await ingest(apiEvent({ body: JSON.stringify({ records }) }), context());
    expect(response.statusCode).toBe(202);
  });

  it('answers 422 validation-failed listing paths without echoing values', async () => {
    const body = JSON.stringify({
      records: [{ regionCode: '11010519491231002X', name: 'Li Si', phone: '13800138000' }],
    });
    const response = await ingest(apiEvent({ body }), context());
    expect(response.statusCode).toBe(422);
    const problem = problemOf(response);
    expect(problem.type).toBe('urn:zwfw-hub:problem:validation-failed');
    expect(problem.errors?.map((e) => e.path).sort()).toEqual([
      '/body/records/0',
      '/body/records/0/regionCode',
    ]);
    for (const value of ['11010519491231002X', 'Li Si', '13800138000', 'phone']) {
      expect(response.body).not.toContain(value);
    }
  });

  it('maps a thrown Problem to its status and anything else to a bare 500', async () => {
    const busy = await ingest(
      apiEvent({ body: JSON.stringify({ records: [{ regionCode: '999999', name: 'a' }] }) }),
      context(),
    );
    expect(busy.statusCode).toBe(409);
    expect(problemOf(busy).type).toBe('urn:zwfw-hub:problem:region-busy');

    const crash = await ingest(
      apiEvent({ body: JSON.stringify({ records: [{ regionCode: '000000', name: 'a' }] }) }),
      context(),
    );
    expect(crash.statusCode).toBe(500);
    expect(problemOf(crash).type).toBe('urn:zwfw-hub:problem:internal-error');
    expect(crash.body).not.toContain('exploded');
    expect(crash.headers?.['x-correlation-id']).toBeTruthy();
  });

  it('answers 503 with Retry-After when a dependency still throttles after the SDK retries', async () => {
    const throttled = await ingestThrough(throttlingProxy());
    const response = await throttled(
      apiEvent({ body: JSON.stringify({ records: [{ regionCode: '110000', name: 'a' }] }) }),
      context(),
    );
    expect(response.statusCode).toBe(503);
    expect(problemOf(response).type).toBe('urn:zwfw-hub:problem:dependency-unavailable');
    expect(response.headers?.['retry-after']).toBe('2');
    // The SDK spent its own retries (its DynamoDB default: 4 attempts) before the hub gave up on the call.
    expect((await throttlingProxy()).counters().refused).toBeGreaterThan(1);
  });

  it('logs refusals and failures with the correlation id but never the body', async () => {
    const lines: string[] = [];
    // Powertools writes info to stdout and errors to stderr.
    const capture = (chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    };
    const spies = [
      vi.spyOn(process.stdout, 'write').mockImplementation(capture),
      vi.spyOn(process.stderr, 'write').mockImplementation(capture),
    ];
    try {
      const pii = { regionCode: '11010519491231002X', name: 'Sun Qi 13800138000' };
      await ingest(apiEvent({ body: JSON.stringify({ records: [pii] }) }), context());
      await ingest(
        apiEvent({
          body: JSON.stringify({ records: [{ regionCode: '000000', name: 'Sun Qi 13800138000' }] }),
          headers: { 'X-Correlation-Id': 'corr-crash-0001' },
        }),
        context(),
      );
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    const logs = lines.join('');
    expect(logs).toContain('validation-failed');
    expect(logs).toMatch(/"message":"request failed".*"correlationId":"corr-crash-0001"/);
    expect(logs).toContain('exploded');
    for (const value of ['11010519491231002X', 'Sun Qi', '13800138000']) expect(logs).not.toContain(value);
  });

  describe('Idempotency-Key', () => {
    const body = JSON.stringify({ records: [{ regionCode: '110000', name: 'Wang Wu' }] });

    it('replays the first response for a retry with a new signature, without running the handler again', async () => {
      const key = `key-${randomUUID()}`;
      const before = calls.length;
      const first = await ingest(apiEvent({ body, headers: { 'Idempotency-Key': key } }), context());
      const retry = await ingest(
        apiEvent({ body, headers: { 'Idempotency-Key': key, 'X-Correlation-Id': 'corr-retry-0001' } }),
        context(),
      );
      expect(first.statusCode).toBe(202);
      expect(retry.statusCode).toBe(202);
      expect(JSON.parse(retry.body)).toEqual(JSON.parse(first.body));
      expect(retry.headers?.['idempotent-replayed']).toBe('true');
      expect(retry.headers?.['x-correlation-id']).toBe('corr-retry-0001');
      expect(calls.length - before).toBe(1);
    });

    it('refuses the same key with a different body with 422', async () => {
      const key = `key-${randomUUID()}`;
      expect(
        (await ingest(apiEvent({ body, headers: { 'Idempotency-Key': key } }), context())).statusCode,
      ).toBe(202);
      const other = JSON.stringify({ records: [{ regionCode: '110000', name: 'Zhao Liu' }] });
      const reused = await ingest(apiEvent({ body: other, headers: { 'Idempotency-Key': key } }), context());
      expect(reused.statusCode).toBe(422);
      expect(problemOf(reused).type).toBe('urn:zwfw-hub:problem:idempotency-key-reused');
    });

    it('scopes keys per client', async () => {
      const key = `key-${randomUUID()}`;
      const before = calls.length;
      await ingest(apiEvent({ body, headers: { 'Idempotency-Key': key } }), context());
      const ministry = await ingest(
        apiEvent({ body, accessKeyId: 'AKDEVMINISTRYMPS', headers: { 'Idempotency-Key': key } }),
        context(),
      );
      expect(ministry.headers?.['idempotent-replayed']).toBeUndefined();
      expect(calls.length - before).toBe(2);
    });

    it('does not store failures: a retry after a Problem runs the handler again', async () => {
      const key = `key-${randomUUID()}`;
      const failing = JSON.stringify({ records: [{ regionCode: '999999', name: 'a' }] });
      const first = await ingest(apiEvent({ body: failing, headers: { 'Idempotency-Key': key } }), context());
      const second = await ingest(
        apiEvent({ body: failing, headers: { 'Idempotency-Key': key } }),
        context(),
      );
      expect([first.statusCode, second.statusCode]).toEqual([409, 409]);
      expect(second.headers?.['idempotent-replayed']).toBeUndefined();
    });

    it('answers 409 to a duplicate that arrives while the first is still running', async () => {
      let entered: () => void = () => {};
      const inside = new Promise<void>((resolve) => {
        entered = resolve;
      });
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const slow = httpHandler(
        {
          contract: TEST_ROUTES.slow,
          handle: async () => {
            entered();
            await gate;
            return { status: 202, body: { done: true } };
          },
        },
        { dynamo },
      );
      const key = `key-${randomUUID()}`;
      const first = slow(apiEvent({ body, headers: { 'Idempotency-Key': key } }), context());
      await inside;
      const duplicate = await slow(apiEvent({ body, headers: { 'Idempotency-Key': key } }), context());
      release();
      expect((await first).statusCode).toBe(202);
      expect(duplicate.statusCode).toBe(409);
      expect(problemOf(duplicate).type).toBe('urn:zwfw-hub:problem:idempotency-request-in-progress');
    });

    it('refuses a malformed key with 400', async () => {
      const response = await ingest(
        apiEvent({ body, headers: { 'Idempotency-Key': 'spaces are not allowed' } }),
        context(),
      );
      expect(response.statusCode).toBe(400);
      expect(problemOf(response).type).toBe('urn:zwfw-hub:problem:idempotency-key-malformed');
    });
  });
});

/** A DynamoDB endpoint that refuses every request the way a throttled table does. */
let proxy: Promise<RunningFaultProxy> | undefined;
const throttlingProxy = () => {
  proxy ??= startFaultProxy(inject('dynamoEndpoint'), { throttleRate: 1, ambiguousShare: 0 });
  return proxy;
};
afterAll(async () => (await proxy)?.stop());

/** A route whose own work is one GetItem on a throttled table; nonces and idempotency go to the real engine. */
async function ingestThrough(endpoint: Promise<RunningFaultProxy>) {
  const throttled = new DynamoDBClient(localAwsConfig((await endpoint).endpoint));
  return httpHandler(
    {
      contract: TEST_ROUTES.throttled,
      handle: async () => {
        await throttled.send(
          new GetItemCommand({ TableName: noncesTable, Key: { pk: { S: 'x' }, sk: { S: 'y' } } }),
        );
        return { status: 202, body: {} };
      },
    },
    { dynamo },
  );
}
