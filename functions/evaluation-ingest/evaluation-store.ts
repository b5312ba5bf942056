import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { decodePageCursor, encodePageCursor, ListCursorError } from '../../shared/page-cursor';
import type { AbuseFlag, BurstKey } from './domain/abuse';
import type { AcceptedEvaluation } from './domain/announcements';
import type { CaseKnowledge, CaseStatusObservation } from './domain/case-knowledge';
import type { PriorSubmissions, RejectedEvaluation } from './domain/rules';

/**
 * The only code that touches the evaluations table (`EVALUATIONS_TABLE`, pk/sk, TTL `expiresAt`, index `gsi1`).
 *
 * Case item:      pk `CASE#{caseId}`, sk `CASE` — regionCode, departmentCode, itemCode, statuses (string set of
 *                 the statuses seen), completedAt (once seen), updatedAt. Merged from events, never read-then-written.
 * Vote item:      pk `EVAL#{evaluationId}`, sk `VOTE` — the AcceptedEvaluation (evaluator pseudonymised, comment),
 *                 flags (string set, absent when none), gsi1pk `EVALUATOR#{sub}`, gsi1sk `{evaluatedAt, UTC}#{evaluationId}`.
 * Review item:    pk `EVAL#{evaluationId}`, sk `REVIEW#{submissionId}` — the same shape, isReview true, gsi1 keys as
 *                 the vote with `#{submissionId}` appended to gsi1sk.
 * Rejection item: pk `EVAL#{evaluationId}`, sk `REJECTED#{submissionId}` — the RejectedEvaluation (no evaluator, no
 *                 comment), gsi1pk `REJECTED#{clientId}`, gsi1sk `{rejectedAt}#{evaluationId}`.
 * Burst item:     pk `BURST#{clientId}`, sk `{flag}#{fingerprint}#{windowStart}` — members (string set of at most
 *                 `threshold` evaluation ids), expiresAt (TTL).
 */
export interface EvaluationTables {
  doc: DynamoDBDocumentClient;
  evaluationsTable: string;
}

/** A DynamoDB transaction item (DocumentClient shape): what part B's `openTicketItem` returns. */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export type WriteResult = 'written' | 'exists';

export interface StoredSubmissions {
  prior: PriorSubmissions;
  vote?: AcceptedEvaluation;
  /** submissionId → review. */
  reviews: Map<string, AcceptedEvaluation>;
}

export interface BurstMembership {
  /** This vote is (now) in the set. */
  joined: boolean;
  size: number;
  members: string[];
}

export interface EvaluationStore {
  getCase(caseId: string): Promise<CaseKnowledge | undefined>;
  recordCaseStatus(observation: CaseStatusObservation, now: Date): Promise<void>;
  loadSubmissions(evaluationId: string): Promise<StoredSubmissions>;
  /** The vote, with `alongside` (the ticket) in the same transaction; `exists` when a vote is already there. */
  putVote(vote: AcceptedEvaluation, alongside?: readonly TransactItem[]): Promise<WriteResult>;
  putReview(review: AcceptedEvaluation): Promise<WriteResult>;
  putRejection(rejection: RejectedEvaluation): Promise<WriteResult>;
  /** Adds the vote to a burst counter unless it is full; either way answers the counter's size. */
  joinBurst(key: BurstKey, evaluationId: string, threshold: number): Promise<BurstMembership>;
  readBurst(key: BurstKey): Promise<BurstMembership>;
  /** Adds a flag to a stored vote; the vote after it, or undefined when there is no such vote (yet). */
  flagVote(evaluationId: string, flag: AbuseFlag): Promise<AcceptedEvaluation | undefined>;
  /** An evaluator's votes and reviews, newest evaluation first (gsi1 `EVALUATOR#{sub}`). */
  listByEvaluator(sub: string, page: PageRequest): Promise<Page<AcceptedEvaluation>>;
  /** A pushing client's rejected submissions, newest first (gsi1 `REJECTED#{clientId}`), optionally of one batch. */
  listRejections(
    clientId: string,
    page: PageRequest & { batchId?: string },
  ): Promise<Page<RejectedEvaluation>>;
}

export interface PageRequest {
  limit: number;
  /** Opaque, as a previous page of the same listing handed it out. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Absent after the last page. */
  cursor?: string;
}

/** A cursor this store did not hand out for this listing (tampered, or another evaluator's or client's). */
export { ListCursorError };

const CASE_SK = 'CASE';
const VOTE_SK = 'VOTE';
const REVIEW_PREFIX = 'REVIEW#';
const REJECTED_PREFIX = 'REJECTED#';

export const caseKey = (caseId: string) => ({ pk: `CASE#${caseId}`, sk: CASE_SK });
export const voteKey = (evaluationId: string) => ({ pk: `EVAL#${evaluationId}`, sk: VOTE_SK });
const burstKey = (key: BurstKey) => ({
  pk: `BURST#${key.source}`,
  sk: `${key.flag}#${key.fingerprint}#${key.windowStart}`,
});

