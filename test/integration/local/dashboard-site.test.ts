import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemSnapshotKeysOf, snapshotKeysOf } from '../../../functions/case-aggregate/snapshot';
import { dashboardResponse, s3DashboardSource } from '../../../infra/local/dashboard-site';
import type { RunningEngine } from '../../../infra/local/engines/dynamodb';
import { startS3 } from '../../../infra/local/engines/s3';
import { PROVINCES } from '../../../shared/regions';
import { localAwsConfig } from '../../support/aws';

/**
 * The dashboard's snapshot files on the local S3 engine: the period snapshots listed, a province's item snapshot
 * served on drill-down. Twenty days of 32 provinces' item snapshots make more than 1,000 objects: the listing
 * must still find the periods (it lists one folder level, not every item file).
 */
const BUCKET = 'assessments';
const DAYS = Array.from({ length: 20 }, (_, i) => `2026-10-${String(i + 1).padStart(2, '0')}`);
let engine: RunningEngine;
let dir: string;
let s3: S3Client;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dashboard-s3-'));
  engine = await startS3({ port: 0, directory: dir });
  s3 = new S3Client({
    ...localAwsConfig(engine.endpoint),
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const keys = [...DAYS, '2026-10'].flatMap((period) => [
    ...Object.values(snapshotKeysOf(period)),
    ...PROVINCES.flatMap((p) => Object.values(itemSnapshotKeysOf(period, p.code))),
  ]);
  expect(keys.length).toBeGreaterThan(1000);
  for (let i = 0; i < keys.length; i += 64) {
    await Promise.all(
      keys
        .slice(i, i + 64)
        .map((Key) =>
          s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: JSON.stringify({ key: Key }) })),
        ),
    );
  }
}, 300_000);

afterAll(async () => {
  s3?.destroy();
  await engine?.stop();
  await rm(dir, { recursive: true, force: true });
});

const bodyOf = (response: { body: Buffer }) => JSON.parse(response.body.toString('utf8'));

describe('dashboard snapshots', () => {
  it('lists the periods only, however many item snapshots lie beside them', async () => {
    const response = await dashboardResponse(
      'GET',
      '/dashboard/snapshots/index.json',
      s3DashboardSource(s3, BUCKET),
    );
    expect(response.statusCode).toBe(200);
    expect(bodyOf(response).periods).toEqual(['2026-10', ...DAYS]);
  });

  it("serves a province's item snapshot of a period, and 404 for one that is not published", async () => {
    const source = s3DashboardSource(s3, BUCKET);
    const found = await dashboardResponse('GET', '/dashboard/snapshots/2026-10/items-330000.json', source);
    expect(found.statusCode).toBe(200);
    expect(found.headers['Content-Type']).toEqual(['application/json; charset=utf-8']);
    expect(bodyOf(found)).toEqual({ key: 'assessments/2026-10/items-330000.json' });
    const missing = await dashboardResponse('GET', '/dashboard/snapshots/2026-09/items-330000.json', source);
    expect(missing.statusCode).toBe(404);
  });

  it('names no other object: a county, a traversal or another extension is not an item snapshot', async () => {
    const source = s3DashboardSource(s3, BUCKET);
    for (const name of [
      '2026-10/items-330106.json',
      '2026-10/items-../x.json',
      '2026-10/items-330000.csv',
      '2026-10/',
    ]) {
      const response = await dashboardResponse('GET', `/dashboard/snapshots/${name}`, source);
      expect(response.statusCode, name).toBe(404);
    }
  });
});
