import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaseApi } from '../../../functions/case-aggregate/api';
import { processChanges } from '../../../functions/case-aggregate/change-processor';
import { type CaseChange, caseChangeMessageSchema } from '../../../functions/case-aggregate/domain/change';
import { defaultStatisticsOptions } from '../../../functions/case-aggregate/domain/statistics';
import { createChangeQueue } from '../../../functions/case-aggregate/queue';
import { createCaseStore } from '../../../functions/case-aggregate/store';
import type { RunningEngine } from '../../../infra/local/engines/dynamodb';
import { ClientRegistry } from '../../../shared/client-registry';
import { NonceStore } from '../../../shared/nonce-store';
import { lambdaContext, signedApiEvent } from '../../support/api-gateway';
import { localDynamo, scratchTables } from '../../support/dynamo';
import { startLocalSqs, stopLocalSqs } from '../../support/sqs';
import { CITIZEN_ID, rawRecord, TEST_HMAC_KEY } from '../../unit/case-aggregate/fixtures';

const dynamo = localDynamo();
const tables = scratchTables(dynamo.client);
let engine: RunningEngine;
let sqs: SQSClient;
let queueUrl: string;
let registry: ClientRegistry;
let api: ReturnType<typeof createCaseApi>;
let brokenApi: ReturnType<typeof createCaseApi>;
let store: ReturnType<typeof createCaseStore>;
const NOW = new Date('2026-11-21T10:00:00+08:00');

beforeAll(async () => {
  ({ engine, sqs } = await startLocalSqs());
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'case-changes' }))).QueueUrl as string;
  registry = ClientRegistry.parse(
    await readFile(join(import.meta.dirname, '../../../infra/local/clients.dev.json'), 'utf8'),
  );
  const [nonces, idempotency, cases, stats] = await Promise.all([
    tables.create('nonces'),
    tables.create('idempotency', { keySchema: ['id'] }),
    tables.create('cases'),
    tables.create('stats'),
  ]);
  store = createCaseStore({ doc: dynamo.doc, casesTable: cases, statsTable: stats });
  const http = {
    clientRegistry: async () => registry,
    nonces: new NonceStore(dynamo.doc, nonces, () => NOW),
    idempotency: new DynamoDBPersistenceLayer({ tableName: idempotency, awsSdkV3Client: dynamo.client }),
    clock: () => NOW,
  };
  const deps = {
    store: () => store,
    idHmacKey: async () => Buffer.from(TEST_HMAC_KEY),
    // The user space has its own test (me-cases.test.ts); here every token is refused.
    verifyBearer: () => async () => undefined,
    clock: () => NOW,
    http,
  };
  api = createCaseApi({ ...deps, queue: () => createChangeQueue({ sqs, queueUrl }) });
  brokenApi = createCaseApi({
    ...deps,
    queue: () =>
      createChangeQueue({ sqs, queueUrl: `${engine.endpoint}/000000000000/missing`, sleep: async () => {} }),
  });
});

afterAll(async () => {
  await tables.dropAll();
  await stopLocalSqs({ engine, sqs });
});

const context = lambdaContext;

function signed(accessKeyId: string, method: string, path: string, body = ''): APIGatewayProxyEvent {
  const caseId = path.startsWith('/v1/cases/') ? path.slice('/v1/cases/'.length) : undefined;
  return signedApiEvent(registry, accessKeyId, {
    method,
    path,
    resource: caseId ? '/v1/cases/{caseId}' : path,
    body,
    pathParameters: caseId ? { caseId } : null,
    now: NOW,
  });
}

const post = (target: typeof api, accessKeyId: string, records: unknown) =>
  target.ingest(signed(accessKeyId, 'POST', '/v1/cases:batch', JSON.stringify({ records })), context());
const get = (accessKeyId: string, caseId: string) =>
  api.getCase(signed(accessKeyId, 'GET', `/v1/cases/${encodeURIComponent(caseId)}`), context());
const json = (response: APIGatewayProxyResult) => JSON.parse(response.body);

