/**
 * The SQS poller's lookout (infra/local/sqs-poller.ts): while a queue is empty one loop of its mapping polls and
 * the others wait, and the first message wakes them all, so an idle hub does not spend its CPU on empty receives
 * and a burst is still gathered by every loop at once. Against the real local-aws-sqs engine; the function is a
 * stand-in that only records its invocations (what the poller does with them is the subject here).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateQueueCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEngine } from '../../infra/local/engines/dynamodb';
import type { FunctionHost, HubModel, QueueModel } from '../../infra/local/model';
import { Lookout, receiveShares, type SqsPollers, startSqsPollers } from '../../infra/local/sqs-poller';
import { startLocalSqs, stopLocalSqs } from '../support/sqs';

const LOOPS = 5;
const IDLE_DELAY_MS = 100;
/** What the engine holds a short poll that finds fewer messages than asked for (local-aws-sqs, 40 ms). */
const ENGINE_HOLD_MS = 40;

let engine: RunningEngine;
let sqs: SQSClient;
let queue: QueueModel;
let receives = 0;
const inFlight = { now: 0, most: 0 };

/** Counts the ReceiveMessage calls the poller makes through its own client, and how many run at once. */
function countReceives(client: SQSClient): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'ReceiveMessageCommand') return next(args);
      receives++;
      inFlight.now++;
      inFlight.most = Math.max(inFlight.most, inFlight.now);
      try {
        return await next(args);
      } finally {
        inFlight.now--;
      }
    },
    { step: 'initialize', name: 'countReceives' },
  );
}

function modelWith(
  mappingQueue: QueueModel,
  batching: { batchSize: number; windowSeconds: number; loops: number } = {
    batchSize: 10,
    windowSeconds: 0,
    loops: LOOPS,
  },
): HubModel {
  return {
    tables: [],
    queues: [mappingQueue],
    buckets: [],
    buses: [],
    rules: [],
    schedules: [],
    functions: [],
    routes: [],
    outputs: {},
    eventSourceMappings: [
      {
        key: 'test/lookout-mapping',
        functionKey: 'test/lookout-consumer',
        queueKey: mappingQueue.key,
        batchSize: batching.batchSize,
        maximumBatchingWindowSeconds: batching.windowSeconds,
        reportBatchItemFailures: true,
        maximumConcurrency: batching.loops,
        enabled: true,
      },
    ],
  };
}

/** Records how many invocations run at once; each takes a while, as a real batch does. */
function recordingHost() {
  const seen = { running: 0, mostAtOnce: 0, records: 0 };
  const host: FunctionHost = {
    async invoke(_key, event) {
      seen.running++;
      seen.mostAtOnce = Math.max(seen.mostAtOnce, seen.running);
      seen.records += (event as { Records: unknown[] }).Records.length;
      await sleep(150);
      seen.running--;
      return { batchItemFailures: [] };
    },
    stop: async () => {},
  };
  return { host, seen };
}

beforeAll(async () => {
  ({ engine, sqs } = await startLocalSqs());
  countReceives(sqs);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'lookout' }));
  queue = {
    key: 'test/lookout',
    queueName: 'lookout',
    queueUrl: QueueUrl as string,
    arn: 'arn:aws:sqs:us-east-1:000000000000:lookout',
    visibilityTimeoutSeconds: 30,
    fifo: false,
  };
});

afterAll(() => stopLocalSqs({ engine, sqs }));

