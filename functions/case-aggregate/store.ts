import type { CancellationReason } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { changeIdOf } from '../../events/case-status-changed.v1';
import { addCalendarDays, type Day } from '../../shared/calendar';
import type { TransactionPlan } from './domain/batching';
import { type CaseRecord, currentStatus, earliestStatusAt, type TimelineEntry } from './domain/case';
import { parseCaseId } from './domain/change';
import type {
  EvaluationBucketCounters,
  EvaluationCommitPlan,
  EvaluationContribution,
  EvaluationFacts,
} from './domain/evaluation-counts';
import { awaitsOverdueSweep, DUE_INDEX_SHARDS } from './domain/overdue';
import { type BucketCounters, type BucketKey, bucketId, shardOf, storedCounters } from './domain/statistics';
import type { CaseStatus } from './domain/status';

/**
 * The only code that touches the cases and statistics tables.
 *
 * Case item:  pk `CASE#{caseId}`, sk `CASE`, applicantpk `{applicant's sub}`, applicantsk `{earliest status time}`
 *             (the keys of the `applicant` index, keys only projected), the CaseRecord attributes less what the
 *             key says (toCaseItem), and `status` (current status, for readers that do not replay the timeline);
 *             while the case awaits the overdue sweep (domain/overdue.ts) also duepk `DUE#{shard}` and
 *             duesk `{due day}#{caseId}`, the sparse keys of the `due` index (keys only projected).
 * Stats item: pk `STATS#{province}#{day}#{shard}`, sk `{regionCode}#{departmentCode}#{itemCode}`, the bucket's
 *             dimensions and its counters (numbers, only ever changed by ADD).
 * Evaluation marker (stats table, beside the buckets): pk `EVAL#{evaluationId}`, sk `EVAL`, the facts counted so
 *             far (domain/evaluation-counts.ts), the contribution committed with them, and `version`.
 */
export interface CaseTables {
  doc: DynamoDBDocumentClient;
  casesTable: string;
  statsTable: string;
  /** Waits between reads of keys DynamoDB left unprocessed; injected so tests do not sleep. */
  sleep?: (ms: number) => Promise<void>;
}

export type CommitResult =
  | { committed: true }
  /**
   * Cancelled: `staleCaseIds` changed since they were read (reload them); `contended` means another transaction
   * held an item (retry as is). Nothing was written.
   */
  | { committed: false; staleCaseIds: string[]; contended: boolean };

export interface DuePage {
  caseIds: string[];
  /** Where the next page starts; undefined after the last. */
  cursor?: Record<string, unknown>;
}

export interface ApplicantCasesPage {
  /** Newest first (by the case's earliest status time). */
  cases: CaseRecord[];
  /** Opaque: where the next page starts; undefined after the last. */
  cursor?: string;
}

/** A cursor this store did not hand out (tampered, truncated, or not a cursor at all). */
export class CursorError extends Error {
  override readonly name = 'CursorError';
}

export interface CaseStore {
  loadCases(caseIds: readonly string[]): Promise<Map<string, CaseRecord>>;
  /**
   * One page of the cases whose applicant has this subject. Read through the eventually consistent index, then
   * by key: a case whose applicant changed since is left out, never shown to the wrong person.
   */
  listApplicantCases(sub: string, page: { limit: number; cursor?: string }): Promise<ApplicantCasesPage>;
  getCase(caseId: string): Promise<CaseRecord | undefined>;
  commit(plan: TransactionPlan): Promise<CommitResult>;
  /**
   * One page of the cases of a due-index shard that await the overdue sweep and are due on or before
   * `throughDay`. Read from the index, so eventually consistent: load the cases before judging them.
   */
  queryDue(shard: number, throughDay: Day, cursor?: Record<string, unknown>): Promise<DuePage>;
}

/**
 * The applicant's own cases (用户空间), by the subject of their access tokens, newest first (CDK: partition
 * applicantpk, sort applicantsk, keys only). Keys only because every status change rewrites the case item: with
 * more projected, each change would also rewrite the index copy (1 WCU per KB); with keys only, the index is
 * written when a case first appears (or an earlier status moves its sort key) and the list pays instead, one
 * BatchGetItem per page, which is read capacity on the rare path.
 */
