import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { QueueModel } from '../../../infra/local/model';
import { ensureQueues } from '../../../infra/local/provision';
import { restoreQueueMessages, saveQueueMessages } from '../../../infra/local/queue-snapshot';
import { emptyModel } from '../../support/model';
import { type LocalSqs, startLocalSqs, stopLocalSqs } from '../../support/sqs';

let dir: string;
let file: string;
const running: LocalSqs[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'zwfw-queue-snapshot-'));
  file = join(dir, 'queues.json');
});

afterEach(async () => {
  for (const engine of running.splice(0)) await stopLocalSqs(engine);
  rmSync(dir, { recursive: true, force: true });
});

/** The same two queues (a source and its DLQ) on a fresh engine, as a restarted hub provisions them. */
async function freshEngine(): Promise<{ sqs: SQSClient; queues: QueueModel[] }> {
  const engine = await startLocalSqs();
  running.push(engine);
  const queue = (name: string, deadLetter?: QueueModel['deadLetter']): QueueModel => ({
    key: `private/${name}`,
    queueName: name,
    queueUrl: `${engine.engine.endpoint}/000000000000/${name}`,
    arn: `arn:aws:sqs:us-east-1:000000000000:${name}`,
    visibilityTimeoutSeconds: 30,
    fifo: false,
    ...(deadLetter ? { deadLetter } : {}),
  });
  const dlq = queue('ingest-dlq');
  const queues = [dlq, queue('ingest', { targetKey: dlq.key, maxReceiveCount: 3 })];
  await ensureQueues(engine.sqs, queues);
  return { sqs: engine.sqs, queues };
}

async function receiveAll(sqs: SQSClient, queue: QueueModel) {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queue.queueUrl,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages.map((m) => ({
    body: m.Body,
    correlationId: m.MessageAttributes?.correlationId?.StringValue,
  }));
}

describe('queue snapshot across a restart', () => {
  it('carries queued messages and their attributes to the next engine', async () => {
    const before = await freshEngine();
    const [dlq, ingest] = before.queues as [QueueModel, QueueModel];
    for (const body of ['a', 'b'])
      await before.sqs.send(new SendMessageCommand({ QueueUrl: ingest.queueUrl, MessageBody: body }));
    await before.sqs.send(
      new SendMessageCommand({
        QueueUrl: ingest.queueUrl,
        MessageBody: 'c',
        MessageAttributes: { correlationId: { DataType: 'String', StringValue: 'corr-1' } },
      }),
    );
    await before.sqs.send(new SendMessageCommand({ QueueUrl: dlq.queueUrl, MessageBody: 'poison' }));

    expect(await saveQueueMessages(before.sqs, emptyModel({ queues: before.queues }), file)).toBe(4);
    await stopLocalSqs(running.shift() as LocalSqs);

    const after = await freshEngine();
    const warnings: string[] = [];
    expect(
      await restoreQueueMessages(after.sqs, emptyModel({ queues: after.queues }), file, (w) =>
        warnings.push(w),
      ),
    ).toBe(4);
    const [newDlq, newIngest] = after.queues as [QueueModel, QueueModel];
    expect(
      (await receiveAll(after.sqs, newIngest)).sort((x, y) => String(x.body).localeCompare(String(y.body))),
    ).toEqual([
      { body: 'a', correlationId: undefined },
      { body: 'b', correlationId: undefined },
      { body: 'c', correlationId: 'corr-1' },
    ]);
    expect(await receiveAll(after.sqs, newDlq)).toEqual([{ body: 'poison', correlationId: undefined }]);
    expect(warnings).toEqual([]);
    // Restored once: a second start must not send the same messages again.
    expect(existsSync(file)).toBe(false);
  });

  it('writes nothing when every queue is empty', async () => {
    const { sqs, queues } = await freshEngine();
    expect(await saveQueueMessages(sqs, emptyModel({ queues }), file)).toBe(0);
    expect(existsSync(file)).toBe(false);
  });

  it('keeps the messages of a queue that left the template aside instead of dropping them', async () => {
    const before = await freshEngine();
    const [dlq] = before.queues as [QueueModel];
    await before.sqs.send(new SendMessageCommand({ QueueUrl: dlq.queueUrl, MessageBody: 'kept' }));
    await saveQueueMessages(before.sqs, emptyModel({ queues: before.queues }), file);

    const after = await freshEngine();
    const warnings: string[] = [];
    const withoutDlq = emptyModel({ queues: after.queues.filter((q) => q.key !== dlq.key) });
    expect(await restoreQueueMessages(after.sqs, withoutDlq, file, (w) => warnings.push(w))).toBe(0);
    expect(warnings).toHaveLength(1);
    expect(readdirSync(dir).some((name) => name.startsWith('queues.json.orphaned-'))).toBe(true);
  });
});