const LIST_INDEX = 'gsi1';
/** Index pages one listing may read before it answers with a cursor (a batch filter may skip many items). */
const MAX_LIST_READS = 10;

type ListKey = { pk: string; sk: string; gsi1pk: string; gsi1sk: string };

const listKeyOf = (item: Record<string, unknown>): ListKey => ({
  pk: String(item.pk),
  sk: String(item.sk),
  gsi1pk: String(item.gsi1pk),
  gsi1sk: String(item.gsi1sk),
});

function fromRejectionItem(item: Record<string, unknown>): RejectedEvaluation {
  const { pk: _pk, sk: _sk, entity: _entity, gsi1pk: _g1, gsi1sk: _g2, ...rejection } = item;
  return rejection as unknown as RejectedEvaluation;
}

const isConditionFailure = (error: unknown) =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

const stringSet = (value: unknown): string[] =>
  value instanceof Set ? [...(value as Set<string>)].sort() : Array.isArray(value) ? [...value].sort() : [];

function toEvaluationItem(evaluation: AcceptedEvaluation): Record<string, unknown> {
  const { flags, ...rest } = evaluation;
  const suffix = evaluation.isReview ? `#${evaluation.submissionId}` : '';
  return {
    pk: `EVAL#${evaluation.evaluationId}`,
    sk: evaluation.isReview ? `${REVIEW_PREFIX}${evaluation.submissionId}` : VOTE_SK,
    entity: evaluation.isReview ? 'review' : 'vote',
    gsi1pk: `EVALUATOR#${evaluation.evaluator.sub}`,
    // In UTC: platforms send any offset, and the index sorts the text (newest first in the user space).
    gsi1sk: `${new Date(evaluation.evaluatedAt).toISOString()}#${evaluation.evaluationId}${suffix}`,
    ...rest,
    // DynamoDB has no empty sets: no flags is no attribute.
    ...(flags.length > 0 ? { flags: new Set(flags) } : {}),
  };
}

function fromEvaluationItem(item: Record<string, unknown>): AcceptedEvaluation {
  const { pk: _pk, sk: _sk, entity: _entity, gsi1pk: _g1, gsi1sk: _g2, flags, ...rest } = item;
  return {
    ...(rest as unknown as Omit<AcceptedEvaluation, 'flags'>),
    flags: stringSet(flags) as AbuseFlag[],
  };
}

function fromCaseItem(item: Record<string, unknown>): CaseKnowledge {
  return {
    caseId: String(item.caseId),
    regionCode: String(item.regionCode),
    departmentCode: String(item.departmentCode),
    itemCode: String(item.itemCode),
    statuses: stringSet(item.statuses) as CaseKnowledge['statuses'],
    ...(typeof item.completedAt === 'string' ? { completedAt: item.completedAt } : {}),
  };
}

const membershipOf = (item: Record<string, unknown> | undefined, joined: boolean): BurstMembership => {
  const members = stringSet(item?.members);
  return { joined, size: members.length, members };
};