export const APPLICANT_INDEX = {
  indexName: 'applicant',
  partitionKey: 'applicantpk',
  sortKey: 'applicantsk',
} as const;

/** The sparse index of cases awaiting the overdue sweep (CDK: partition duepk, sort duesk, keys only). */
export const DUE_INDEX = { indexName: 'due', partitionKey: 'duepk', sortKey: 'duesk' } as const;

/** Every index of the cases table, each projecting keys only (CDK and the tests' tables declare these). */
export const CASES_TABLE_INDEXES = [APPLICANT_INDEX, DUE_INDEX] as const;

const CASE_SK = 'CASE';
const BATCH_GET_MAX_KEYS = 100;
const MAX_UNPROCESSED_ROUNDS = 8;
/** One BatchGetItem's worth: the sweep loads each page of the index in one call. */
const DUE_PAGE_SIZE = 100;

export const caseKey = (caseId: string) => ({ pk: `CASE#${caseId}`, sk: CASE_SK });

/** Cancellation codes another attempt can clear; anything else fails the messages for SQS to redeliver. */
const CONTENTION_CODES = new Set(['TransactionConflict']);

/** Present only while the case awaits the sweep: closed and counted cases leave the index by the same Put. */
function dueIndexKeys(record: CaseRecord): Record<string, string> {
  if (!record.due || !awaitsOverdueSweep(record)) return {};
  return {
    [DUE_INDEX.partitionKey]: `DUE#${shardOf(record.caseId, DUE_INDEX_SHARDS)}`,
    [DUE_INDEX.sortKey]: `${record.due.day}#${record.caseId}`,
  };
}

/** Cases stored before subjects were recorded carry none and stay out of the index. */
function applicantIndexKeys(record: CaseRecord): Record<string, string> {
  const sub = record.applicant.sub as string | undefined;
  if (!sub) return {};
  return {
    [APPLICANT_INDEX.partitionKey]: sub,
    [APPLICANT_INDEX.sortKey]: earliestStatusAt(record) ?? record.firstSeenAt,
  };
}

/**
 * The stored form keeps nothing the key already says, because every status change rewrites the whole item and
 * the service bills 2 WCU per started KB of it in a transaction (README, *Write capacity*): the case id, region
 * and case number are the key's, each timeline entry's change id is `{caseId}#{status}`, the creating change is
 * its status, and the applicant's subject is the applicant index's partition key.
 */
function toCaseItem(record: CaseRecord): Record<string, unknown> {
  const {
    caseId,
    regionCode: _regionCode,
    caseNumber: _caseNumber,
    createdByChangeId,
    applicant: { sub: _sub, ...applicant },
    timeline,
    ...rest
  } = record;
  return {
    ...caseKey(caseId),
    ...applicantIndexKeys(record),
    ...dueIndexKeys(record),
    entity: 'case',
    status: currentStatus(record),
    ...rest,
    applicant,
    createdBy: createdByChangeId.slice(caseId.length + 1),
    timeline: timeline.map(({ changeId: _changeId, ...entry }) => entry),
  };
}

/** Reads both the stored form above and the full form written before it (which carries every attribute). */
function fromCaseItem(item: Record<string, unknown>): CaseRecord {
  const {
    pk,
    sk: _sk,
    applicantpk,
    applicantsk: _applicantsk,
    duepk: _duepk,
    duesk: _duesk,
    entity: _entity,
    status: _status,
    createdBy,
    ...stored
  } = item as Record<string, unknown> & { timeline: Omit<TimelineEntry, 'changeId'>[]; applicant: object };
  const caseId = String(pk).slice('CASE#'.length);
  const parts = parseCaseId(caseId);
  if (!parts) throw new Error('a case item whose key is not a case id');
  return {
    ...stored,
    ...parts,
    caseId,
    applicant: { ...stored.applicant, ...(typeof applicantpk === 'string' ? { sub: applicantpk } : {}) },
    createdByChangeId:
      (stored.createdByChangeId as string | undefined) ?? changeIdOf(caseId, createdBy as CaseStatus),
    timeline: stored.timeline.map((entry) => ({ ...entry, changeId: changeIdOf(caseId, entry.status) })),
  } as unknown as CaseRecord;
}

