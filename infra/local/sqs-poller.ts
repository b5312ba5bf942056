/**
 * Polls queues the way Lambda's SQS event-source mappings do: gather up to BatchSize messages within the
 * batching window, invoke the function with an SQS event, delete what succeeded (everything when the
 * function reports no batchItemFailures, nothing when the invocation fails), and let failures reappear after
 * the visibility timeout until the queue's redrive policy moves them to the DLQ.
 *
 * local-aws-sqs specifics (pinned in test/integration/local/sqs.test.ts): a long poll holds for its whole
 * WaitTimeSeconds unless the batch fills, so we poll with WaitTimeSeconds=0 and pause between empty polls;
 * it moves a message to the DLQ itself when the visibility timeout of its maxReceiveCount-th receive runs
 * out. Should a message ever arrive with more receives than allowed, the poller moves it, as SQS would.
 *
 * Lambda's pollers long-poll, so an empty queue costs the hub nothing. Our short polls are not free (each is a
 * signed request the engine answers in this process), so while a queue is empty only one loop of its mapping
 * keeps looking (the lookout) and the others wait; the lookout wakes them the moment it receives a message.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  type EventSourceMappingModel,
  type FunctionHost,
  type HubModel,
  LOCAL_REGION,
  type QueueModel,
  type ResourceKey,
} from './model';

export interface SqsPollerOptions {
  model: HubModel;
  host: FunctionHost;
  sqs: SQSClient;
  /** Pause after a poll that found nothing. */
  idleDelayMs?: number;
  log?: (entry: Record<string, unknown>) => void;
}

export interface MappingCounters {
  received: number;
  succeeded: number;
  failed: number;
  /** Messages that used their last receive and failed (the engine moves them), or that the poller moved. */
  deadLettered: number;
  invocations: number;
  invocationErrors: number;
}

