import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { type DetailOf, type DetailType, findEvent } from '../events/catalogue';

/** PutEvents limits (EventBridge quotas): at most 10 entries and 256 KB per request. */
export const PUT_EVENTS_MAX_ENTRIES = 10;
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;

export type PublishEntry = {
  [T in DetailType]: { detailType: T; detail: DetailOf<T>; resources?: string[] };
}[DetailType];

export interface EventPublisher {
  /** Resolves with the EventBridge event ids, in input order, once every entry is on the bus. */
  publish(entries: PublishEntry[]): Promise<string[]>;
}

export interface EventPublisherOptions {
  client: EventBridgeClient;
  busName: string;
  source: string;
  /** Attempts per entry, including the first (default 4). */
  maxAttempts?: number;
  /** Base of the full-jitter backoff between attempts (default 100 ms). */
  baseDelayMs?: number;
  /** Injected in tests so they neither wait nor depend on randomness. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** A detail that does not match its catalogued schema. Names the detail type and field paths, never values. */
export class EventValidationError extends Error {
  override readonly name = 'EventValidationError';
}

/** Entries still failing after the last attempt. Names detail types and error codes, never event data. */
export class EventPublishError extends Error {
  override readonly name = 'EventPublishError';
  constructor(
    message: string,
    readonly failures: { detailType: string; errorCode: string }[],
  ) {
    super(message);
  }
}

/** Entry error codes that another attempt cannot fix. */
const permanentErrorCodes = new Set([
  'MalformedDetail',
  'InvalidArgument',
  'ValidationException',
  'AccessDeniedException',
  'NotAuthorizedForSourceException',
  'ResourceNotFoundException',
]);

/** Size of an entry as EventBridge counts it: UTF-8 bytes of source, detail-type, detail and resources. */
export function putEventsEntrySize(entry: PutEventsRequestEntry): number {
  const utf8 = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));
  const resources = (entry.Resources ?? []).reduce((sum, arn) => sum + utf8(arn), 0);
  const time = entry.Time === undefined ? 0 : 14;
  return utf8(entry.Source) + utf8(entry.DetailType) + utf8(entry.Detail) + resources + time;
}

/**
 * Splits items into consecutive chunks of at most `maxEntries` items and `maxBytes` total size, keeping order.
 * An item larger than `maxBytes` on its own cannot be sent at all: it is reported, not silently dropped.
 */
export function chunkBySizeAndCount<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  limits: { maxEntries: number; maxBytes: number } = {
    maxEntries: PUT_EVENTS_MAX_ENTRIES,
    maxBytes: PUT_EVENTS_MAX_BYTES,
  },
): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (const [index, item] of items.entries()) {
    const size = sizeOf(item);
    if (size > limits.maxBytes) {
      throw new RangeError(
        `Entry ${index} is ${size} bytes, over the ${limits.maxBytes}-byte PutEvents limit`,
      );
    }
    if (current.length === limits.maxEntries || currentBytes + size > limits.maxBytes) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(item);
    currentBytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Full-jitter exponential backoff: a random wait in [0, base · 2^attempt), capped. */
export const backoffDelay = (attempt: number, baseMs: number, random: () => number, capMs = 5_000) =>
  Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));

