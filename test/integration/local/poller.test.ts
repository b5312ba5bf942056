import { join } from 'node:path';
import {
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEngine } from '../../../infra/local/engines/dynamodb';
import type { HubModel, QueueModel } from '../../../infra/local/model';
import { ensureQueues } from '../../../infra/local/provision';
import { reportedFailures, type SqsPollers, startSqsPollers } from '../../../infra/local/sqs-poller';
import { loadHubModel } from '../../../infra/local/template';
import { type LocalFunctionHost, startFunctionHost } from '../../../infra/local/workers';
import { startLocalSqs, stopLocalSqs } from '../../support/sqs';

const assemblyDir = join(import.meta.dirname, '../../fixtures/templates/hub');
const PRIVATE = 'zwfw-dev-private';

let engine: RunningEngine;
let sqs: SQSClient;
let model: HubModel;
let host: LocalFunctionHost;
let pollers: SqsPollers;
const logs: Record<string, unknown>[] = [];

/** A second consumer, without ReportBatchItemFailures, whose whole batch fails on one bad record. */
function withStrictConsumer(base: HubModel): HubModel {
  const queue = (name: string, deadLetter?: QueueModel['deadLetter']): QueueModel => ({
    key: `test/${name}`,
    queueName: name,
    queueUrl: `${engine.endpoint}/000000000000/${name}`,
    arn: `arn:aws:sqs:us-east-1:000000000000:${name}`,
    // Longer than the batching window, as AWS requires, so a batch never outlives its own messages' visibility.
    visibilityTimeoutSeconds: 2,
    fifo: false,
    ...(deadLetter ? { deadLetter } : {}),
  });
  const consumer = base.functions.find((f) => f.key === `${PRIVATE}/ConsumerFunction3344`);
  if (!consumer) throw new Error('fixture consumer missing');
  return {
    ...base,
    queues: [
      ...base.queues,
      queue('strict-dlq'),
      queue('strict', { targetKey: 'test/strict-dlq', maxReceiveCount: 2 }),
    ],
    functions: [
      ...base.functions,
      {
        ...consumer,
        key: 'test/strict-consumer',
        functionName: 'strict-consumer',
        handler: 'index.allOrNothing',
      },
    ],
    eventSourceMappings: [
      ...base.eventSourceMappings,
      {
        key: 'test/strict-mapping',
        functionKey: 'test/strict-consumer',
        queueKey: 'test/strict',
        batchSize: 10,
        maximumBatchingWindowSeconds: 1,
        reportBatchItemFailures: false,
        enabled: true,
      },
    ],
  };
}

beforeAll(async () => {
  ({ engine, sqs } = await startLocalSqs());
  model = withStrictConsumer(loadHubModel(assemblyDir, { sqsEndpoint: engine.endpoint }));
  await ensureQueues(sqs, model.queues);
  const endpoints = {
    dynamodb: 'http://127.0.0.1:1',
    sqs: engine.endpoint,
    s3: 'http://127.0.0.1:1',
    eventbridge: 'http://127.0.0.1:1',
  };
  host = await startFunctionHost({ model, endpoints, log: () => {} });
  pollers = startSqsPollers({ model, host, sqs, log: (entry) => logs.push(entry) });
});

afterAll(async () => {
  await pollers?.stop();
  await host?.stop();
  await stopLocalSqs({ engine, sqs });
});

const queueUrl = (key: string) => model.queues.find((q) => q.key === key)?.queueUrl as string;

async function sendAll(url: string, bodies: string[]) {
  for (let i = 0; i < bodies.length; i += 10) {
    const entries = bodies.slice(i, i + 10).map((body, index) => ({ Id: String(index), MessageBody: body }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
  }
}

async function receiveAll(url: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
      }),
    );
    if (Messages.length === 0) return all;
    all.push(...Messages);
  }
}

describe('SQS event-source mapping poller', () => {
  it('deletes the records a batch reports as done and dead-letters the failing one after maxReceiveCount', async () => {
    const bodies = ['case-1', 'case-2', 'poison-3', 'case-4', 'case-5', 'case-6', 'case-7'];
    await sendAll(queueUrl(`${PRIVATE}/CaseQueueBEEF`), bodies);
    await pollers.drained({ timeoutMs: 20_000 });

    const dead = await receiveAll(queueUrl(`${PRIVATE}/CaseQueueDlqF00D`));
    expect(dead.map((m) => m.Body)).toEqual(['poison-3']);
    expect(pollers.counters()[`${PRIVATE}/ConsumerMapping7788`]).toEqual({
      received: 8, // 7 messages, the poison one twice
      succeeded: 6,
      failed: 2,
      deadLettered: 1,
      invocations: expect.any(Number),
      invocationErrors: 0,
    });
  });

  it('keeps a whole batch when the invocation fails, until the batch reaches the DLQ', async () => {
    await sendAll(queueUrl('test/strict'), ['ok-a', 'explode-b', 'ok-c']);
    await pollers.drained({ timeoutMs: 20_000 });

    const dead = await receiveAll(queueUrl('test/strict-dlq'));
    expect(dead.map((m) => m.Body).sort()).toEqual(['explode-b', 'ok-a', 'ok-c']);
    expect(pollers.counters()['test/strict-mapping']).toMatchObject({
      succeeded: 0,
      failed: 6,
      deadLettered: 3,
      invocationErrors: 2,
    });
    expect(
      logs.some(
        (entry) =>
          entry.message === 'SQS batch invocation failed' && String(entry.error).includes('batch rejected'),
      ),
    ).toBe(true);
  });

  it('reports idle once everything is processed', async () => {
    expect(await pollers.idle()).toBe(true);
  });
});

describe('reportedFailures (Lambda partial batch response rules)', () => {
  const batch = new Set(['a', 'b', 'c']);

  it('treats a missing or empty list as complete success', () => {
    expect(reportedFailures(null, batch)).toEqual(new Set());
    expect(reportedFailures({}, batch)).toEqual(new Set());
    expect(reportedFailures({ batchItemFailures: [] }, batch)).toEqual(new Set());
  });

  it('fails exactly the reported items', () => {
    expect(reportedFailures({ batchItemFailures: [{ itemIdentifier: 'b' }] }, batch)).toEqual(new Set(['b']));
  });

  it('fails the whole batch on an empty or unknown identifier, or a malformed list', () => {
    expect(reportedFailures({ batchItemFailures: [{ itemIdentifier: '' }] }, batch)).toEqual(batch);
    expect(reportedFailures({ batchItemFailures: [{ itemIdentifier: 'zzz' }] }, batch)).toEqual(batch);
    expect(reportedFailures({ batchItemFailures: 'b' }, batch)).toEqual(batch);
  });
});