async function drainQueue(): Promise<{ messageId: string; change: CaseChange; raw: string }[]> {
  const received: { messageId: string; change: CaseChange; raw: string }[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return received;
    for (const m of Messages) {
      received.push({
        messageId: m.MessageId as string,
        change: caseChangeMessageSchema.parse(JSON.parse(m.Body as string)),
        raw: m.Body as string,
      });
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

describe('case API', () => {
  it('accepts valid records, rejects the rest with reasons, and enqueues PII-free changes', async () => {
    const response = await post(api, 'AKDEVREGION330000', [
      rawRecord({ caseNumber: 'API-1', status: 'submitted', statusAt: '2026-11-20T09:00:00+08:00' }),
      rawRecord({ caseNumber: 'API-1', status: 'accepted', statusAt: '2026-11-20T10:00:00+08:00' }),
      rawRecord({
        caseNumber: 'API-2',
        applicant: { type: 'person', idType: 'citizen_id', idNumber: '110105194912310021', name: '李四' },
      }),
      rawRecord({ caseNumber: 'GD-1', regionCode: '440106' }),
    ]);
    expect(response.statusCode).toBe(202);
    const reply = json(response);
    expect(reply).toEqual({
      batchId: expect.any(String),
      accepted: 2,
      rejected: [
        {
          index: 2,
          reason: 'invalid_record',
          errors: [{ path: '/applicant/idNumber', message: expect.any(String) }],
        },
        { index: 3, reason: 'out_of_scope' },
      ],
    });
    expect(response.body).not.toContain('110105194912310021');

    const messages = await drainQueue();
    expect(messages.map((m) => m.change.status).sort()).toEqual(['accepted', 'submitted']);
    for (const m of messages) {
      expect(m.change).toMatchObject({
        caseId: '330106:API-1',
        clientId: 'region-330000',
        batchId: reply.batchId,
      });
      expect(m.raw).not.toContain(CITIZEN_ID);
      expect(m.raw).not.toContain('张三丰');
    }

    await processChanges(
      { store, publish: async () => {}, clock: () => NOW, statistics: defaultStatisticsOptions },
      messages.map(({ messageId, change }) => ({ messageId, change })),
    );
    const found = await get('AKDEVREGION330000', '330106:API-1');
    expect(found.statusCode).toBe(200);
    expect(json(found)).toMatchObject({
      caseId: '330106:API-1',
      status: 'accepted',
      applicant: { type: 'person', idType: 'citizen_id', maskedName: '张**' },
      timeline: [
        { status: 'submitted', at: '2026-11-20T01:00:00.000Z' },
        { status: 'accepted', at: '2026-11-20T02:00:00.000Z' },
      ],
      conflicts: [],
    });
    expect(found.body).not.toContain(CITIZEN_ID);
    expect(found.body).not.toContain('idHmac');
    expect((await get('AKDEVMINISTRYMPS', '330106:API-1')).statusCode).toBe(200);
  });

  it('refuses a bad envelope with a 422 problem', async () => {
    for (const records of [[], 'nope', Array.from({ length: 501 }, () => ({}))]) {
      const response = await post(api, 'AKDEVREGION330000', records);
      expect(response.statusCode).toBe(422);
      expect(response.headers?.['content-type']).toBe('application/problem+json');
    }
  });

  it('reports records SQS did not take as enqueue_failed', async () => {
    const response = await post(brokenApi, 'AKDEVREGION330000', [
      rawRecord({ caseNumber: 'LOST-1' }),
      rawRecord({ regionCode: 'x' }),
    ]);
    expect(response.statusCode).toBe(202);
    expect(json(response)).toMatchObject({
      accepted: 0,
      rejected: [
        { index: 0, reason: 'enqueue_failed' },
        { index: 1, reason: 'invalid_record' },
      ],
    });
  });

  it('answers 403 for another province, 404 for an unknown case and 422 for a malformed id', async () => {
    expect((await get('AKDEVREGION440000', '330106:API-1')).statusCode).toBe(403);
    expect((await get('AKDEVREGION330000', '330106:NEVER-SENT')).statusCode).toBe(404);
    expect((await get('AKDEVREGION330000', 'not-a-case-id')).statusCode).toBe(422);
  });

  it('refuses clients without the case scopes', async () => {
    expect((await post(api, 'AKDEVISSUER330000', [rawRecord()])).statusCode).toBe(403);
    expect((await get('AKDEVAPPCITIZEN', '330106:API-1')).statusCode).toBe(403);
  });
});