describe('SQS poller lookout', () => {
  let pollers: SqsPollers | undefined;
  afterAll(() => pollers?.stop());

  it('polls an empty queue with one loop, then gathers a burst with every loop and stops promptly', async () => {
    const { host, seen } = recordingHost();
    pollers = startSqsPollers({
      model: modelWith(queue),
      host,
      sqs,
      idleDelayMs: IDLE_DELAY_MS,
      log: () => {},
    });

    const idleMs = 1_500;
    const before = receives;
    await sleep(idleMs);
    const idleReceives = receives - before;
    // Five loops each polling would make about LOOPS × idleMs / (delay + hold) ≈ 53 receives; one makes ≈ 11,
    // plus the first receive of each loop. A slow machine makes fewer, never more.
    const onePollerBound = Math.ceil(idleMs / (IDLE_DELAY_MS + ENGINE_HOLD_MS)) + LOOPS + 2;
    expect(idleReceives).toBeGreaterThan(0);
    expect(idleReceives).toBeLessThanOrEqual(onePollerBound);

    const bodies = Array.from({ length: 80 }, (_, i) => `message-${i}`);
    for (let i = 0; i < bodies.length; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queue.queueUrl,
          Entries: bodies.slice(i, i + 10).map((MessageBody, index) => ({ Id: String(index), MessageBody })),
        }),
      );
    }
    const deadline = Date.now() + 15_000;
    while (pollers.counters()['test/lookout-mapping']?.succeeded !== bodies.length) {
      if (Date.now() > deadline) throw new Error('the burst was not consumed in time');
      await sleep(20);
    }
    expect(seen.records).toBe(bodies.length);
    // The waiting loops woke for the burst: batches ran side by side, not one loop at a time.
    expect(seen.mostAtOnce).toBeGreaterThan(1);

    const stopping = Date.now();
    await pollers.stop();
    pollers = undefined;
    expect(Date.now() - stopping).toBeLessThan(2_000);
  });
});

async function sendMessages(count: number, prefix: string): Promise<void> {
  const bodies = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (let i = 0; i < bodies.length; i += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.queueUrl,
        Entries: bodies.slice(i, i + 10).map((MessageBody, index) => ({ Id: String(index), MessageBody })),
      }),
    );
  }
}

async function consumed(pollers: SqsPollers, count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((pollers.counters()['test/lookout-mapping']?.succeeded ?? 0) < count) {
    if (Date.now() > deadline) throw new Error('the messages were not consumed in time');
    await sleep(20);
  }
}

describe('SQS poller gathering a batch', () => {
  it('reads a backlog with several receives at once and a trickle with one at a time', async () => {
    const { host, seen } = recordingHost();
    // One loop, batches of 50 within a 1 s window: how it gathers, not how many loops, is the subject.
    const batching = { batchSize: 50, windowSeconds: 1, loops: 1 };
    const pollers = startSqsPollers({ model: modelWith(queue, batching), host, sqs, log: () => {} });
    try {
      await sleep(300);
      inFlight.most = 0;
      await sendMessages(50, 'backlog');
      await consumed(pollers, 50);
      expect(seen.records).toBe(50);
      expect(inFlight.most).toBeGreaterThan(1);

      // A trickle within the window: one receive per look (its hold and a 50 ms pause), not a wave each time.
      const began = Date.now();
      const receivesBefore = receives;
      for (let i = 0; i < 4; i++) {
        await sendMessages(1, `trickle-${i}`);
        await sleep(150);
      }
      await consumed(pollers, 54);
      const looks = Math.ceil((Date.now() - began) / (ENGINE_HOLD_MS + 50));
      expect(receives - receivesBefore).toBeLessThanOrEqual(looks + 3);
    } finally {
      await pollers.stop();
    }
  });

  it('splits what a batch lacks into receives of at most ten', () => {
    expect(receiveShares(45)).toEqual([10, 10, 10, 10, 5]);
    expect(receiveShares(10)).toEqual([10]);
    expect(receiveShares(3)).toEqual([3]);
  });
});

describe('Lookout', () => {
  it('lets the first idle loop watch, parks the others until messages are sighted, and releases them on stop', async () => {
    const lookout = new Lookout();
    const abort = new AbortController();
    const watched = lookout.idle(0, 10, abort.signal);
    const parked = [lookout.idle(1, 10, abort.signal), lookout.idle(2, 10, abort.signal)];
    await watched;
    expect(lookout.waiting).toBe(2);

    let woken = 0;
    for (const wait of parked) void wait.then(() => woken++);
    lookout.sighted();
    await Promise.all(parked);
    expect(woken).toBe(2);
    expect(lookout.waiting).toBe(0);

    // After a sighting the next loop to find the queue empty watches; a parked loop is released by stop.
    await lookout.idle(2, 10, abort.signal);
    const waiting = lookout.idle(0, 10, abort.signal);
    expect(lookout.waiting).toBe(1);
    abort.abort();
    await waiting;
    expect(lookout.waiting).toBe(0);
  });
});
