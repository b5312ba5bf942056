import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { EventBridgeEvent } from 'aws-lambda';
import * as z from 'zod';
import { type AssessmentPublishedV1, assessmentPublishedV1 } from '../../events/assessment-published.v1';
import { s3Clients } from '../../shared/aws/s3';
import { loadConfig, requiredString } from '../../shared/config';
import { once } from '../../shared/entry';
import { logger } from '../../shared/observability';
import { mapLimit } from './map-limit';
import {
  EMPTY_INDEX,
  type Judgement,
  judgeItemSnapshot,
  judgeSnapshot,
  PUBLISHED_INDEX_KEY,
  type PublishedIndex,
  provincesOf,
  publishedIndexSchema,
  publishedItemKeysOf,
  publishedKeysOf,
  type Refusal,
  withPeriod,
} from './published-snapshot';
import { CSV_CONTENT_TYPE, JSON_CONTENT_TYPE, type SnapshotKeys } from './snapshot';

/**
 * The private cloud's one way into the public cloud (DESIGN §4): on `AssessmentPublished` (private bus) it reads
 * the period's snapshot from the assessments bucket and the item snapshot of each province it names
 * (`assessments/<period>/items-<province>.json|csv`, what the dashboard's drill-down reads), judges every file
 * (published-snapshot.ts: schema, no field of the personal-data list, nothing undeclared, the CSV exactly the
 * JSON's rendering, an item file only its province's item scopes) and only when all pass copies them, then an
 * updated `assessments/index.json`, into the public cloud's published-snapshots bucket — the only objects its role
 * may put there. The item files are named from the judged snapshot's province scopes (at most 32), not listed:
 * bounded, and no ListBucket grant. A refused snapshot is not copied: the invocation fails, Lambda parks the event
 * in the publisher's DLQ and its alarm calls the on-call.
 *
 * The index is read-modify-written: the function runs one invocation at a time (reserved concurrency 1), so two
 * periods published together cannot lose each other. The list of published periods is kept in the private bucket
 * (`published/index.json`), since this role may not read the public bucket.
 */
export const PUBLICATION_LEDGER_KEY = 'published/index.json';

export interface PublisherStore {
  /** An object of the private assessments bucket, or undefined when there is none. */
  readPrivate(key: string): Promise<string | undefined>;
  writeLedger(index: PublishedIndex): Promise<void>;
  putPublic(key: string, body: string, contentType: string): Promise<void>;
}

export type PublicationOutcome =
  | { published: true; period: string; periods: number; itemSnapshots: number }
  | { published: false; period: string; key: string; refusal: Refusal };

/** Item snapshots read (or put) at once: 32 provinces in four rounds, well inside the function's timeout. */
const ITEM_CONCURRENCY = 8;

export class SnapshotRefusedError extends Error {
  override readonly name = 'SnapshotRefusedError';
  constructor(
    readonly key: string,
    readonly refusal: Refusal,
  ) {
    // Field names and paths only: the refusal never carries a value of the snapshot.
    super(`snapshot ${key} refused: ${JSON.stringify(refusal)}`);
  }
}

export class SnapshotMissingError extends Error {
  override readonly name = 'SnapshotMissingError';
}

/** A snapshot file pair as read from the private bucket, with the verdict on it. */
interface JudgedFiles {
  keys: SnapshotKeys;
  json: string;
  csv: string;
  judgement: Judgement;
}

export async function publishSnapshot(
  store: PublisherStore,
  detail: Pick<AssessmentPublishedV1, 'period' | 'snapshotKeys'>,
): Promise<PublicationOutcome> {
  const { period, snapshotKeys } = detail;
  const main = await readJudged(store, period, snapshotKeys, (json, csv) => judgeSnapshot(period, json, csv));
  if (!main.judgement.publishable) return refused(period, main.keys, main.judgement.refusal);
  const items = await mapLimit(provincesOf(main.judgement.snapshot), ITEM_CONCURRENCY, (province) =>
    readJudged(store, period, publishedItemKeysOf(period, province), (json, csv) =>
      judgeItemSnapshot(period, province, json, csv),
    ),
  );
  // All or nothing: a period is published with every province's items, or not at all.
  for (const { keys, judgement } of items) {
    if (!judgement.publishable) return refused(period, keys, judgement.refusal);
  }

  // Items first, then the period, then the index: a reader never finds a period whose items are not there yet.
  await mapLimit(items, ITEM_CONCURRENCY, (item) => putPair(store, item));
  await putPair(store, { ...main, keys: publishedKeysOf(period) });
  const index = withPeriod(await readLedger(store), period);
  await store.putPublic(PUBLISHED_INDEX_KEY, `${JSON.stringify(index)}\n`, JSON_CONTENT_TYPE);
  await store.writeLedger(index);
  return { published: true, period, periods: index.periods.length, itemSnapshots: items.length };
}