export interface SqsPollers {
  counters(): Record<ResourceKey, MappingCounters>;
  /** One look: no invocation running and every polled queue empty, in-flight messages included. */
  idle(): Promise<boolean>;
  /** Resolves once idle() holds twice in a row; rejects after timeoutMs naming what is still busy. */
  drained(options?: { timeoutMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Lambda "starts processing five batches at a time with five concurrent invocations" of a standard queue's
 * function (AWS Lambda guide, SQS scaling); it scales further with the backlog, which one machine cannot.
 */
const DEFAULT_CONCURRENCY = 5;
const STOP_GRACE_MS = 5_000;

export function startSqsPollers(options: SqsPollerOptions): SqsPollers {
  const log = options.log ?? ((entry) => process.stderr.write(`${JSON.stringify(entry)}\n`));
  const abort = new AbortController();
  const state = { running: 0 };
  const queues = new Map(options.model.queues.map((q) => [q.key, q]));
  const counters: Record<ResourceKey, MappingCounters> = {};
  const loops: Promise<void>[] = [];
  const polledQueues = new Map<ResourceKey, QueueModel>();
  // Failed messages wait out their visibility timeout; on stop we make them visible again so that the
  // queue snapshot (queue-snapshot.ts) sees them rather than losing them with the in-memory engine.
  const awaitingRetry = new Map<string, { queueUrl: string; receiptHandle: string }>();

  for (const mapping of options.model.eventSourceMappings.filter((m) => m.enabled)) {
    const queue = queues.get(mapping.queueKey);
    if (!queue) throw new Error(`${mapping.key}: queue ${mapping.queueKey} not in the model`);
    const dlq = queue.deadLetter ? queues.get(queue.deadLetter.targetKey) : undefined;
    polledQueues.set(queue.key, queue);
    counters[mapping.key] = {
      received: 0,
      succeeded: 0,
      failed: 0,
      deadLettered: 0,
      invocations: 0,
      invocationErrors: 0,
    };
    const context: MappingContext = {
      lookout: new Lookout(),
      mapping,
      queue,
      dlq,
      counters: counters[mapping.key] as MappingCounters,
      deadLetteredIds: new Set(),
      host: options.host,
      sqs: options.sqs,
      signal: abort.signal,
      state,
      awaitingRetry,
      log,
      idleDelayMs: options.idleDelayMs ?? 100,
    };
    // Ordering within a message group only holds with one poller.
    const concurrency = queue.fifo
      ? 1
      : Math.min(mapping.maximumConcurrency ?? DEFAULT_CONCURRENCY, DEFAULT_CONCURRENCY);
    for (let i = 0; i < concurrency; i++) loops.push(pollLoop(context, i));
  }

  // Each loop waits on the stop signal (a pause or its lookout): as many listeners as loops is expected.
  setMaxListeners(Math.max(10, loops.length + 1), abort.signal);

  const idle = async (): Promise<boolean> => (await busyQueues()).length === 0 && state.running === 0;

  async function busyQueues(): Promise<string[]> {
    const busy: string[] = [];
    for (const queue of polledQueues.values()) {
      const count = await messagesIn(options.sqs, queue);
      if (count > 0) busy.push(`${queue.queueName} (${count} messages)`);
    }
    return busy;
  }

  return {
    counters: () => structuredClone(counters),
    idle,
    async drained({ timeoutMs = 60_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      let idleInARow = 0;
      while (idleInARow < 2) {
        idleInARow = (await idle()) ? idleInARow + 1 : 0;
        if (idleInARow >= 2) return;
        if (Date.now() > deadline) {
          const busy = await busyQueues();
          throw new Error(
            `queues not drained after ${timeoutMs} ms: ${[...busy, `${state.running} invocations running`].join(', ')}`,
          );
        }
        await sleep(100);
      }
    },
    async stop() {
      abort.abort();
      await Promise.race([Promise.allSettled(loops), sleep(STOP_GRACE_MS)]);
      await releaseForRetry(options.sqs, awaitingRetry);
    },
  };
}

/**
 * Who of a mapping's loops looks for messages while its queue is empty. One loop (the first to find the queue
 * empty) keeps polling; the others park until it, or any loop, receives messages again.
 */
export class Lookout {
  private watcher: number | undefined;
  private parked: (() => void)[] = [];

  /** The loop found the queue empty: the watcher pauses and polls again, the others wait for work. */
  async idle(loop: number, idleDelayMs: number, signal: AbortSignal): Promise<void> {
    this.watcher ??= loop;
    if (this.watcher === loop) return pause(idleDelayMs, signal);
    if (signal.aborted) return;
    await new Promise<void>((resolve) => {
      const wake = () => {
        signal.removeEventListener('abort', wake);
        this.parked = this.parked.filter((other) => other !== wake);
        resolve();
      };
      this.parked.push(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  /** Messages arrived: every parked loop polls again, and the next empty poll chooses a new watcher. */
  sighted(): void {
    this.watcher = undefined;
    for (const wake of this.parked.splice(0)) wake();
  }

  /** How many loops wait for work (tests). */
  get waiting(): number {
    return this.parked.length;
  }
}

interface MappingContext {
  lookout: Lookout;
  mapping: EventSourceMappingModel;
  queue: QueueModel;
  dlq: QueueModel | undefined;
  counters: MappingCounters;
  deadLetteredIds: Set<string>;
  host: FunctionHost;
  sqs: SQSClient;
  signal: AbortSignal;
  state: { running: number };
  awaitingRetry: Map<string, { queueUrl: string; receiptHandle: string }>;
  log: (entry: Record<string, unknown>) => void;
  idleDelayMs: number;
}

async function pollLoop(ctx: MappingContext, loop: number): Promise<void> {
  while (!ctx.signal.aborted) {
    try {
      const messages = await collectBatch(ctx);
      if (messages.length === 0) {
        await ctx.lookout.idle(loop, ctx.idleDelayMs, ctx.signal);
        continue;
      }
      ctx.state.running++;
      try {
        await processBatch(ctx, messages);
      } finally {
        ctx.state.running--;
      }
    } catch (error) {
      if (ctx.signal.aborted) return;
      ctx.log({
        level: 'ERROR',
        message: 'SQS poller failed',
        mapping: ctx.mapping.key,
        error: String(error),
      });
      await pause(1_000, ctx.signal);
    }
  }
}

const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  sleep(ms, undefined, { signal }).catch(() => undefined);

/**
 * Up to BatchSize messages; once the first arrives, keeps gathering until the batching window closes. A receive
 * asks for at most ten; when the last one came back full (a backlog), what the batch still lacks is asked for at
 * once, ten per call, so a backlog fills a batch of 50 in two round trips rather than five. A trickle is still
 * read one call at a time, so waiting out the window costs no more calls than before.
 */
async function collectBatch(ctx: MappingContext): Promise<Message[]> {
  const { batchSize, maximumBatchingWindowSeconds } = ctx.mapping;
  const byId = new Map<string, Message>();
  let windowEnds = 0;
  let backlog = false;
  while (byId.size < batchSize && !ctx.signal.aborted) {
    const lacking = batchSize - byId.size;
    const asks: number[] = backlog
      ? receiveShares(Math.min(lacking, RECEIVE_MAX * PARALLEL_RECEIVES))
      : [Math.min(RECEIVE_MAX, lacking)];
    const received: Message[] = (await Promise.all(asks.map((count) => receive(ctx, count)))).flat();
    // The engine can hand out one message twice in one call when its visibility runs out meanwhile.
    for (const message of received) if (message.MessageId) byId.set(message.MessageId, message);
    if (byId.size === 0) return [];
    if (windowEnds === 0) {
      // The first messages of a batch: the mapping's other loops start gathering theirs at once.
      ctx.lookout.sighted();
      windowEnds = Date.now() + maximumBatchingWindowSeconds * 1000;
    }
    if (Date.now() >= windowEnds) break;
    backlog = received.length >= asks.reduce((sum, count) => sum + count, 0);
    if (!backlog) await pause(Math.min(50, windowEnds - Date.now()), ctx.signal);
  }
  return [...byId.values()];
}

/** SQS hands out at most ten messages per ReceiveMessage. */
const RECEIVE_MAX = 10;
/** Receives in flight for one batch: a batch of 50 (the hub's largest) in one round trip, larger ones in waves. */
const PARALLEL_RECEIVES = 5;

/** `lacking` split into calls of at most ten: 45 → [10, 10, 10, 10, 5]. */
export function receiveShares(lacking: number): number[] {
  return Array.from({ length: Math.ceil(lacking / RECEIVE_MAX) }, (_, i) =>
    Math.min(RECEIVE_MAX, lacking - i * RECEIVE_MAX),
  );
}

async function receive(ctx: MappingContext, count: number): Promise<Message[]> {
  const { Messages = [] } = await ctx.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: ctx.queue.queueUrl,
      MaxNumberOfMessages: count,
      WaitTimeSeconds: 0,
      // local-aws-sqs reads only the older AttributeNames; real SQS reads MessageSystemAttributeNames.
      AttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages;
}

async function processBatch(ctx: MappingContext, messages: Message[]): Promise<void> {
  ctx.counters.received += messages.length;
  const maxReceives = ctx.queue.deadLetter?.maxReceiveCount;
  const overdue = maxReceives ? messages.filter((m) => receiveCount(m) > maxReceives) : [];
  for (const message of overdue) await moveToDeadLetterQueue(ctx, message);
  const batch = messages.filter((m) => !overdue.includes(m));
  if (batch.length === 0) return;

  const failedIds = await invoke(ctx, batch);
  const succeeded = batch.filter((m) => !failedIds.has(m.MessageId ?? ''));
  await deleteMessages(ctx, succeeded);
  ctx.counters.succeeded += succeeded.length;
  ctx.counters.failed += batch.length - succeeded.length;
  for (const message of batch) {
    const id = message.MessageId ?? '';
    ctx.awaitingRetry.delete(id);
    if (!failedIds.has(id)) continue;
    if (maxReceives && receiveCount(message) >= maxReceives) countDeadLetter(ctx, message);
    else if (message.ReceiptHandle) {
      ctx.awaitingRetry.set(id, { queueUrl: ctx.queue.queueUrl, receiptHandle: message.ReceiptHandle });
    }
  }
}

/** Makes failed messages visible at once; a handle that has expired meanwhile needs nothing. */
async function releaseForRetry(
  sqs: SQSClient,
  awaitingRetry: Map<string, { queueUrl: string; receiptHandle: string }>,
): Promise<void> {
  for (const { queueUrl, receiptHandle } of awaitingRetry.values()) {
    await sqs
      .send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: 0,
        }),
      )
      .catch(() => undefined);
  }
  awaitingRetry.clear();
}

/** The ids of the messages that failed. */
async function invoke(ctx: MappingContext, batch: Message[]): Promise<Set<string>> {
  const allIds = new Set(batch.map((m) => m.MessageId ?? ''));
  ctx.counters.invocations++;
  try {
    const result = await ctx.host.invoke(ctx.mapping.functionKey, sqsEvent(ctx.queue, batch));
    return ctx.mapping.reportBatchItemFailures ? reportedFailures(result, allIds) : new Set();
  } catch (error) {
    ctx.counters.invocationErrors++;
    ctx.log({
      level: 'WARN',
      message: 'SQS batch invocation failed',
      mapping: ctx.mapping.key,
      error: String(error),
    });
    return allIds;
  }
}

/** As Lambda: an item identifier that is empty or not in the batch fails the whole batch. */
export function reportedFailures(result: unknown, batchIds: Set<string>): Set<string> {
  const failures = (result as { batchItemFailures?: unknown } | null)?.batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return batchIds;
  const ids = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !batchIds.has(id)) return batchIds;
    ids.add(id);
  }
  return ids;
}

export function sqsEvent(queue: QueueModel, messages: Message[]) {
  return {
    Records: messages.map((message) => ({
      messageId: message.MessageId,
      receiptHandle: message.ReceiptHandle,
      body: message.Body ?? '',
      attributes: { ...message.Attributes },
      messageAttributes: Object.fromEntries(
        Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
          name,
          {
            ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
            ...(value.BinaryValue !== undefined
              ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
              : {}),
            stringListValues: value.StringListValues ?? [],
            binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
            dataType: value.DataType,
          },
        ]),
      ),
      md5OfBody: message.MD5OfBody,
      ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: LOCAL_REGION,
    })),
  };
}

const receiveCount = (message: Message): number => Number(message.Attributes?.ApproximateReceiveCount ?? 1);

function countDeadLetter(ctx: MappingContext, message: Message): void {
  const id = message.MessageId ?? '';
  if (ctx.deadLetteredIds.has(id)) return;
  ctx.deadLetteredIds.add(id);
  ctx.counters.deadLettered++;
  ctx.log({ level: 'WARN', message: 'message dead-lettered', mapping: ctx.mapping.key, messageId: id });
}

async function moveToDeadLetterQueue(ctx: MappingContext, message: Message): Promise<void> {
  if (!ctx.dlq) return;
  await ctx.sqs.send(
    new SendMessageCommand({
      QueueUrl: ctx.dlq.queueUrl,
      MessageBody: message.Body ?? '',
      ...(message.MessageAttributes ? { MessageAttributes: message.MessageAttributes } : {}),
      ...(message.Attributes?.MessageGroupId ? { MessageGroupId: message.Attributes.MessageGroupId } : {}),
    }),
  );
  await deleteMessages(ctx, [message]);
  countDeadLetter(ctx, message);
}

/** Every chunk of ten at once: the batch's loop cannot gather its next batch before its deletes are done. */
async function deleteMessages(ctx: MappingContext, messages: Message[]): Promise<void> {
  const chunks = Array.from({ length: Math.ceil(messages.length / 10) }, (_, i) =>
    messages.slice(i * 10, (i + 1) * 10),
  );
  await Promise.all(
    chunks.map(async (chunk) => {
      const { Failed = [] } = await ctx.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: ctx.queue.queueUrl,
          Entries: chunk.map((m, index) => ({ Id: String(index), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
      if (Failed.length)
        ctx.log({ level: 'WARN', message: 'delete failed', mapping: ctx.mapping.key, failed: Failed });
    }),
  );
}

async function messagesIn(sqs: SQSClient, queue: QueueModel): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}
