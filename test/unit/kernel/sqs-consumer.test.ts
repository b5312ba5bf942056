import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type BatchOutcomes, type ConsumerItem, sqsBatchConsumer } from '../../../shared/sqs-consumer';

const context = {
  functionName: 'case-consumer',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:case-consumer',
  memoryLimitInMB: '256',
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/case-consumer',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

const record = (messageId: string, body: string, correlationId?: string): SQSRecord =>
  ({
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: '2' },
    messageAttributes: correlationId
      ? { correlationId: { stringValue: correlationId, dataType: 'String' } }
      : {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:cases',
    awsRegion: 'us-east-1',
  }) as unknown as SQSRecord;

const change = z.object({ caseId: z.string().min(3), status: z.enum(['accepted', 'completed']) });
type Change = z.output<typeof change>;

const failedIds = (response: { batchItemFailures: { itemIdentifier: string }[] }) =>
  response.batchItemFailures.map((f) => f.itemIdentifier).sort();

describe('sqsBatchConsumer', () => {
  it('reports exactly the poison record and the record whose processing failed', async () => {
    const seen: ConsumerItem<Change>[][] = [];
    const handler = sqsBatchConsumer({
      schema: change,
      processBatch: async (items) => {
        seen.push(items);
        return new Map(
          items.map((item) => [
            item.messageId,
            item.body.caseId === '330000:2' ? new Error('stale') : undefined,
          ]),
        );
      },
    });
    const event: SQSEvent = {
      Records: [
        record('m1', JSON.stringify({ caseId: '330000:1', status: 'accepted' }), 'corr-1'),
        record('m2', JSON.stringify({ caseId: '330000:2', status: 'completed' })),
        record('m3', JSON.stringify({ caseId: '330000:3', status: 'lost' })),
        record('m4', JSON.stringify({ caseId: '330000:4', status: 'accepted' })),
      ],
    };

    const response = await handler(event, context);

    expect(failedIds(response)).toEqual(['m2', 'm3']);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.map((item) => item.messageId)).toEqual(['m1', 'm2', 'm4']);
    expect(seen[0]?.[0]).toEqual({
      messageId: 'm1',
      body: { caseId: '330000:1', status: 'accepted' },
      correlationId: 'corr-1',
      receiveCount: 2,
    });
  });

  it('fails a body that is not JSON without calling processBatch for it', async () => {
    let calls = 0;
    const handler = sqsBatchConsumer({
      schema: change,
      processBatch: async (): Promise<BatchOutcomes> => {
        calls++;
        return new Map();
      },
    });
    const response = await handler({ Records: [record('m1', '{not json')] }, context);
    expect(failedIds(response)).toEqual(['m1']);
    expect(calls).toBe(0);
  });

  it('treats a message without a reported outcome as failed', async () => {
    const handler = sqsBatchConsumer({
      schema: change,
      processBatch: async () => new Map([['m1', undefined]]),
    });
    const response = await handler(
      {
        Records: [
          record('m1', JSON.stringify({ caseId: '330000:1', status: 'accepted' })),
          record('m2', JSON.stringify({ caseId: '330000:2', status: 'accepted' })),
        ],
      },
      context,
    );
    expect(failedIds(response)).toEqual(['m2']);
  });

  it('fails every valid record when processBatch throws, reporting them rather than throwing', async () => {
    const handler = sqsBatchConsumer({
      schema: change,
      processBatch: async () => {
        throw new Error('table unreachable');
      },
    });
    const response = await handler(
      {
        Records: [
          record('m1', JSON.stringify({ caseId: '330000:1', status: 'accepted' })),
          record('m2', JSON.stringify({ caseId: '330000:2', status: 'accepted' })),
        ],
      },
      context,
    );
    expect(failedIds(response)).toEqual(['m1', 'm2']);
  });

  it('reports no failures for a clean batch', async () => {
    const handler = sqsBatchConsumer({
      schema: change,
      processBatch: async (items) => new Map(items.map((item) => [item.messageId, undefined])),
    });
    const response = await handler(
      { Records: [record('m1', JSON.stringify({ caseId: '330000:1', status: 'accepted' }))] },
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
  });
});
