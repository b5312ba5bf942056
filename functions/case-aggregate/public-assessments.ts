import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { s3Clients } from '../../shared/aws/s3';
import { loadConfig, requiredString } from '../../shared/config';
import { defineRoute } from '../../shared/contract';
import { routedHandler } from '../../shared/entry';
import { httpHandler } from '../../shared/http';
import { notFound } from '../../shared/problem';
import {
  EMPTY_INDEX,
  PUBLISHED_INDEX_KEY,
  type PublishedIndex,
  periodSchema,
  publishedIndexSchema,
  publishedKeysOf,
  publishedSnapshotSchema,
} from './published-snapshot';

/**
 * The published assessment snapshots (考评快照) in the public cloud, for citizens' apps and anyone else: the index
 * of periods and each period's snapshot, read from the published-snapshots bucket the private cloud's publisher
 * fills (publish-snapshot.ts). Unsigned like the dashboard that shows the same files: they are published,
 * non-personal figures; the WAF's per-IP rate rule guards the routes. JSON only — the CSV of a period is
 * published beside it (`/dashboard/snapshots/<period>.csv` in the cloud).
 */
const CACHE_CONTROL = 'public, max-age=300';

export const PUBLIC_ASSESSMENT_ROUTES = {
  index: defineRoute({
    operation: 'publicAssessments.index',
    method: 'GET',
    path: '/v1/public/assessments',
    tag: 'published assessments',
    summary: 'The periods whose assessment snapshot is published, newest first.',
    authentication: 'public',
    responses: {
      200: {
        description:
          'Every published period (a day or a month), newest first; empty before the first rollup.',
        schema: publishedIndexSchema,
        example: { periods: ['2026-11-21', '2026-11-20', '2026-11', '2026-10-31'] },
        headers: { 'Cache-Control': CACHE_CONTROL },
      },
    },
  }),
  snapshot: defineRoute({
    operation: 'publicAssessments.snapshot',
    method: 'GET',
    path: '/v1/public/assessments/{period}',
    tag: 'published assessments',
    summary:
      "A period's published assessment snapshot: rates and counts of the nation, provinces, regions, departments.",
    authentication: 'public',
    params: z.object({ period: periodSchema }),
    responses: {
      200: {
        description: 'The snapshot exactly as published (the JSON the rollup wrote in the private cloud).',
        schema: publishedSnapshotSchema,
        headers: { 'Cache-Control': CACHE_CONTROL },
      },
    },
    problems: [
      { status: 404, slug: 'assessment-not-published', when: 'No snapshot of this period is published.' },
    ],
  }),
};

export interface PublishedSnapshotReader {
  readIndex(): Promise<PublishedIndex>;
  /** The snapshot's JSON text, or undefined when the period is not published. */
  readSnapshot(period: string): Promise<string | undefined>;
}

export function createPublishedSnapshotReader(s3: S3Client, bucket: string): PublishedSnapshotReader {
  const read = async (key: string): Promise<string | undefined> => {
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await object.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey') return undefined;
      throw error;
    }
  };
  return {
    async readIndex() {
      const text = await read(PUBLISHED_INDEX_KEY);
      return text === undefined ? EMPTY_INDEX : publishedIndexSchema.parse(JSON.parse(text));
    },
    readSnapshot: (period) => read(publishedKeysOf(period).json),
  };
}

export function createPublicAssessmentsApi(reader: () => Promise<PublishedSnapshotReader>) {
  const index = httpHandler({
    contract: PUBLIC_ASSESSMENT_ROUTES.index,
    handle: async () => ({
      status: 200,
      headers: { 'cache-control': CACHE_CONTROL },
      body: await (await reader()).readIndex(),
    }),
  });
  const snapshot = httpHandler({
    contract: PUBLIC_ASSESSMENT_ROUTES.snapshot,
    handle: async ({ path }) => {
      const text = await (await reader()).readSnapshot(path.period);
      if (text === undefined) {
        throw notFound('assessment-not-published', 'No snapshot of this period is published.');
      }
      // Judged before it was published; parsed again so a damaged object is a 500, not a half-read answer.
      return {
        status: 200,
        headers: { 'cache-control': CACHE_CONTROL },
        body: publishedSnapshotSchema.parse(JSON.parse(text)),
      };
    },
  });
  return { index, snapshot };
}

const readerEnv = z.object({ PUBLISHED_SNAPSHOTS_BUCKET: requiredString });

export const handler = routedHandler({
  name: 'published assessments API',
  contracts: PUBLIC_ASSESSMENT_ROUTES,
  // Built on first use, so that importing the module (tests, synth, the OpenAPI generator) needs no environment.
  build: async () => {
    const config = loadConfig(readerEnv);
    const { s3 } = s3Clients();
    const reader = createPublishedSnapshotReader(s3, config.PUBLISHED_SNAPSHOTS_BUCKET);
    return createPublicAssessmentsApi(async () => reader);
  },
});
