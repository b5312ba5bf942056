import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { z } from 'zod';
import { type HubLogger, type HubMetrics, logger, metrics, tracer } from './observability';
import { toJsonPointer } from './problem';

/**
 * SQS consumers: every record is parsed with the schema on its own (a poison record fails alone),
 * then all valid records go TOGETHER to `processBatch`, so a consumer can commit many of them in
 * one DynamoDB transaction. `processBatch` answers one outcome per messageId; Powertools'
 * BatchProcessor turns failures into `batchItemFailures`, which SQS redelivers (and finally moves
 * to the DLQ). A message with no outcome counts as failed: redelivery is safe, silent loss is not.
 * Record bodies are never logged: they carry personal data.
 */

export interface ConsumerItem<T> {
  messageId: string;
  body: T;
  /** From the message attribute `correlationId`, set by the HTTP side when it enqueues. */
  correlationId: string | undefined;
  /** How many times SQS has delivered this message, this delivery included. */
  receiveCount: number;
}

/** messageId → undefined when processed, or the reason it failed. */
export type BatchOutcomes = Map<string, Error | undefined>;

/**
 * Applies `apply` to each message on its own, all at once, and records each one's outcome by message id: for
 * consumers whose messages do not share a transaction (one failure fails only its own message).
 */
export async function settleEach<T extends { messageId: string }>(
  items: readonly T[],
  apply: (item: T) => Promise<unknown>,
): Promise<BatchOutcomes> {
  const outcomes: BatchOutcomes = new Map();
  await Promise.all(
    items.map(async (item) => {
      try {
        await apply(item);
        outcomes.set(item.messageId, undefined);
      } catch (error) {
        outcomes.set(item.messageId, error instanceof Error ? error : new Error(String(error)));
      }
    }),
  );
  return outcomes;
}

export interface SqsConsumerOptions<S extends z.ZodType> {
  schema: S;
  processBatch: (
    items: ConsumerItem<z.output<S>>[],
    tools: { logger: HubLogger; metrics: HubMetrics },
  ) => Promise<BatchOutcomes>;
}

export class PoisonMessageError extends Error {
  constructor(
    readonly messageId: string,
    readonly paths: string[],
  ) {
    super(`Message ${messageId} does not match its schema at ${paths.join(', ') || '(body)'}`);
    this.name = 'PoisonMessageError';
  }
}

export function sqsBatchConsumer<S extends z.ZodType>(options: SqsConsumerOptions<S>) {
  const handle = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const failures = new Map<string, Error>();
    const items: ConsumerItem<z.output<S>>[] = [];
    for (const record of event.Records) {
      const parsed = parseRecord(record, options.schema);
      if (parsed instanceof PoisonMessageError) failures.set(record.messageId, parsed);
      else items.push(parsed);
    }
    if (failures.size > 0) {
      for (const poison of failures.values()) {
        const { messageId, paths } = poison as PoisonMessageError;
        logger.warn('poison message', { messageId, paths });
      }
      metrics.addMetric('PoisonMessages', MetricUnit.Count, failures.size);
    }

    const outcomes = items.length > 0 ? await runBatch(items, options) : new Map<string, Error | undefined>();
    for (const item of items) {
      const outcome = outcomes.has(item.messageId)
        ? outcomes.get(item.messageId)
        : new Error('processBatch reported no outcome for this message');
      if (outcome) {
        failures.set(item.messageId, outcome);
        logger.warn('message failed', {
          messageId: item.messageId,
          correlationId: item.correlationId,
          reason: outcome.message,
        });
      }
    }
    metrics.addMetric('MessagesProcessed', MetricUnit.Count, event.Records.length - failures.size);
    metrics.addMetric('MessagesFailed', MetricUnit.Count, failures.size);

    const recordHandler = async (record: SQSRecord): Promise<void> => {
      const failure = failures.get(record.messageId);
      if (failure) throw failure;
    };
    // throwOnFullBatchFailure off: a batch where everything failed is still reported per record.
    return processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), {
      context,
      throwOnFullBatchFailure: false,
    });
  };

  return middy<SQSEvent, SQSBatchResponse>(handle)
    .use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(captureLambdaHandler(tracer, { captureResponse: false }));
}

function parseRecord<S extends z.ZodType>(
  record: SQSRecord,
  schema: S,
): ConsumerItem<z.output<S>> | PoisonMessageError {
  let json: unknown;
  try {
    json = JSON.parse(record.body);
  } catch {
    return new PoisonMessageError(record.messageId, []);
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    return new PoisonMessageError(
      record.messageId,
      result.error.issues.map((issue) => toJsonPointer(issue.path)),
    );
  }
  return {
    messageId: record.messageId,
    body: result.data,
    correlationId: record.messageAttributes?.correlationId?.stringValue,
    receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? '1'),
  };
}

async function runBatch<S extends z.ZodType>(
  items: ConsumerItem<z.output<S>>[],
  options: SqsConsumerOptions<S>,
): Promise<BatchOutcomes> {
  try {
    return await options.processBatch(items, { logger, metrics });
  } catch (error) {
    // The whole batch failed (e.g. the table is unreachable): every valid record is retried.
    logger.error('processBatch failed', error as Error);
    const failure = error instanceof Error ? error : new Error('processBatch failed');
    return new Map(items.map((item) => [item.messageId, failure]));
  }
}