/** Checks a detail against its catalogued schema before it leaves the process. */
export function validatePublishEntry(entry: PublishEntry, source: string): void {
  const definition = findEvent(entry.detailType, (entry.detail as { version?: unknown }).version);
  if (definition === undefined) {
    throw new EventValidationError(
      `${entry.detailType}: no catalogued schema for this detail type and version`,
    );
  }
  if (definition.source !== source) {
    throw new EventValidationError(
      `${entry.detailType}: catalogued for source ${definition.source}, not ${source}`,
    );
  }
  const result = definition.schema.safeParse(entry.detail);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${['detail', ...issue.path].join('.')} (${issue.code})`,
    );
    throw new EventValidationError(
      `${entry.detailType} detail does not match its schema: ${problems.join(', ')}`,
    );
  }
}

/** One PutEvents call: the result entries, positionally aligned with the request entries. */
export type SendPutEvents = (entries: PutEventsRequestEntry[]) => Promise<PutEventsResultEntry[]>;

export interface RetryOptions {
  maxAttempts: number;
  baseDelayMs: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

/**
 * Sends entries in PutEvents-sized chunks and re-sends only the entries that failed with a transient error code,
 * with jittered backoff. Resolves with the event ids in input order; throws if any entry is still unpublished.
 */
export async function putEventsWithRetries(
  requests: PutEventsRequestEntry[],
  send: SendPutEvents,
  retry: RetryOptions,
): Promise<string[]> {
  for (const request of requests) assertWithinSizeLimit(request);
  const eventIds: string[] = new Array(requests.length);
  const givenUp: Failure[] = [];
  let pending: Failure[] = requests.map((request, index) => ({ index, request, errorCode: 'NotSent' }));
  for (let attempt = 0; pending.length > 0 && attempt < retry.maxAttempts; attempt++) {
    if (attempt > 0) await retry.sleep(backoffDelay(attempt, retry.baseDelayMs, retry.random));
    const failed = await sendRound(pending, send, eventIds);
    givenUp.push(...failed.filter((item) => permanentErrorCodes.has(item.errorCode)));
    pending = failed.filter((item) => !permanentErrorCodes.has(item.errorCode));
  }
  const unpublished = [...givenUp, ...pending].sort((a, b) => a.index - b.index);
  if (unpublished.length > 0) throw publishError(unpublished, requests.length);
  return eventIds;
}

interface Failure {
  index: number;
  request: PutEventsRequestEntry;
  errorCode: string;
}

async function sendRound(pending: Failure[], send: SendPutEvents, eventIds: string[]): Promise<Failure[]> {
  const failed: Failure[] = [];
  for (const chunk of chunkBySizeAndCount(pending, (item) => putEventsEntrySize(item.request))) {
    const results = await send(chunk.map((item) => item.request));
    chunk.forEach((item, position) => {
      const result = results[position];
      if (result?.EventId !== undefined && result.ErrorCode === undefined) {
        eventIds[item.index] = result.EventId;
      } else {
        failed.push({ ...item, errorCode: result?.ErrorCode ?? 'MissingResultEntry' });
      }
    });
  }
  return failed;
}

function assertWithinSizeLimit(request: PutEventsRequestEntry): void {
  const size = putEventsEntrySize(request);
  if (size > PUT_EVENTS_MAX_BYTES) {
    throw new EventValidationError(
      `${request.DetailType} entry is ${size} bytes, over the ${PUT_EVENTS_MAX_BYTES}-byte PutEvents limit`,
    );
  }
}

function publishError(unpublished: Failure[], total: number): EventPublishError {
  const failures = unpublished.map((item) => ({
    detailType: item.request.DetailType ?? 'unknown',
    errorCode: item.errorCode,
  }));
  const summary = [...new Set(failures.map((f) => `${f.detailType} (${f.errorCode})`))].join(', ');
  return new EventPublishError(
    `${unpublished.length} of ${total} events were not published: ${summary}`,
    failures,
  );
}

export function createEventPublisher(options: EventPublisherOptions): EventPublisher {
  const { client, busName, source } = options;
  const retry: RetryOptions = {
    maxAttempts: options.maxAttempts ?? 4,
    baseDelayMs: options.baseDelayMs ?? 100,
    sleep: options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    random: options.random ?? Math.random,
  };
  const send: SendPutEvents = async (entries) =>
    (await client.send(new PutEventsCommand({ Entries: entries }))).Entries ?? [];

  return {
    async publish(entries) {
      for (const entry of entries) validatePublishEntry(entry, source);
      const requests = entries.map(
        (entry): PutEventsRequestEntry => ({
          EventBusName: busName,
          Source: source,
          DetailType: entry.detailType,
          Detail: JSON.stringify(entry.detail),
          ...(entry.resources === undefined ? {} : { Resources: entry.resources }),
        }),
      );
      return putEventsWithRetries(requests, send, retry);
    },
  };
}
