import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { type AssessmentPublishedV1, assessmentPublishedV1 } from '../../../events/assessment-published.v1';
import { ratesOf } from '../../../functions/case-aggregate/domain/rates';
import type { RollupCounters } from '../../../functions/case-aggregate/domain/rollup';
import {
  backfill,
  type RollupDependencies,
  rollUpDay,
  rollUpDayAndMonth,
  rollUpMonth,
  runRollup,
} from '../../../functions/case-aggregate/rollup';
import { createRollupStore, type RollupStore } from '../../../functions/case-aggregate/rollup-store';
import { rollupCommand } from '../../../infra/cli/commands/rollup';
import type { RunningEngine } from '../../../infra/local/engines/dynamodb';
import { startS3 } from '../../../infra/local/engines/s3';
import { localAwsConfig } from '../../support/aws';
import { localDynamo, scratchTables } from '../../support/dynamo';
import {
  addToBucket,
  cell,
  counters,
  DAY_CELLS,
  DEPT_HANGZHOU,
  ITEM_A,
  ITEM_B,
  ITEM_C,
  ITEM_CELLS,
  putBuckets,
} from '../../unit/case-aggregate/rollup-fixtures';

const dynamo = localDynamo();
const tables = scratchTables(dynamo.client);
const BUCKET = 'assessments';
const NOW = new Date('2026-11-22T01:00:00+08:00');
const SHARDS = 8;
let s3Engine: RunningEngine;
let s3Dir: string;
let s3: S3Client;
let statsTable: string;
let store: RollupStore;
let published: AssessmentPublishedV1[];

