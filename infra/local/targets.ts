/**
 * Delivers one event to one rule or schedule target, as EventBridge and Scheduler do: a function is
 * invoked asynchronously (retried, then given up on with a log line standing in for its DLQ), a queue gets
 * the event as a message, another bus gets it republished. Deliveries never throw at the publisher.
 */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { FunctionHost, HubModel, TargetModel } from './model';

export type TargetDelivery = (target: TargetModel, event: unknown) => Promise<void>;

export interface TargetDeliveryOptions {
  model: HubModel;
  host: FunctionHost;
  sqs: SQSClient;
  /** Client of the local EventBridge, for bus-to-bus targets. */
  eventBridge?: EventBridgeClient;
  /**
   * Waits before each retry. Lambda's asynchronous invocation retries twice (after about 1 and 2
   * minutes); locally seconds keep the feedback loop short while keeping the behaviour.
   */
  retryDelaysMs?: readonly number[];
  log?: (entry: Record<string, unknown>) => void;
}

export const DEFAULT_RETRY_DELAYS_MS = [1_000, 2_000] as const;

export function createTargetDelivery(options: TargetDeliveryOptions): TargetDelivery {
  const log = options.log ?? logToStderr;
  const retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const limits = new Map<string, ConcurrencyLimit>();
  const queueSenders = new Map<string, (body: string) => Promise<void>>();
  return async (target, event) => {
    const eventId = eventIdOf(event);
    try {
      const send = senderFor(target, options, limits, queueSenders);
      const payload = targetPayload(target, event);
      await withRetries(
        () => send(payload, event),
        retryDelaysMs,
        (attempt, error) =>
          log({
            level: 'WARN',
            message: 'target delivery failed; retrying',
            target: describe(target),
            eventId,
            attempt,
            error: errorText(error),
          }),
      );
    } catch (error) {
      log({
        level: 'ERROR',
        message: 'target delivery lost after retries (dead-letter equivalent)',
        target: describe(target),
        eventId,
        error: errorText(error),
      });
    }
  };
}

type Sender = (payload: TargetPayload, event: unknown) => Promise<void>;

function senderFor(
  target: TargetModel,
  options: TargetDeliveryOptions,
  limits: Map<string, ConcurrencyLimit>,
  queueSenders: Map<string, (body: string) => Promise<void>>,
): Sender {
  switch (target.kind) {
    case 'function': {
      const limit = limitOf(target.functionKey, options.model, limits);
      return async (payload) => {
        await limit(() => options.host.invoke(target.functionKey, payload.value));
      };
    }
    case 'queue': {
      const queue = options.model.queues.find((candidate) => candidate.key === target.queueKey);
      if (!queue) throw new Error(`target queue ${target.queueKey} is not in the model`);
      if (!queue.fifo) {
        let send = queueSenders.get(queue.queueUrl);
        if (!send) {
          send = coalescedSender(options.sqs, queue.queueUrl);
          queueSenders.set(queue.queueUrl, send);
        }
        const sendBody = send;
        return (payload) => sendBody(payload.text);
      }
      return async (payload, event) => {
        const fifo = queue.fifo
          ? { MessageGroupId: 'eventbridge', MessageDeduplicationId: eventIdOf(event) ?? undefined }
          : {};
        await options.sqs.send(
          new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: payload.text, ...fifo }),
        );
      };
    }
    case 'bus': {
      const bus = options.model.buses.find((candidate) => candidate.key === target.busKey);
      if (!bus) throw new Error(`target bus ${target.busKey} is not in the model`);
      const client = options.eventBridge;
      if (!client) throw new Error(`no EventBridge client to forward to bus ${bus.busName}`);
      return async (_payload, event) => {
        const entry = forwardedEntry(event, bus.busName);
        const result = await client.send(new PutEventsCommand({ Entries: [entry] }));
        const failure = result.Entries?.[0];
        if (failure?.ErrorCode) throw new Error(`${failure.ErrorCode}: ${failure.ErrorMessage ?? ''}`);
      };
    }
  }
}

/** SendMessageBatch limits: ten entries and 256 KiB of bodies per call. */
const SEND_BATCH_ENTRIES = 10;
const SEND_BATCH_BYTES = 256 * 1024;

/**
 * EventBridge puts each event on a target queue as a message of its own; locally every SendMessage is a signed
 * request the in-process engine answers, about 1 ms of this process's CPU each, and a PutEvents of ten entries
 * matched by two rules costs twenty. Deliveries to one queue that arrive in the same turn of the event loop go
 * out together as SendMessageBatch calls: still one message per event, each delivery settled by its own entry.
 */
