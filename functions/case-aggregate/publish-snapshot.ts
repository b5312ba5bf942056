import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { EventBridgeEvent } from 'aws-lambda';
import * as z from 'zod';
import { type AssessmentPublishedV1, assessmentPublishedV1 } from '../../events/assessment-published.v1';
import { s3Clients } from '../../shared/aws/s3';
import { loadConfig, requiredString } from '../../shared/config';
import { once } from '../../shared/entry';
import { logger } from '../../shared/observability';
import {
  EMPTY_INDEX,
  judgeSnapshot,
  PUBLISHED_INDEX_KEY,
  type PublishedIndex,
  publishedIndexSchema,
  publishedKeysOf,
  type Refusal,
  withPeriod,
} from './published-snapshot';
import { CSV_CONTENT_TYPE, JSON_CONTENT_TYPE } from './snapshot';

/**
 * The private cloud's one way into the public cloud (DESIGN §4): on `AssessmentPublished` (private bus) it reads
 * the period's snapshot from the assessments bucket, judges it (published-snapshot.ts: schema, no field of the
 * personal-data list, nothing undeclared, the CSV exactly the JSON's rendering) and only then copies the JSON, the
 * CSV and an updated `assessments/index.json` into the public cloud's published-snapshots bucket — the only
 * objects its role may put there. A refused snapshot is not copied: the invocation fails, Lambda parks the event
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
  | { published: true; period: string; periods: number }
  | { published: false; period: string; refusal: Refusal };

export class SnapshotRefusedError extends Error {
  override readonly name = 'SnapshotRefusedError';
  constructor(readonly refusal: Refusal) {
    // Field names and paths only: the refusal never carries a value of the snapshot.
    super(`snapshot refused: ${JSON.stringify(refusal)}`);
  }
}

export class SnapshotMissingError extends Error {
  override readonly name = 'SnapshotMissingError';
}

export async function publishSnapshot(
  store: PublisherStore,
  detail: Pick<AssessmentPublishedV1, 'period' | 'snapshotKeys'>,
): Promise<PublicationOutcome> {
  const { period, snapshotKeys } = detail;
  const [jsonText, csvText] = await Promise.all([
    store.readPrivate(snapshotKeys.json),
    store.readPrivate(snapshotKeys.csv),
  ]);
  // The event follows the puts, so a missing object is S3 not showing it yet, or a snapshot since removed: retried.
  if (jsonText === undefined || csvText === undefined) {
    throw new SnapshotMissingError(`the snapshot of ${period} is not in the assessments bucket`);
  }
  const judgement = judgeSnapshot(period, jsonText, csvText);
  if (!judgement.publishable) return { published: false, period, refusal: judgement.refusal };

  const keys = publishedKeysOf(period);
  await store.putPublic(keys.json, jsonText, JSON_CONTENT_TYPE);
  await store.putPublic(keys.csv, csvText, CSV_CONTENT_TYPE);
  const index = withPeriod(await readLedger(store), period);
  // The public index last: it never names a period whose snapshot is not there yet.
  await store.putPublic(PUBLISHED_INDEX_KEY, `${JSON.stringify(index)}\n`, JSON_CONTENT_TYPE);
  await store.writeLedger(index);
  return { published: true, period, periods: index.periods.length };
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
      refusal: outcome.refusal,
      correlationId: parsed.data.correlationId,
    });
    throw new SnapshotRefusedError(outcome.refusal);
  }
  logger.info('snapshot published', {
    period: outcome.period,
    periods: outcome.periods,
    correlationId: parsed.data.correlationId,
  });
  return outcome;
}
