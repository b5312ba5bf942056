import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CaseChange } from '../../../functions/case-aggregate/domain/change';
import { createCaseStore } from '../../../functions/case-aggregate/store';
import { type RunningEventBridge, startEventBridge } from '../../../infra/local/eventbridge';
import { localDynamo, scratchTables } from '../../support/dynamo';
import { emptyModel } from '../../support/model';
import { changeOf } from '../../unit/case-aggregate/fixtures';

/** The consumer entry point as Lambda runs it: its own environment, the real SDK, local DynamoDB and EventBridge. */
const dynamo = localDynamo();
const tables = scratchTables(dynamo.client);
let bus: RunningEventBridge;
let folder: string;
let handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
let casesTable: string;

const busModel = (busName: string) =>
  emptyModel({
    buses: [
      { key: 'Private/Bus', busName, arn: `arn:aws:events:us-east-1:000000000000:event-bus/${busName}` },
    ],
  });

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'case-consumer-'));
  bus = await startEventBridge({
    model: busModel('hub-bus'),
    port: 0,
    deliver: async () => {},
    logFile: join(folder, 'events.jsonl'),
    log: () => {},
  });
  casesTable = await tables.create('cases');
  Object.assign(process.env, {
    CASES_TABLE: casesTable,
    STATS_TABLE: await tables.create('stats'),
    STATS_SHARDS: '4',
    EVENT_BUS_NAME: 'hub-bus',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
    AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint,
  });
  // Imported after the environment is set, as Lambda would load it.
  ({ handler } = await import('../../../functions/case-aggregate/consumer'));
});

afterAll(async () => {
  await tables.dropAll();
  await bus.stop();
  await rm(folder, { recursive: true, force: true });
});

const sqsRecord = (messageId: string, body: string): SQSRecord =>
  ({
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: '1' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:case-changes',
    awsRegion: 'us-east-1',
  }) as unknown as SQSRecord;

const context = { awsRequestId: 'req', getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

async function publishedEvents(): Promise<{ 'detail-type': string; detail: { changeId?: string } }[]> {
  await bus.idle();
  const text = await readFile(join(folder, 'events.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

describe('case change consumer', () => {
  it('stores valid changes, fails only the poison message, and re-announces on redelivery', async () => {
    const changes: CaseChange[] = [
      changeOf({ caseNumber: 'CONS-1', status: 'submitted', statusAt: '2026-11-20T09:00:00+08:00' }),
      changeOf({ caseNumber: 'CONS-1', status: 'accepted', statusAt: '2026-11-20T10:00:00+08:00' }),
    ];
    const event: SQSEvent = {
      Records: [
        sqsRecord('m1', JSON.stringify(changes[0])),
        sqsRecord('poison', JSON.stringify({ ...changes[1], status: 'archived' })),
        sqsRecord('m2', JSON.stringify(changes[1])),
      ],
    };

    expect(await handler(event, context)).toEqual({ batchItemFailures: [{ itemIdentifier: 'poison' }] });
    const store = createCaseStore({
      doc: dynamo.doc,
      casesTable,
      statsTable: process.env.STATS_TABLE as string,
    });
    const stored = await store.getCase('330106:CONS-1');
    expect(stored?.timeline.map((t) => t.status)).toEqual(['submitted', 'accepted']);
    expect((await publishedEvents()).map((e) => e['detail-type'])).toEqual([
      'CaseReceived',
      'CaseStatusChanged',
      'CaseStatusChanged',
    ]);

    expect(await handler({ Records: [event.Records[2] as SQSRecord] }, context)).toEqual({
      batchItemFailures: [],
    });
    expect((await store.getCase('330106:CONS-1'))?.version).toBe(1);
    const events = await publishedEvents();
    expect(events.at(-1)?.detail.changeId).toBe('330106:CONS-1#accepted');
    expect(events).toHaveLength(4);
  });
});