const bucketUpdate = (table: string, { bucket, counters }: BucketCounters) =>
  bucketAdd(table, bucket, storedCounters(counters));

/** One ADD per counter (the only way counters change), with the bucket's dimensions set beside them. */
function bucketAdd(table: string, bucket: BucketKey, stored: Record<string, number>) {
  const dimensions = {
    province: bucket.province,
    day: bucket.day,
    shard: bucket.shard,
    regionCode: bucket.regionCode,
    departmentCode: bucket.departmentCode,
    itemCode: bucket.itemCode,
  };
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const assignments = Object.entries(dimensions).map(([name, value], i) => {
    names[`#d${i}`] = name;
    values[`:d${i}`] = value;
    return `#d${i} = :d${i}`;
  });
  const additions = Object.entries(stored).map(([name, value], i) => {
    names[`#c${i}`] = name;
    values[`:c${i}`] = value;
    return `#c${i} :c${i}`;
  });
  return {
    Update: {
      TableName: table,
      Key: { pk: bucket.pk, sk: bucket.sk },
      UpdateExpression: `SET ${assignments.join(', ')} ADD ${additions.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

function casePut(table: string, record: CaseRecord, expectedVersion: number | undefined) {
  const item = { ...toCaseItem(record), version: (expectedVersion ?? 0) + 1 };
  return {
    Put:
      expectedVersion === undefined
        ? { TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            TableName: table,
            Item: item,
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': expectedVersion },
          },
  };
}

function isCancellation(error: unknown): error is Error & { CancellationReasons?: CancellationReason[] } {
  return error instanceof Error && error.name === 'TransactionCanceledException';
}

/** The cursor: `{applicant index sort key}#{caseId}` of the last case of a page, base64url. */
const APPLICANT_CURSOR = /^([0-9T:.Z+-]{10,40})#(\d{6}:[A-Za-z0-9_-]{1,64})$/;

function applicantStartKey(sub: string, cursor: string): Record<string, string> {
  const match = APPLICANT_CURSOR.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match?.[1] || !match[2]) throw new CursorError('The cursor is not one this listing handed out.');
  // The partition comes from the token, never from the cursor: a cursor cannot open another person's list.
  return { ...caseKey(match[2]), [APPLICANT_INDEX.partitionKey]: sub, [APPLICANT_INDEX.sortKey]: match[1] };
}

function applicantCursor(lastKey: Record<string, unknown> | undefined): string | undefined {
  const sortKey = lastKey?.[APPLICANT_INDEX.sortKey];
  if (typeof sortKey !== 'string' || typeof lastKey?.pk !== 'string') return undefined;
  return Buffer.from(`${sortKey}#${lastKey.pk.slice('CASE#'.length)}`, 'utf8').toString('base64url');
}

const chunk = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createCaseStore(tables: CaseTables): CaseStore {
  const { doc, casesTable, statsTable } = tables;
  const sleep = tables.sleep ?? defaultSleep;

  async function loadChunk(caseIds: readonly string[], into: Map<string, CaseRecord>): Promise<void> {
    let keys: Record<string, unknown>[] = caseIds.map(caseKey);
    for (let round = 0; keys.length > 0; round += 1) {
      if (round >= MAX_UNPROCESSED_ROUNDS)
        throw new Error(`cases table left ${keys.length} keys unprocessed`);
      if (round > 0) await sleep(50 * 2 ** round);
      const result = await doc.send(
        new BatchGetCommand({ RequestItems: { [casesTable]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of result.Responses?.[casesTable] ?? []) {
        const record = fromCaseItem(item);
        into.set(record.caseId, record);
      }
      keys = result.UnprocessedKeys?.[casesTable]?.Keys ?? [];
    }
  }

  return {
    async loadCases(caseIds) {
      const found = new Map<string, CaseRecord>();
      for (const ids of chunk([...new Set(caseIds)], BATCH_GET_MAX_KEYS)) await loadChunk(ids, found);
      return found;
    },

    async listApplicantCases(sub, { limit, cursor }) {
      const result = await doc.send(
        new QueryCommand({
          TableName: casesTable,
          IndexName: APPLICANT_INDEX.indexName,
          KeyConditionExpression: '#pk = :sub',
          ExpressionAttributeNames: { '#pk': APPLICANT_INDEX.partitionKey },
          ExpressionAttributeValues: { ':sub': sub },
          ScanIndexForward: false,
          Limit: limit,
          ExclusiveStartKey: cursor === undefined ? undefined : applicantStartKey(sub, cursor),
        }),
      );
      const caseIds = (result.Items ?? []).map((item) => String(item.pk).slice('CASE#'.length));
      const found = new Map<string, CaseRecord>();
      await loadChunk(caseIds, found);
      const next = applicantCursor(result.LastEvaluatedKey);
      return {
        cases: caseIds.flatMap((id) => {
          const record = found.get(id);
          return record && record.applicant.sub === sub ? [record] : [];
        }),
        ...(next ? { cursor: next } : {}),
      };
    },

    async getCase(caseId) {
      const result = await doc.send(
        new GetCommand({ TableName: casesTable, Key: caseKey(caseId), ConsistentRead: true }),
      );
      return result.Item ? fromCaseItem(result.Item) : undefined;
    },

    async queryDue(shard, throughDay, cursor) {
      const result = await doc.send(
        new QueryCommand({
          TableName: casesTable,
          IndexName: DUE_INDEX.indexName,
          // `{day}#…` sorts below the next day's bare date: every case due on or before throughDay.
          KeyConditionExpression: '#pk = :pk AND #sk < :next',
          ExpressionAttributeNames: { '#pk': DUE_INDEX.partitionKey, '#sk': DUE_INDEX.sortKey },
          ExpressionAttributeValues: { ':pk': `DUE#${shard}`, ':next': addCalendarDays(throughDay, 1) },
          ExclusiveStartKey: cursor,
          Limit: DUE_PAGE_SIZE,
        }),
      );
      return {
        caseIds: (result.Items ?? []).map((item) => String(item.pk).slice('CASE#'.length)),
        cursor: result.LastEvaluatedKey,
      };
    },

    async commit(plan) {
      const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
        ...plan.writes.map((w) => casePut(casesTable, w.record, w.expectedVersion)),
        ...plan.buckets.map((b) => bucketUpdate(statsTable, b)),
      ];
      try {
        await doc.send(new TransactWriteCommand({ TransactItems: items }));
        return { committed: true };
      } catch (error) {
        if (!isCancellation(error) || !error.CancellationReasons) throw error;
        return interpretCancellation(plan, error.CancellationReasons, error);
      }
    },
  };
}

/** Reasons are positional: the case Puts come first, in plan order, then the bucket Updates. */
function interpretCancellation(
  plan: TransactionPlan,
  reasons: CancellationReason[],
  error: Error,
): CommitResult {
  const staleCaseIds: string[] = [];
  let contended = false;
  reasons.forEach((reason, index) => {
    const code = reason.Code ?? 'None';
    if (code === 'None') return;
    const write = plan.writes[index];
    if (code === 'ConditionalCheckFailed' && write) staleCaseIds.push(write.caseId);
    else if (CONTENTION_CODES.has(code)) contended = true;
    else throw error;
  });
  if (staleCaseIds.length === 0 && !contended) throw error;
  return { committed: false, staleCaseIds, contended };
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation counters (domain/evaluation-counts.ts): a marker per evaluation in the stats table, committed with
// its bucket increments in one transaction conditioned on the marker's version.

export interface EvaluationMarker {
  facts: EvaluationFacts;
  /** What the buckets hold from this evaluation: subtracted by the next commit. */
  contribution: EvaluationContribution;
  version: number;
}

export type EvaluationCommitResult =
  | { committed: true }
  /** Cancelled, nothing written: `staleEvaluationIds` changed since read (reload), `contended`: retry as is. */
  | { committed: false; staleEvaluationIds: string[]; contended: boolean };

export interface EvaluationCountsStore {
  loadMarkers(evaluationIds: readonly string[]): Promise<Map<string, EvaluationMarker>>;
  commitEvaluations(plan: EvaluationCommitPlan): Promise<EvaluationCommitResult>;
}

const EVALUATION_MARKER_SK = 'EVAL';
export const evaluationMarkerKey = (evaluationId: string) => ({
  pk: `EVAL#${evaluationId}`,
  sk: EVALUATION_MARKER_SK,
});

function markerPut(table: string, write: EvaluationCommitPlan['writes'][number]) {
  const item = {
    ...evaluationMarkerKey(write.evaluationId),
    entity: 'evaluation-counts',
    ...write.facts,
    contribution: [...write.contribution.values()],
    version: (write.expectedVersion ?? 0) + 1,
  };
  return {
    Put:
      write.expectedVersion === undefined
        ? { TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            TableName: table,
            Item: item,
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': write.expectedVersion },
          },
  };
}

function markerFromItem(item: Record<string, unknown>): EvaluationMarker {
  const { evaluationId, vote, badReview, transitions, contribution, version } = item as {
    evaluationId: string;
    vote?: EvaluationFacts['vote'];
    badReview?: EvaluationFacts['badReview'];
    transitions?: EvaluationFacts['transitions'];
    contribution?: EvaluationBucketCounters[];
    version: number;
  };
  const facts: EvaluationFacts = {
    evaluationId,
    ...(vote ? { vote: { ...vote, flags: vote.flags ?? [] } } : {}),
    ...(badReview ? { badReview } : {}),
    transitions: transitions ?? [],
  };
  return {
    facts,
    contribution: new Map((contribution ?? []).map((part) => [bucketId(part.bucket), part])),
    version: Number(version),
  };
}

export function createEvaluationCountsStore(tables: {
  doc: DynamoDBDocumentClient;
  statsTable: string;
  sleep?: (ms: number) => Promise<void>;
}): EvaluationCountsStore {
  const { doc, statsTable } = tables;
  const sleep = tables.sleep ?? defaultSleep;

  async function loadChunk(ids: readonly string[], into: Map<string, EvaluationMarker>): Promise<void> {
    let keys: Record<string, unknown>[] = ids.map(evaluationMarkerKey);
    for (let round = 0; keys.length > 0; round += 1) {
      if (round >= MAX_UNPROCESSED_ROUNDS)
        throw new Error(`stats table left ${keys.length} keys unprocessed`);
      if (round > 0) await sleep(50 * 2 ** round);
      const result = await doc.send(
        new BatchGetCommand({ RequestItems: { [statsTable]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of result.Responses?.[statsTable] ?? []) {
        const marker = markerFromItem(item);
        into.set(marker.facts.evaluationId, marker);
      }
      keys = result.UnprocessedKeys?.[statsTable]?.Keys ?? [];
    }
  }

  return {
    async loadMarkers(evaluationIds) {
      const found = new Map<string, EvaluationMarker>();
      for (const ids of chunk([...new Set(evaluationIds)], BATCH_GET_MAX_KEYS)) await loadChunk(ids, found);
      return found;
    },

    async commitEvaluations(plan) {
      const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
        ...plan.writes.map((write) => markerPut(statsTable, write)),
        // Evaluation counters are whole numbers: stored as they are.
        ...plan.buckets.map(({ bucket, counters }) =>
          bucketAdd(statsTable, bucket, counters as Record<string, number>),
        ),
      ];
      try {
        await doc.send(new TransactWriteCommand({ TransactItems: items }));
        return { committed: true };
      } catch (error) {
        if (!isCancellation(error) || !error.CancellationReasons) throw error;
        // Reasons are positional: the marker Puts first, in plan order, then the bucket ADDs.
        const staleEvaluationIds: string[] = [];
        let contended = false;
        error.CancellationReasons.forEach((reason, index) => {
          const code = reason.Code ?? 'None';
          if (code === 'None') return;
          const write = plan.writes[index];
          if (code === 'ConditionalCheckFailed' && write) staleEvaluationIds.push(write.evaluationId);
          else if (CONTENTION_CODES.has(code)) contended = true;
          else throw error;
        });
        if (staleEvaluationIds.length === 0 && !contended) throw error;
        return { committed: false, staleEvaluationIds, contended };
      }
    },
  };
}
