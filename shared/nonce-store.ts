import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';

export type NonceOutcome = 'recorded' | 'replayed';

/**
 * Single-use request nonces, one item per (access key, nonce) in NONCES_TABLE, expiring by TTL.
 * DynamoDB Local never deletes expired items (and AWS deletes them late), so an expired item is
 * treated as absent: the condition lets a put overwrite it.
 */
export class NonceStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async recordNonce(accessKeyId: string, nonce: string, ttlSeconds: number): Promise<NonceOutcome> {
    const now = Math.floor(this.clock().getTime() / 1000);
    // The SDK retries a put whose answer was lost (a throttle or timeout after DynamoDB applied it); without
    // a mark of our own the retry would fail its condition on our own item and refuse the request as a replay.
    const attempt = randomUUID();
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `nonce#${accessKeyId}#${nonce}`, sk: 'nonce', expiresAt: now + ttlSeconds, attempt },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': now },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'recorded';
    } catch (error) {
      // By name: the error class may come from another copy of the SDK in a bundle.
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      return attemptOf(error) === attempt ? 'recorded' : 'replayed';
    }
  }
}

/** The `attempt` of the item that failed the condition (a raw attribute value: lib-dynamodb leaves it marshalled). */
function attemptOf(error: unknown): string | undefined {
  const item = (error as { Item?: Record<string, { S?: string } | string | undefined> }).Item;
  const value = item?.attempt;
  return typeof value === 'string' ? value : value?.S;
}