async function readJudged(
  store: PublisherStore,
  period: string,
  keys: SnapshotKeys,
  judge: (json: string, csv: string) => Judgement,
): Promise<JudgedFiles> {
  const [json, csv] = await Promise.all([store.readPrivate(keys.json), store.readPrivate(keys.csv)]);
  // The event follows the puts, so a missing object is S3 not showing it yet, or a snapshot since removed: retried.
  if (json === undefined || csv === undefined) {
    throw new SnapshotMissingError(`${keys.json} of ${period} is not in the assessments bucket`);
  }
  return { keys, json, csv, judgement: judge(json, csv) };
}

const refused = (period: string, keys: SnapshotKeys, refusal: Refusal): PublicationOutcome => ({
  published: false,
  period,
  key: keys.json,
  refusal,
});

/** The same keys in the public bucket as in the private one (published-snapshot.ts `publishedKeysOf`). */
async function putPair(store: PublisherStore, files: JudgedFiles): Promise<void> {
  await store.putPublic(files.keys.json, files.json, JSON_CONTENT_TYPE);
  await store.putPublic(files.keys.csv, files.csv, CSV_CONTENT_TYPE);
}

async function readLedger(store: PublisherStore): Promise<PublishedIndex> {
  const text = await store.readPrivate(PUBLICATION_LEDGER_KEY);
  if (text === undefined) return EMPTY_INDEX;
  return publishedIndexSchema.parse(JSON.parse(text));
}

/** The store over S3: the private bucket read (and its ledger written), the public bucket only put to. */
export function createPublisherStore(options: {
  s3: S3Client;
  privateBucket: string;
  publicBucket: string;
}): PublisherStore {
  const { s3, privateBucket, publicBucket } = options;
  return {
    async readPrivate(key) {
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: privateBucket, Key: key }));
        return (await object.Body?.transformToString('utf-8')) ?? '';
      } catch (error) {
        if ((error as Error).name === 'NoSuchKey') return undefined;
        throw error;
      }
    },
    async writeLedger(index) {
      await s3.send(
        new PutObjectCommand({
          Bucket: privateBucket,
          Key: PUBLICATION_LEDGER_KEY,
          Body: JSON.stringify(index),
          ContentType: JSON_CONTENT_TYPE,
        }),
      );
    },
    async putPublic(key, body, contentType) {
      await s3.send(
        new PutObjectCommand({
          Bucket: publicBucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          // Re-rolling a period overwrites it; readers must not keep a stale copy for long.
          CacheControl: 'max-age=300',
        }),
      );
    },
  };
}

const publisherEnv = z.object({
  ASSESSMENTS_BUCKET: requiredString,
  PUBLISHED_SNAPSHOTS_BUCKET: requiredString,
});

const defaultStore = once(async () => {
  const config = loadConfig(publisherEnv);
  const { s3 } = s3Clients();
  return createPublisherStore({
    s3,
    privateBucket: config.ASSESSMENTS_BUCKET,
    publicBucket: config.PUBLISHED_SNAPSHOTS_BUCKET,
  });
});

export async function handler(
  event: EventBridgeEvent<'AssessmentPublished', unknown>,
): Promise<PublicationOutcome> {
  const parsed = assessmentPublishedV1.safeParse(event.detail);
  if (!parsed.success) {
    const paths = parsed.error.issues.map((issue) => issue.path.join('.') || '(detail)');
    throw new Error(`Invalid AssessmentPublished detail: ${[...new Set(paths)].join(', ')}`);
  }
  const outcome = await publishSnapshot(await defaultStore(), parsed.data);
  if (!outcome.published) {
    logger.error('snapshot refused, not published', {
      period: outcome.period,
      key: outcome.key,
      refusal: outcome.refusal,
      correlationId: parsed.data.correlationId,
    });
    throw new SnapshotRefusedError(outcome.key, outcome.refusal);
  }
  logger.info('snapshot published', {
    period: outcome.period,
    periods: outcome.periods,
    itemSnapshots: outcome.itemSnapshots,
    correlationId: parsed.data.correlationId,
  });
  return outcome;
}