beforeAll(async () => {
  s3Dir = await mkdtemp(join(tmpdir(), 'rollup-s3-'));
  s3Engine = await startS3({ port: 0, directory: s3Dir });
  s3 = new S3Client({
    ...localAwsConfig(s3Engine.endpoint),
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  await tables.dropAll();
  s3?.destroy();
  await s3Engine?.stop();
  await rm(s3Dir, { recursive: true, force: true });
});

// A fresh stats table per test: every test states its own buckets.
beforeEach(async () => {
  statsTable = await tables.create('stats');
  store = createRollupStore({
    doc: dynamo.doc,
    statsTable,
    shards: SHARDS,
    snapshots: { s3, bucket: BUCKET },
  });
  published = [];
});

const deps = (): RollupDependencies => ({
  store,
  // The catalogued schema is what the kernel publisher validates against.
  publish: async (detail) => {
    published.push(assessmentPublishedV1.parse(detail));
  },
  clock: () => NOW,
  correlationId: 'rollup-test-run',
});

const scopeCounters = async (period: string) => {
  const { scopes } = await store.readScopes(period, ['nation', 'province#', 'region#', 'dept#']);
  return new Map(scopes.map((s) => [s.scope, s.counters]));
};

async function rollupItems(period: string) {
  const result = await dynamo.doc.send(
    new QueryCommand({
      TableName: statsTable,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `ROLLUP#${period}` },
      ConsistentRead: true,
    }),
  );
  return result.Items ?? [];
}

async function objectOf(key: string) {
  const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return { contentType: object.ContentType, body: (await object.Body?.transformToString('utf-8')) ?? '' };
}

const NATION_DAY: RollupCounters = counters({
  received: 6,
  accepted: 3,
  rejected: 1,
  completed: 4,
  completedOnTime: 2,
  overdue: 1,
  online: 3,
  fullyOnline: 2,
  processingCentihours: 4475,
});

describe('daily rollup', () => {
  it('rolls the buckets of a day (shards merged) into exact scope totals and rates', async () => {
    await putBuckets(dynamo.doc, statsTable, '2026-11-20', DAY_CELLS);
    const report = await rollUpDay(deps(), '2026-11-20');

    // One Query per (province, shard) partition, each a single page here; capacity as DynamoDB reported it.
    expect(report.queries).toBe(32 * SHARDS);
    expect(report.readCapacity).toBeGreaterThan(0);
    expect(report).toMatchObject({ period: '2026-11-20', periodType: 'day', scopes: 8, cells: 4 });
    const scopes = await scopeCounters('2026-11-20');
    expect(scopes.get('nation')).toEqual(NATION_DAY);
    expect(scopes.get('province#330000')).toEqual(
      counters({
        received: 6,
        accepted: 3,
        rejected: 1,
        completed: 3,
        completedOnTime: 2,
        online: 3,
        fullyOnline: 2,
        processingCentihours: 3475,
      }),
    );
    const guangdong = ratesOf(scopes.get('province#440000') ?? counters({}));
    expect(guangdong.onlineRate).toBeNull();
    expect(guangdong.onTimeCompletionRate).toEqual({ numerator: 0, denominator: 1 });
    expect(ratesOf(scopes.get('nation') ?? counters({})).onTimeCompletionRate).toEqual({
      numerator: 2,
      denominator: 4,
    });
  });

  it('writes the JSON and CSV snapshots with their content types, and announces them', async () => {
    await putBuckets(dynamo.doc, statsTable, '2026-11-20', DAY_CELLS);
    await rollUpDayAndMonth(deps(), '2026-11-20');

    const json = await objectOf('assessments/2026-11-20.json');
    expect(json.contentType).toBe('application/json; charset=utf-8');
    const snapshot = JSON.parse(json.body);
    expect(snapshot).toMatchObject({
      period: '2026-11-20',
      periodType: 'day',
      generatedAt: NOW.toISOString(),
    });
    const nation = snapshot.scopes.find((s: { scope: string }) => s.scope === 'nation');
    expect(nation.counters).toMatchObject({ received: 6, completed: 4, processingHours: 44.75 });
    expect(nation.rates.onTimeCompletionRate).toEqual({ numerator: 2, denominator: 4, value: 50 });
    expect(nation.rates.averageProcessingHours).toEqual({ numerator: 44.75, denominator: 4, value: 11.19 });

    const csv = await objectOf('assessments/2026-11-20.csv');
    expect(csv.contentType).toBe('text/csv; charset=utf-8');
    const lines = csv.body.replace(/^\uFEFF/, '').split('\r\n');
    expect(lines).toHaveLength(1 + 8 + 1);
    expect(lines.find((line) => line.startsWith('2026-11-20,province#440000,'))).toContain(',广东,');

    expect(published).toEqual([
      {
        version: 1,
        correlationId: 'rollup-test-run',
        period: '2026-11-20',
        periodType: 'day',
        snapshotKeys: { json: 'assessments/2026-11-20.json', csv: 'assessments/2026-11-20.csv' },
        scopes: 8,
        generatedAt: NOW.toISOString(),
      },
      expect.objectContaining({ period: '2026-11', periodType: 'month', scopes: 8 }),
    ]);
    const monthCsv = await objectOf('assessments/2026-11.csv');
    expect(monthCsv.body).toContain(
      // No evaluation counted: the six evaluation counters are 0, satisfaction and rectification rates empty.
      '2026-11,nation,nation,,,,,6,3,1,4,2,1,3,2,44.75,0,0,0,0,0,0,50.00,33.33,50.00,11.19,,,',
    );
  });

  it("publishes each province's item scopes beside the period's snapshot, from the same cells", async () => {
    await putBuckets(dynamo.doc, statsTable, '2026-11-20', ITEM_CELLS);
    const [day, month] = await rollUpDayAndMonth(deps(), '2026-11-20');
    expect(day).toMatchObject({ itemScopes: 5, scopes: 9 });
    expect(month).toMatchObject({ itemScopes: 5 });

    const json = await objectOf('assessments/2026-11/items-330000.json');
    expect(json.contentType).toBe('application/json; charset=utf-8');
    const snapshot = JSON.parse(json.body);
    expect(snapshot).toMatchObject({ period: '2026-11', periodType: 'month' });
    expect(snapshot.scopes.map((s: { itemCode: string }) => s.itemCode).sort()).toEqual(
      [ITEM_A, ITEM_B, ITEM_C].sort(),
    );
    // Hand-computed in rollup-fixtures.ts (ITEM_CELLS).
    const itemA = snapshot.scopes.find((s: { itemCode: string }) => s.itemCode === ITEM_A);
    expect(itemA.rates.onTimeCompletionRate).toEqual({ numerator: 2, denominator: 3, value: 66.67 });
    expect(itemA.rates.fullyOnlineRate).toEqual({ numerator: 2, denominator: 4, value: 50 });
    expect(itemA.rates.satisfactionRate).toEqual({ numerator: 2, denominator: 3, value: 66.67 });

    const csv = await objectOf('assessments/2026-11-20/items-440000.csv');
    expect(csv.contentType).toBe('text/csv; charset=utf-8');
    expect(csv.body.replace(/^\uFEFF/, '').split('\r\n')).toHaveLength(1 + 2 + 1);
    // Item scopes are published, not stored as rollup items: the month is still rolled from cells.
    expect((await rollupItems('2026-11-20')).some((item) => String(item.sk).startsWith('item#'))).toBe(false);
    // The period's own snapshot keeps nation, provinces, regions and departments only.
    const period = JSON.parse((await objectOf('assessments/2026-11-20.json')).body);
    expect(period.scopes.some((s: { level: string }) => s.level === 'item')).toBe(false);
  });

  it('rolls a month from the rollups of its days, not from the buckets again', async () => {
    await putBuckets(dynamo.doc, statsTable, '2026-11-20', DAY_CELLS);
    await putBuckets(dynamo.doc, statsTable, '2026-11-21', [
      cell('330106', DEPT_HANGZHOU, ITEM_A, { received: 4, completed: 2, completedOnTime: 2, online: 4 }),
    ]);
    await rollUpDay(deps(), '2026-11-20');
    const [, month] = await rollUpDayAndMonth(deps(), '2026-11-21');

    expect(month).toMatchObject({ period: '2026-11', periodType: 'month', cells: 4 });
    expect(month?.coverage).toEqual({
      days: 2,
      daysInPeriod: 30,
      firstDay: '2026-11-20',
      lastDay: '2026-11-21',
    });
    const expected = { ...NATION_DAY, received: 10, completed: 6, completedOnTime: 4, online: 7 };
    expect((await scopeCounters('2026-11')).get('nation')).toEqual(expected);

    // A bucket changed after its day was rolled up: the month keeps the day rollup's numbers…
    const province = '330000';
    await addToBucket(
      dynamo.doc,
      statsTable,
      { pk: `STATS#${province}#2026-11-20#0`, sk: `330106#${DEPT_HANGZHOU}#${ITEM_A}` },
      'received',
      100,
    );
    await rollUpMonth(deps(), '2026-11');
    expect((await scopeCounters('2026-11')).get('nation')?.received).toBe(10);
    // …until the day is rolled up again.
    await rollUpDayAndMonth(deps(), '2026-11-20');
    expect((await scopeCounters('2026-11')).get('nation')?.received).toBe(110);
  });

  it('is idempotent: re-running a day writes the same items and objects', async () => {
    await putBuckets(dynamo.doc, statsTable, '2026-11-20', DAY_CELLS);
    await rollUpDayAndMonth(deps(), '2026-11-20');
    const firstItems = await rollupItems('2026-11-20');
    const firstMonth = await rollupItems('2026-11');
    const firstCsv = (await objectOf('assessments/2026-11-20.csv')).body;
    const firstJson = (await objectOf('assessments/2026-11.json')).body;

    await rollUpDayAndMonth(deps(), '2026-11-20');
    expect(await rollupItems('2026-11-20')).toEqual(firstItems);
    expect(await rollupItems('2026-11')).toEqual(firstMonth);
    expect((await objectOf('assessments/2026-11-20.csv')).body).toBe(firstCsv);
    expect((await objectOf('assessments/2026-11.json')).body).toBe(firstJson);
    // 4 cells + 8 scopes + meta.
    expect(firstItems).toHaveLength(13);
  });

  it('rolls yesterday in Asia/Shanghai when the schedule passes no day', async () => {
    await putBuckets(dynamo.doc, statsTable, '2026-11-21', DAY_CELLS);
    const reports = await runRollup(deps(), {});
    expect(reports.map((r) => r.period)).toEqual(['2026-11-21', '2026-11']);
    expect((await scopeCounters('2026-11-21')).get('nation')).toEqual(NATION_DAY);
  });
});

describe('backfill', () => {
  it('rolls every day of the range, then each month once, reporting progress', async () => {
    await putBuckets(dynamo.doc, statsTable, '2026-10-31', DAY_CELLS);
    await putBuckets(dynamo.doc, statsTable, '2026-11-01', DAY_CELLS);
    const progress: [number, number, string][] = [];
    const reports = await backfill(deps(), {
      from: '2026-10-31',
      to: '2026-11-01',
      onProgress: (done, total, report) => progress.push([done, total, report.period]),
    });
    expect(progress).toEqual([
      [1, 4, '2026-10-31'],
      [2, 4, '2026-11-01'],
      [3, 4, '2026-10'],
      [4, 4, '2026-11'],
    ]);
    expect(reports.map((r) => r.coverage.days)).toEqual([1, 1, 1, 1]);
    expect((await scopeCounters('2026-10')).get('nation')).toEqual(NATION_DAY);
    expect((await scopeCounters('2026-11')).get('nation')).toEqual(NATION_DAY);
    expect(published.map((p) => p.period)).toEqual(['2026-10-31', '2026-11-01', '2026-10', '2026-11']);
  });

  it('refuses a reversed or malformed range before reading anything', async () => {
    await expect(backfill(deps(), { from: '2026-11-02', to: '2026-11-01' })).rejects.toThrow(/after/);
    await expect(backfill(deps(), { from: '2026-02-30', to: '2026-03-01' })).rejects.toThrow(/yyyy-mm-dd/);
    await expect(backfill(deps(), { from: '2000-01-01', to: '2026-03-01' })).rejects.toThrow(/at most/);
    expect(published).toEqual([]);
  });
});

describe('npm run hub -- rollup', () => {
  const collector = () => {
    let text = '';
    const write = (chunk: string) => {
      text += chunk;
      return true;
    };
    const stream = { write } as unknown as NodeJS.WritableStream;
    return { stream, text: () => text };
  };

  async function localHubState(): Promise<string> {
    const stateDir = await mkdtemp(join(tmpdir(), 'rollup-cli-'));
    await writeFile(
      join(stateDir, 'outputs.json'),
      JSON.stringify({
        'zwfw-dev-private': {
          StatsTableName: statsTable,
          AssessmentsBucketName: BUCKET,
          EventBusName: 'hub-bus',
        },
      }),
    );
    await writeFile(
      join(stateDir, 'endpoints.json'),
      JSON.stringify({
        dynamodb: inject('dynamoEndpoint'),
        s3: s3Engine.endpoint,
        sqs: 'http://127.0.0.1:1',
        eventbridge: 'http://127.0.0.1:1',
      }),
    );
    return stateDir;
  }

  it("backfills the range on the local hub's table and bucket", async () => {
    await putBuckets(dynamo.doc, statsTable, '2026-11-19', DAY_CELLS);
    const stateDir = await localHubState();
    const out = collector();
    const err = collector();
    const status = await rollupCommand(
      ['--from', '2026-11-19', '--to', '2026-11-20', '--state-dir', stateDir, '--skip-events'],
      { stdout: out.stream, stderr: err.stream, env: {}, cwd: stateDir },
    );
    await rm(stateDir, { recursive: true, force: true });
    expect(status).toBe(0);
    expect(out.text()).toContain('Rolled up 2 days and 1 month (2026-11)');
    expect(out.text()).toContain(`Reads: ${2 * 32 * SHARDS + 1 + 2} requests`);
    expect((await scopeCounters('2026-11')).get('nation')).toEqual(NATION_DAY);
    expect(JSON.parse((await objectOf('assessments/2026-11-19.json')).body).periodType).toBe('day');
  });

  it('refuses a bad range as a usage error, before touching anything', async () => {
    const io = { stdout: collector().stream, stderr: collector().stream, env: {}, cwd: tmpdir() };
    await expect(rollupCommand(['--from', '2026-11-20', '--to', '2026-11-19'], io)).rejects.toMatchObject({
      name: 'UsageError',
      exitCode: 2,
    });
    await expect(rollupCommand(['--from', '2026-11-20'], io)).rejects.toMatchObject({ name: 'UsageError' });
    await expect(rollupCommand(['--from', '2026-11-31', '--to', '2026-12-01'], io)).rejects.toMatchObject({
      name: 'UsageError',
    });
  });
});
