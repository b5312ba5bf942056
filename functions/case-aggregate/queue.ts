import {
  type BatchResultErrorEntry,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { IndexedChange } from './domain/ingest';

/** SQS takes at most 10 messages per SendMessageBatch. */
export const SEND_BATCH_MAX = 10;

export interface ChangeQueueOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** Attempts per message, including the first (default 3). */
  maxAttempts?: number;
  /** SendMessageBatch calls in flight at once (default 5). */
  concurrency?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface ChangeQueue {
  /** Resolves with the record indexes SQS did not take after every attempt. */
  enqueue(changes: readonly IndexedChange[]): Promise<number[]>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const chunk = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

function toEntry({ index, change }: IndexedChange): SendMessageBatchRequestEntry {
  return {
    // Unique within one call; the record index also maps failures back to the reply.
    Id: String(index),
    MessageBody: JSON.stringify(change),
    // The consumer helper reads the correlation id from here without parsing the body.
    MessageAttributes: { correlationId: { DataType: 'String', StringValue: change.correlationId } },
  };
}

/** Entries that may succeed when sent again; a sender fault (e.g. an oversized message) never will. */
const retryable = (failed: BatchResultErrorEntry) => failed.SenderFault !== true;

export function createChangeQueue(options: ChangeQueueOptions): ChangeQueue {
  const { sqs, queueUrl } = options;
  const maxAttempts = options.maxAttempts ?? 3;
  const sleep = options.sleep ?? defaultSleep;

  /** Sends one chunk, re-sending what failed; returns the ids still not enqueued. */
  async function sendChunk(entries: SendMessageBatchRequestEntry[]): Promise<string[]> {
    let pending = entries;
    const givenUp: string[] = [];
    for (let attempt = 0; pending.length > 0 && attempt < maxAttempts; attempt += 1) {
      if (attempt > 0) await sleep(50 * 2 ** attempt);
      try {
        const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
        const failed = result.Failed ?? [];
        givenUp.push(...failed.filter((f) => !retryable(f)).map((f) => f.Id ?? ''));
        const retry = new Set(failed.filter(retryable).map((f) => f.Id));
        pending = pending.filter((entry) => retry.has(entry.Id));
      } catch {
        // The whole call failed (network, throttling): every entry of the chunk is tried again.
      }
    }
    return [...givenUp, ...pending.map((entry) => entry.Id ?? '')];
  }

  return {
    async enqueue(changes) {
      const chunks = chunk(changes.map(toEntry), SEND_BATCH_MAX);
      const failedIds: string[] = [];
      for (const wave of chunk(chunks, options.concurrency ?? 5)) {
        const results = await Promise.all(wave.map(sendChunk));
        failedIds.push(...results.flat());
      }
      return failedIds.map(Number).sort((a, b) => a - b);
    },
  };
}
