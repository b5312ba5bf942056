import { type DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  type RevocationFeed,
  type RevokedToken,
  revocationBucketOf,
  revocationBucketsBetween,
} from './domain/revocations';
import { type ConsumeOutcome, type TicketGrant, ticketGrantSchema } from './domain/tickets';

/**
 * The only code that touches the tokens table (TOKENS_TABLE; `pk`/`sk` strings, TTL attribute `expiresAt` in
 * Unix seconds, index `gsi1` on `gsi1pk`/`gsi1sk`). DynamoDB deletes expired items only eventually (DynamoDB
 * Local never), so every read here also compares `expiresAt` with the clock.
 *
 * Ticket item:     pk `TICKET#{ticketId}`, sk `TICKET`; the TicketGrant (ticketId = SHA-256 of the ticket, never
 *                  the ticket), `consumedAt` once redeemed; `expiresAt` = issue + TICKET_TTL_SECONDS.
 * Revocation item: pk `REVOKED#{jti}`, sk `REVOKED`; `jti`, `sub`, `clientId` (audience), `revokedBy`,
 *                  `revokedAt` (ISO, ms), `expiresAt` = the token's `exp`;
 *                  gsi1pk `REVOKED#{YYYY-MM-DDTHH}` (UTC hour of revokedAt), gsi1sk `{revokedAt}#{jti}`.
 *
 * Why that index: introspecting instances ask "what was revoked since my watermark?" every 500 ms. An hour bucket
 * holds the revocations of that hour in time order, so the question is one Query (two across an hour boundary) that
 * reads only the few new items — never a scan, and never a read per introspection.
 */

const TICKET_SK = 'TICKET';
const REVOKED_SK = 'REVOKED';
const REVOCATION_INDEX = 'gsi1';

export const ticketKey = (ticketId: string) => ({ pk: `TICKET#${ticketId}`, sk: TICKET_SK });
export const revocationKey = (jti: string) => ({ pk: `REVOKED#${jti}`, sk: REVOKED_SK });

export interface RevocationRecord {
  jti: string;
  sub: string;
  /** The token's audience. */
  clientId: string;
  revokedBy: string;
  revokedAt: Date;
  /** The token's `exp`, Unix seconds: the item's TTL. */
  expiresAt: number;
}

export interface TokenStore extends RevocationFeed {
  putTicket(grant: TicketGrant): Promise<void>;
  /** Spends a ticket atomically: of any number of concurrent calls, exactly one gets `consumed`. */
  consumeTicket(ticketId: string, now: Date): Promise<ConsumeOutcome>;
  /** Records a revocation; a jti already recorded keeps its first record. */
  recordRevocation(revocation: RevocationRecord): Promise<'recorded' | 'already_revoked'>;
}

export interface TokenTable {
  doc: DynamoDBDocumentClient;
  tableName: string;
  /** Items per Query page (DynamoDB's 1 MB page when unset); small in tests, so paging is exercised. */
  queryPageSize?: number;
}

const epochSeconds = (at: Date) => Math.floor(at.getTime() / 1000);

function isConditionFailure(
  error: unknown,
): error is Error & { Item?: Record<string, Record<string, unknown> | undefined> } {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

export function createTokenStore({ doc, tableName, queryPageSize }: TokenTable): TokenStore {
  return {
    async putTicket(grant) {
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...ticketKey(grant.ticketId), entity: 'ticket', ...grant },
          // 256 random bits never collide; the condition only guards against a caller reusing a ticket value.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    },

    async consumeTicket(ticketId, now) {
      try {
        const { Attributes } = await doc.send(
          new UpdateCommand({
            TableName: tableName,
            Key: ticketKey(ticketId),
            UpdateExpression: 'SET consumedAt = :consumedAt',
            ConditionExpression:
              'attribute_exists(pk) AND attribute_not_exists(consumedAt) AND expiresAt > :now',
            ExpressionAttributeValues: { ':consumedAt': now.toISOString(), ':now': epochSeconds(now) },
            ReturnValues: 'ALL_NEW',
            // Says why the condition failed without a second read (the item comes back marshalled).
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { outcome: 'consumed', grant: ticketGrantSchema.parse(Attributes) };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        if (!error.Item) return { outcome: 'unknown' };
        return error.Item.consumedAt ? { outcome: 'already_used' } : { outcome: 'expired' };
      }
    },

    async recordRevocation(revocation) {
      const revokedAt = revocation.revokedAt.toISOString();
      try {
        await doc.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              ...revocationKey(revocation.jti),
              entity: 'revocation',
              gsi1pk: `REVOKED#${revocationBucketOf(revocation.revokedAt)}`,
              gsi1sk: `${revokedAt}#${revocation.jti}`,
              jti: revocation.jti,
              sub: revocation.sub,
              clientId: revocation.clientId,
              revokedBy: revocation.revokedBy,
              revokedAt,
              expiresAt: revocation.expiresAt,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return 'recorded';
      } catch (error) {
        if (isConditionFailure(error)) return 'already_revoked';
        throw error;
      }
    },

    async revokedBetween(since, until) {
      const found: RevokedToken[] = [];
      // `~` sorts after every character of a jti, so the upper bound includes all items stamped at `until`.
      const from = since.toISOString();
      const to = `${until.toISOString()}~`;
      for (const bucket of revocationBucketsBetween(since, until)) {
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await doc.send(
            new QueryCommand({
              TableName: tableName,
              IndexName: REVOCATION_INDEX,
              KeyConditionExpression: 'gsi1pk = :bucket AND gsi1sk BETWEEN :from AND :to',
              ExpressionAttributeValues: { ':bucket': `REVOKED#${bucket}`, ':from': from, ':to': to },
              ProjectionExpression: 'jti, expiresAt',
              ExclusiveStartKey: startKey,
              Limit: queryPageSize,
            }),
          );
          for (const item of page.Items ?? []) {
            if (typeof item.jti === 'string' && typeof item.expiresAt === 'number') {
              found.push({ jti: item.jti, expiresAt: item.expiresAt });
            }
          }
          startKey = page.LastEvaluatedKey;
        } while (startKey);
      }
      return found;
    },
  };
}
