import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEngine } from '../../../infra/local/engines/dynamodb';
import type { FunctionHost, QueueModel, TargetModel } from '../../../infra/local/model';
import { createTargetDelivery, selectPath, targetPayload } from '../../../infra/local/targets';
import { emptyModel } from '../../support/model';
import { startLocalSqs, stopLocalSqs } from '../../support/sqs';

const envelope = {
  version: '0',
  id: 'evt-1',
  'detail-type': 'CaseStatusChanged',
  source: 'zwfw.case-aggregate',
  account: '000000000000',
  time: '2026-11-21T02:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: { version: 1, caseId: '330000:0001', status: 'accepted', 'odd-key': ['a', 'b'] },
};

const model = (queues: QueueModel[] = []) => emptyModel({ queues });

/** Runs a plain JS function per invocation and records what it was given. */
function fakeHost(behaviour: (functionKey: string, event: unknown) => unknown = () => null) {
  const calls: { functionKey: string; event: unknown }[] = [];
  const host: FunctionHost = {
    invoke: async (functionKey, event) => {
      calls.push({ functionKey, event });
      return behaviour(functionKey, event);
    },
    stop: async () => {},
  };
  return { host, calls };
}

describe('targetPayload', () => {
  it('sends the whole event when the target has neither Input nor InputPath', () => {
    const target: TargetModel = { kind: 'function', functionKey: 'f' };
    expect(targetPayload(target, envelope).value).toEqual(envelope);
  });

  it('replaces the event with Input, keeping its text verbatim for queues', () => {
    const target: TargetModel = { kind: 'queue', queueKey: 'q', input: '{ "job": "sweep" }' };
    expect(targetPayload(target, envelope)).toEqual({ value: { job: 'sweep' }, text: '{ "job": "sweep" }' });
  });

  it('selects part of the event with InputPath', () => {
    const target: TargetModel = { kind: 'function', functionKey: 'f', inputPath: '$.detail' };
    expect(targetPayload(target, envelope).value).toEqual(envelope.detail);
  });
});

describe('selectPath', () => {
  it.each([
    ['$', envelope],
    ['$.detail.status', 'accepted'],
    ["$.detail['odd-key'][1]", 'b'],
    ['$.detail.missing.deeper', undefined],
  ])('%s', (path, expected) => {
    expect(selectPath(envelope, path)).toEqual(expected);
  });

  it('refuses JSONPath it does not understand', () => {
    expect(() => selectPath(envelope, '$..status')).toThrow('does not support');
    expect(() => selectPath(envelope, 'detail')).toThrow('must start with $');
  });
});

describe('function targets', () => {
  /** Delivery that retries twice without waiting, recording what it logs. */
  function retryingDelivery(host: FunctionHost) {
    const log: Record<string, unknown>[] = [];
    const deliver = createTargetDelivery({
      model: model(),
      host,
      sqs: new SQSClient({}),
      retryDelaysMs: [0, 0],
      log: (entry) => log.push(entry),
    });
    return { deliver, log };
  }

  it('invoke the function with the event', async () => {
    const { host, calls } = fakeHost();
    const deliver = createTargetDelivery({ model: model(), host, sqs: new SQSClient({}), log: () => {} });
    await deliver({ kind: 'function', functionKey: 'stack/Fn' }, envelope);
    expect(calls).toEqual([{ functionKey: 'stack/Fn', event: envelope }]);
  });

  it('retry twice, then log the loss with the event id instead of throwing', async () => {
    const { host, calls } = fakeHost(() => {
      throw new Error('handler crashed');
    });
    const { deliver, log } = retryingDelivery(host);
    await expect(deliver({ kind: 'function', functionKey: 'stack/Fn' }, envelope)).resolves.toBeUndefined();
    expect(calls).toHaveLength(3);
    expect(log.map((e) => e.level)).toEqual(['WARN', 'WARN', 'ERROR']);
    expect(log[2]).toMatchObject({
      eventId: 'evt-1',
      target: 'function stack/Fn',
      error: 'Error: handler crashed',
    });
  });

  it('stop retrying once an attempt succeeds', async () => {
    let failures = 1;
    const { host, calls } = fakeHost(() => {
      if (failures-- > 0) throw new Error('cold start hiccup');
      return 'ok';
    });
    const { deliver, log } = retryingDelivery(host);
    await deliver({ kind: 'function', functionKey: 'stack/Fn' }, envelope);
    expect(calls).toHaveLength(2);
    expect(log.map((e) => e.level)).toEqual(['WARN']);
  });
});

describe('queue targets (local-aws-sqs)', () => {
  let engine: RunningEngine;
  let sqs: SQSClient;
  let queue: QueueModel;

  beforeAll(async () => {
    ({ engine, sqs } = await startLocalSqs());
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'case-events' }));
    queue = {
      key: 'zwfw-dev-private/CaseEventsQueue',
      queueName: 'case-events',
      queueUrl: QueueUrl as string,
      arn: 'arn:aws:sqs:us-east-1:000000000000:case-events',
      visibilityTimeoutSeconds: 30,
      fifo: false,
    };
  });

  afterAll(async () => {
    await stopLocalSqs({ engine, sqs });
  });

  beforeEach(async () => {
    await drain();
  });

  async function drain(): Promise<string[]> {
    const bodies: string[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (Messages.length === 0) return bodies;
      bodies.push(...Messages.map((m) => m.Body ?? ''));
    }
  }

  /** Delivery to the given queues over local-aws-sqs, recording what it logs. */
  function queueDelivery(queues: QueueModel[] = [queue], options: { retryDelaysMs?: number[] } = {}) {
    const log: Record<string, unknown>[] = [];
    const deliver = createTargetDelivery({
      model: model(queues),
      host: fakeHost().host,
      sqs,
      ...options,
      log: (e) => log.push(e),
    });
    return { deliver, log };
  }

  it('send the event JSON as the message body', async () => {
    const { deliver } = queueDelivery();
    await deliver({ kind: 'queue', queueKey: queue.key }, envelope);
    const bodies = await drain();
    expect(bodies.map((b) => JSON.parse(b))).toEqual([envelope]);
  });

  it('apply InputPath and Input', async () => {
    const { deliver } = queueDelivery();
    await deliver({ kind: 'queue', queueKey: queue.key, inputPath: '$.detail' }, envelope);
    await deliver({ kind: 'queue', queueKey: queue.key, input: '{"fixed":true}' }, envelope);
    const bodies = await drain();
    expect(bodies.sort()).toEqual([JSON.stringify(envelope.detail), '{"fixed":true}'].sort());
  });

  it('log the loss when the queue is unknown to the model', async () => {
    const { deliver, log } = queueDelivery();
    await deliver({ kind: 'queue', queueKey: 'stack/Missing' }, envelope);
    expect(log).toEqual([
      expect.objectContaining({ level: 'ERROR', eventId: 'evt-1', target: 'queue stack/Missing' }),
    ]);
  });

  it('retry and then log the loss when the queue does not exist in SQS', async () => {
    const gone = { ...queue, key: 'stack/Gone', queueUrl: queue.queueUrl.replace('case-events', 'gone') };
    const { deliver, log } = queueDelivery([queue, gone], { retryDelaysMs: [0, 0] });
    await deliver({ kind: 'queue', queueKey: gone.key }, envelope);
    expect(log.map((e) => e.level)).toEqual(['WARN', 'WARN', 'ERROR']);
  });
});
