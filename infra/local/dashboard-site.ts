/**
 * The assessment dashboard (动态考评 · 可视化展示) as the local hub serves it at `/dashboard`: the static page
 * (infra/dashboard/), the charting library vendored from npm (Apache ECharts, no CDN), and the published
 * assessment snapshots under `/dashboard/snapshots/` — read-only, non-personal, unsigned, exactly what the
 * rollup writes to the assessments bucket (`assessments/<period>.json`). The browser never holds a signing
 * secret: it reads published snapshots, not the API. The cloud publishes the same files (see buildDashboard).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { HttpResponse } from './apigw-event';
import { REPO_ROOT } from './workers';

export const DASHBOARD_PATH = '/dashboard';
const SNAPSHOTS_PREFIX = 'assessments/';
/** A period is a day or a month: nothing else names a file the page may read. */
const PERIOD_PATTERN = /^\d{4}-\d{2}(-\d{2})?$/;
/** A province's item snapshot of a period (snapshot.ts `itemSnapshotKeysOf`): `<period>/items-<province>.json`. */
const ITEM_SNAPSHOT_PATTERN = /^(\d{4}-\d{2}(?:-\d{2})?)\/items-(\d{2}0000)\.json$/;

export const DASHBOARD_SOURCE_DIR = join(REPO_ROOT, 'infra', 'dashboard');
const ECHARTS_FILE = join(REPO_ROOT, 'node_modules', 'echarts', 'dist', 'echarts.min.js');

/** The page's static files: name → where it comes from and its media type. */
export const DASHBOARD_FILES: Record<string, { file: string; type: string }> = {
  'index.html': { file: join(DASHBOARD_SOURCE_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  'dashboard.js': {
    file: join(DASHBOARD_SOURCE_DIR, 'dashboard.js'),
    type: 'text/javascript; charset=utf-8',
  },
  'dashboard.css': { file: join(DASHBOARD_SOURCE_DIR, 'dashboard.css'), type: 'text/css; charset=utf-8' },
  'echarts.min.js': { file: ECHARTS_FILE, type: 'text/javascript; charset=utf-8' },
};

/** Where the published snapshots are read from. */
export interface DashboardSource {
  /** Every period with a published JSON snapshot. */
  listPeriods(): Promise<string[]>;
  /** The snapshot's JSON, or undefined when none is published. */
  readSnapshot(period: string): Promise<Buffer | undefined>;
  /** A province's item snapshot of the period, or undefined when none is published (or the source has none). */
  readItemSnapshot?(period: string, province: string): Promise<Buffer | undefined>;
}

/** The assessments bucket (locally s3rver) as the dashboard's source. */
export function s3DashboardSource(s3: S3Client, bucket: string): DashboardSource {
  return {
    async listPeriods() {
      const periods: string[] = [];
      let token: string | undefined;
      do {
        // Delimited: the period snapshots only, not the per-province item snapshots in each period's folder.
        const page = await s3.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: SNAPSHOTS_PREFIX,
            Delimiter: '/',
            ContinuationToken: token,
          }),
        );
        for (const { Key } of page.Contents ?? []) {
          const period = Key?.slice(SNAPSHOTS_PREFIX.length).replace(/\.json$/, '');
          if (Key?.endsWith('.json') && period && PERIOD_PATTERN.test(period)) periods.push(period);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return periods.sort();
    },
    readSnapshot: (period) => readObject(s3, bucket, `${SNAPSHOTS_PREFIX}${period}.json`),
    readItemSnapshot: (period, province) =>
      readObject(s3, bucket, `${SNAPSHOTS_PREFIX}${period}/items-${province}.json`),
  };
}

async function readObject(s3: S3Client, bucket: string, key: string): Promise<Buffer | undefined> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await (object.Body?.transformToByteArray() ?? new Uint8Array()));
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

export async function dashboardResponse(
  method: string,
  path: string,
  source: DashboardSource | undefined,
): Promise<HttpResponse> {
  if (method !== 'GET' && method !== 'HEAD') {
    return { ...text(405, `${DASHBOARD_PATH} accepts GET only.`), headers: { Allow: ['GET'] } };
  }
  // `/dashboard` → `/dashboard/`, so that the page's relative URLs resolve under it.
  if (path === DASHBOARD_PATH) {
    return { statusCode: 308, headers: { Location: [`${DASHBOARD_PATH}/`] }, body: Buffer.alloc(0) };
  }
  const name = path.slice(DASHBOARD_PATH.length + 1) || 'index.html';
  const response = name.startsWith('snapshots/')
    ? await snapshotResponse(name.slice('snapshots/'.length), source)
    : await staticResponse(name);
  return method === 'HEAD' ? { ...response, body: Buffer.alloc(0) } : response;
}

async function staticResponse(name: string): Promise<HttpResponse> {
  const entry = DASHBOARD_FILES[name];
  if (!entry) return text(404, 'No such file.');
  return {
    statusCode: 200,
    headers: { 'Content-Type': [entry.type], 'Cache-Control': ['no-cache'] },
    body: await readFile(entry.file),
  };
}

async function snapshotResponse(name: string, source: DashboardSource | undefined): Promise<HttpResponse> {
  if (name === 'index.json') {
    const periods = source ? await source.listPeriods() : [];
    return json({ periods });
  }
  const item = ITEM_SNAPSHOT_PATTERN.exec(name);
  if (item) {
    const [, period, province] = item as unknown as [string, string, string];
    const snapshot = await source?.readItemSnapshot?.(period, province);
    return snapshot
      ? jsonBody(snapshot)
      : text(404, 'No item snapshot is published for this province and period.');
  }
  const period = name.replace(/\.json$/, '');
  if (!name.endsWith('.json') || !PERIOD_PATTERN.test(period)) return text(404, 'No such snapshot.');
  const snapshot = source ? await source.readSnapshot(period) : undefined;
  if (!snapshot) return text(404, 'No snapshot is published for this period.');
  return jsonBody(snapshot);
}

function jsonBody(snapshot: Buffer): HttpResponse {
  return {
    statusCode: 200,
    headers: { 'Content-Type': ['application/json; charset=utf-8'] },
    body: snapshot,
  };
}

const json = (value: unknown): HttpResponse => ({
  statusCode: 200,
  headers: { 'Content-Type': ['application/json; charset=utf-8'], 'Cache-Control': ['no-cache'] },
  body: Buffer.from(JSON.stringify(value), 'utf8'),
});

const text = (status: number, message: string): HttpResponse => ({
  statusCode: status,
  headers: { 'Content-Type': ['text/plain; charset=utf-8'] },
  body: Buffer.from(message, 'utf8'),
});