export function createEvaluationStore({ doc, evaluationsTable: table }: EvaluationTables): EvaluationStore {
  async function putNew(item: Record<string, unknown>): Promise<WriteResult> {
    try {
      await doc.send(
        new PutCommand({ TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return 'written';
    } catch (error) {
      if (isConditionFailure(error)) return 'exists';
      throw error;
    }
  }

  /** Newest first through one gsi1 partition, `limit` items at most, filtered by `batchId` when given. */
  async function listPartition(
    partition: string,
    page: PageRequest & { batchId?: string },
  ): Promise<{ items: Record<string, unknown>[]; cursor?: string }> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined =
      page.cursor === undefined
        ? undefined
        : (decodePageCursor(page.cursor, { attribute: 'gsi1pk', value: partition }) as ListKey);
    for (let reads = 0; reads < MAX_LIST_READS; reads += 1) {
      const result: QueryCommandOutput = await doc.send(
        new QueryCommand({
          TableName: table,
          IndexName: LIST_INDEX,
          KeyConditionExpression: 'gsi1pk = :pk',
          ...(page.batchId === undefined
            ? { ExpressionAttributeValues: { ':pk': partition } }
            : {
                FilterExpression: 'batchId = :batch',
                ExpressionAttributeValues: { ':pk': partition, ':batch': page.batchId },
              }),
          ScanIndexForward: false,
          ExclusiveStartKey: startKey,
          Limit: page.limit - items.length,
        }),
      );
      items.push(...(result.Items ?? []));
      startKey = result.LastEvaluatedKey;
      // Every item up to LastEvaluatedKey was returned or filtered out: the next page starts after it.
      if (startKey === undefined) return { items };
      if (items.length >= page.limit) break;
    }
    return { items, cursor: encodePageCursor(listKeyOf(startKey as Record<string, unknown>)) };
  }

  return {
    async getCase(caseId) {
      const result = await doc.send(
        new GetCommand({ TableName: table, Key: caseKey(caseId), ConsistentRead: true }),
      );
      return result.Item ? fromCaseItem(result.Item) : undefined;
    },

    async recordCaseStatus(observation, now) {
      // ADD to a set and if_not_exists are commutative and idempotent: any order, any number of deliveries.
      const completion =
        observation.status === 'completed' ? ', completedAt = if_not_exists(completedAt, :at)' : '';
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: caseKey(observation.caseId),
          UpdateExpression: `SET entity = :entity, caseId = :caseId, regionCode = :region, departmentCode = :department, itemCode = :item, updatedAt = :now${completion} ADD statuses :status`,
          ExpressionAttributeValues: {
            ':entity': 'case',
            ':caseId': observation.caseId,
            ':region': observation.regionCode,
            ':department': observation.departmentCode,
            ':item': observation.itemCode,
            ':now': now.toISOString(),
            ':status': new Set([observation.status]),
            ...(completion ? { ':at': new Date(observation.statusAt).toISOString() } : {}),
          },
        }),
      );
    },

    async loadSubmissions(evaluationId) {
      const recorded = new Map<string, 'vote' | 'review' | 'rejected'>();
      const reviews = new Map<string, AcceptedEvaluation>();
      let vote: AcceptedEvaluation | undefined;
      let cursor: Record<string, unknown> | undefined;
      do {
        const page: QueryCommandOutput = await doc.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `EVAL#${evaluationId}` },
            ConsistentRead: true,
            ExclusiveStartKey: cursor,
          }),
        );
        for (const item of page.Items ?? []) {
          const sk = String(item.sk);
          if (sk === VOTE_SK) {
            vote = fromEvaluationItem(item);
            recorded.set(vote.submissionId, 'vote');
          } else if (sk.startsWith(REVIEW_PREFIX)) {
            const review = fromEvaluationItem(item);
            reviews.set(review.submissionId, review);
            recorded.set(review.submissionId, 'review');
          } else if (sk.startsWith(REJECTED_PREFIX)) {
            recorded.set(sk.slice(REJECTED_PREFIX.length), 'rejected');
          }
        }
        cursor = page.LastEvaluatedKey;
      } while (cursor);
      return {
        prior: { ...(vote ? { voteSubmissionId: vote.submissionId } : {}), recorded },
        ...(vote ? { vote } : {}),
        reviews,
      };
    },

    async putVote(vote, alongside = []) {
      if (alongside.length === 0) return putNew(toEvaluationItem(vote));
      try {
        await doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: table,
                  Item: toEvaluationItem(vote),
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              ...alongside,
            ],
          }),
        );
        return 'written';
      } catch (error) {
        const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
        // Only the vote's own condition means "already there"; anything else is left to SQS redelivery.
        if (
          error instanceof Error &&
          error.name === 'TransactionCanceledException' &&
          reasons?.[0]?.Code === 'ConditionalCheckFailed'
        ) {
          return 'exists';
        }
        throw error;
      }
    },

    putReview: (review) => putNew(toEvaluationItem(review)),

    putRejection: (rejection) =>
      putNew({
        pk: `EVAL#${rejection.evaluationId}`,
        sk: `${REJECTED_PREFIX}${rejection.submissionId}`,
        entity: 'rejection',
        gsi1pk: `REJECTED#${rejection.clientId}`,
        gsi1sk: `${rejection.rejectedAt}#${rejection.evaluationId}`,
        ...rejection,
      }),

    async joinBurst(key, evaluationId, threshold) {
      try {
        const result = await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: burstKey(key),
            UpdateExpression: 'SET entity = :entity, expiresAt = :ttl ADD members :id',
            ConditionExpression:
              'attribute_not_exists(members) OR size(members) < :threshold OR contains(members, :member)',
            ExpressionAttributeValues: {
              ':entity': 'burst',
              ':ttl': key.expiresAt,
              ':id': new Set([evaluationId]),
              ':member': evaluationId,
              ':threshold': threshold,
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return membershipOf(result.Attributes, true);
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const full = await doc.send(
          new GetCommand({ TableName: table, Key: burstKey(key), ConsistentRead: true }),
        );
        return membershipOf(full.Item, false);
      }
    },

    async readBurst(key) {
      const result = await doc.send(
        new GetCommand({ TableName: table, Key: burstKey(key), ConsistentRead: true }),
      );
      return membershipOf(result.Item, false);
    },

    async listByEvaluator(sub, page) {
      const { items, cursor } = await listPartition(`EVALUATOR#${sub}`, page);
      return { items: items.map(fromEvaluationItem), ...(cursor ? { cursor } : {}) };
    },

    async listRejections(clientId, page) {
      const { items, cursor } = await listPartition(`REJECTED#${clientId}`, page);
      return { items: items.map(fromRejectionItem), ...(cursor ? { cursor } : {}) };
    },

    async flagVote(evaluationId, flag) {
      try {
        const result = await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: voteKey(evaluationId),
            UpdateExpression: 'ADD flags :flag',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':flag': new Set([flag]) },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return result.Attributes ? fromEvaluationItem(result.Attributes) : undefined;
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    },
  };
}