function coalescedSender(sqs: SQSClient, queueUrl: string): (body: string) => Promise<void> {
  let waiting: { body: string; resolve: () => void; reject: (error: Error) => void }[] = [];
  const flush = () => {
    const due = waiting;
    waiting = [];
    for (const chunk of sendBatches(due, (entry) => Buffer.byteLength(entry.body, 'utf8'))) {
      sqs
        .send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: chunk.map((entry, i) => ({ Id: String(i), MessageBody: entry.body })),
          }),
        )
        .then(
          ({ Failed = [] }) => {
            const failed = new Map(Failed.map((f) => [f.Id, f]));
            chunk.forEach((entry, i) => {
              const failure = failed.get(String(i));
              if (!failure) entry.resolve();
              else entry.reject(new Error(`${failure.Code ?? 'SendFailed'}: ${failure.Message ?? ''}`));
            });
          },
          (error: unknown) => {
            for (const entry of chunk)
              entry.reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
    }
  };
  return (body) =>
    new Promise<void>((resolve, reject) => {
      if (waiting.length === 0) setImmediate(flush);
      waiting.push({ body, resolve, reject });
    });
}

/** Consecutive chunks of at most ten entries and 256 KiB. */
function sendBatches<T>(entries: readonly T[], sizeOf: (entry: T) => number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = sizeOf(entry);
    if (current.length === SEND_BATCH_ENTRIES || (current.length > 0 && bytes + size > SEND_BATCH_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

type ConcurrencyLimit = <T>(run: () => Promise<T>) => Promise<T>;

const unlimited: ConcurrencyLimit = (run) => run();

/**
 * Lambda runs a function with reserved concurrency N at most N at a time; its asynchronous invocations (the ones
 * EventBridge and Scheduler make) wait in Lambda's queue meanwhile. The same here: a FIFO of waiting deliveries.
 */
function limitOf(
  functionKey: string,
  model: HubModel,
  limits: Map<string, ConcurrencyLimit>,
): ConcurrencyLimit {
  const reserved = model.functions.find((fn) => fn.key === functionKey)?.reservedConcurrency;
  if (reserved === undefined || reserved <= 0) return unlimited;
  let limit = limits.get(functionKey);
  if (!limit) {
    limit = concurrencyLimit(reserved);
    limits.set(functionKey, limit);
  }
  return limit;
}

export function concurrencyLimit(max: number): ConcurrencyLimit {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (run) => {
    // A finishing run hands its slot straight to the next in line, so no newcomer can slip in between.
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      return await run();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}

interface TargetPayload {
  /** What a function receives. */
  value: unknown;
  /** What a queue receives as its message body. */
  text: string;
}

/**
 * The target's `Input` replaces the event (its JSON text sent as is); `InputPath` selects part of it;
 * without either the whole event goes.
 */
export function targetPayload(target: TargetModel, event: unknown): TargetPayload {
  if (target.kind === 'bus') return { value: event, text: JSON.stringify(event) };
  if (target.input !== undefined) return { value: parseInput(target.input), text: target.input };
  const value = target.inputPath !== undefined ? selectPath(event, target.inputPath) : event;
  return { value, text: JSON.stringify(value) ?? 'null' };
}

function parseInput(input: string): unknown {
  try {
    return JSON.parse(input);
  } catch {
    return input;
  }
}

/** The JSONPath subset EventBridge targets use: `$`, `$.a.b`, `$['a-b']`, `$.list[0]`. */
export function selectPath(value: unknown, path: string): unknown {
  if (!path.startsWith('$')) throw new Error(`InputPath ${path} must start with $`);
  const steps = [...path.slice(1).matchAll(/\.([^.[\]]+)|\[(\d+)\]|\['([^']+)'\]|\["([^"]+)"\]|(.)/g)];
  let current: unknown = value;
  for (const step of steps) {
    const [, dotted, index, singleQuoted, doubleQuoted, unexpected] = step;
    if (unexpected !== undefined)
      throw new Error(`InputPath ${path} uses syntax the local runtime does not support`);
    const key = dotted ?? singleQuoted ?? doubleQuoted ?? Number(index);
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function forwardedEntry(event: unknown, busName: string) {
  if (typeof event !== 'object' || event === null)
    throw new Error('only EventBridge events can be forwarded');
  const envelope = event as Record<string, unknown>;
  return {
    EventBusName: busName,
    Source: String(envelope.source),
    DetailType: String(envelope['detail-type']),
    Detail: JSON.stringify(envelope.detail ?? {}),
    Resources: Array.isArray(envelope.resources) ? envelope.resources.map(String) : [],
  };
}

async function withRetries(
  attempt: () => Promise<void>,
  delaysMs: readonly number[],
  onRetry: (attempt: number, error: unknown) => void,
): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      const delay = delaysMs[i];
      if (delay === undefined) throw error;
      onRetry(i + 1, error);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

function eventIdOf(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const id = (event as Record<string, unknown>).id;
  return typeof id === 'string' ? id : undefined;
}

function describe(target: TargetModel): string {
  switch (target.kind) {
    case 'function':
      return `function ${target.functionKey}`;
    case 'queue':
      return `queue ${target.queueKey}`;
    case 'bus':
      return `bus ${target.busKey}`;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function logToStderr(entry: Record<string, unknown>): void {
  process.stderr.write(
    `${JSON.stringify({ component: 'targets', timestamp: new Date().toISOString(), ...entry })}\n`,
  );
}
