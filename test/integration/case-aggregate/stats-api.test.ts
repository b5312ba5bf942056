import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollUp } from '../../../functions/case-aggregate/domain/rollup';
import { rollUpDay } from '../../../functions/case-aggregate/rollup';
import { createRollupStore, type RollupStore } from '../../../functions/case-aggregate/rollup-store';
import { createStatsApi } from '../../../functions/case-aggregate/stats-api';
import { ClientRegistry } from '../../../shared/client-registry';
import { NonceStore } from '../../../shared/nonce-store';
import { lambdaContext, signedApiEvent } from '../../support/api-gateway';
import { localDynamo, scratchTables } from '../../support/dynamo';
import {
  cell,
  DAY_CELLS,
  DEPT_GUANGZHOU,
  DEPT_HANGZHOU,
  ITEM_A,
  ITEM_B,
  putBuckets,
} from '../../unit/case-aggregate/rollup-fixtures';

const dynamo = localDynamo();
const tables = scratchTables(dynamo.client);
const NOW = new Date('2026-11-22T10:00:00+08:00');
let registry: ClientRegistry;
let api: ReturnType<typeof createStatsApi>;
let store: RollupStore;

const OCTOBER_CELLS = [
  cell('330106', DEPT_HANGZHOU, ITEM_A, { received: 10, completed: 8, completedOnTime: 6, online: 5 }),
  cell('440106', DEPT_GUANGZHOU, ITEM_A, { received: 7, completed: 7, completedOnTime: 7 }),
];
const NOV_21_CELLS = [
  cell('330106', DEPT_HANGZHOU, ITEM_B, { received: 4, completed: 1, online: 4, fullyOnline: 4 }),
];

beforeAll(async () => {
  registry = ClientRegistry.parse(
    await readFile(join(import.meta.dirname, '../../../infra/local/clients.dev.json'), 'utf8'),
  );
  const [nonces, idempotency, stats] = await Promise.all([
    tables.create('nonces'),
    tables.create('idempotency', { keySchema: ['id'] }),
    tables.create('stats'),
  ]);
  store = createRollupStore({ doc: dynamo.doc, statsTable: stats, shards: 8 });
  // 2026-11-20 rolled up; 2026-11-21 only in buckets; October as a complete month rollup.
  await putBuckets(dynamo.doc, stats, '2026-11-20', DAY_CELLS);
  await putBuckets(dynamo.doc, stats, '2026-11-21', NOV_21_CELLS);
  await rollUpDay(
    {
      // Snapshots are the rollup test's business; here only the rollup items matter.
      store: { ...store, putSnapshot: async () => {} },
      publish: async () => {},
      clock: () => NOW,
      correlationId: 'stats-test',
    },
    '2026-11-20',
  );
  await store.writeRollup('2026-10', {
    meta: {
      period: '2026-10',
      periodType: 'month',
      generatedAt: NOW.toISOString(),
      coverage: { days: 31, daysInPeriod: 31, firstDay: '2026-10-01', lastDay: '2026-10-31' },
      scopes: rollUp(OCTOBER_CELLS).length,
      cells: OCTOBER_CELLS.length,
      snapshotKeys: { json: 'assessments/2026-10.json', csv: 'assessments/2026-10.csv' },
    },
    cells: OCTOBER_CELLS,
    scopes: rollUp(OCTOBER_CELLS),
  });
  api = createStatsApi({
    store: () => store,
    http: {
      clientRegistry: async () => registry,
      nonces: new NonceStore(dynamo.doc, nonces, () => NOW),
      idempotency: new DynamoDBPersistenceLayer({ tableName: idempotency, awsSdkV3Client: dynamo.client }),
      clock: () => NOW,
    },
  });
});

afterAll(async () => {
  await tables.dropAll();
});

const context = lambdaContext;

function signedGet(
  accessKeyId: string,
  resource: string,
  path: string,
  query: Record<string, string> | null,
  pathParameters: Record<string, string> | null,
): APIGatewayProxyEvent {
  return signedApiEvent(registry, accessKeyId, {
    method: 'GET',
    path,
    resource,
    query,
    pathParameters,
    jsonContentType: false,
    now: NOW,
  });
}

const getStats = (accessKeyId: string, query: Record<string, string>) =>
  api.stats(signedGet(accessKeyId, '/v1/stats', '/v1/stats', query, null), context());
const getAssessment = (accessKeyId: string, period: string) =>
  api.assessment(
    signedGet(accessKeyId, '/v1/assessments/{period}', `/v1/assessments/${period}`, null, { period }),
    context(),
  );
const json = (response: APIGatewayProxyResult) => JSON.parse(response.body);
const ZHEJIANG = 'AKDEVREGION330000';
const GUANGDONG = 'AKDEVREGION440000';
const MINISTRY = 'AKDEVMINISTRYMPS';

describe('GET /v1/stats', () => {
  it('reads a rolled-up day from its rollup and a later day from its buckets', async () => {
    const response = await getStats(ZHEJIANG, { from: '2026-11-20', to: '2026-11-21', groupBy: 'day' });
    expect(response.statusCode).toBe(200);
    const body = json(response);
    expect(body.sources).toEqual({ monthRollups: 0, dayRollups: 1, bucketDays: 1 });
    expect(body.filters).toEqual({ region: '330000', department: null, item: null });
    // Zhejiang only: the Guangdong cell of the 20th is outside this client's province.
    expect(
      body.groups.map((g: { key: string; counters: { received: number } }) => [g.key, g.counters.received]),
    ).toEqual([
      ['2026-11-20', 6],
      ['2026-11-21', 4],
    ]);
    expect(body.total.counters).toMatchObject({
      received: 10,
      completed: 4,
      completedOnTime: 2,
      online: 7,
      fullyOnline: 6,
    });
    expect(body.total.rates.onTimeCompletionRate).toEqual({ numerator: 2, denominator: 4, value: 50 });
    expect(body.total.rates.fullyOnlineRate).toEqual({ numerator: 6, denominator: 10, value: 60 });
    expect(body.total.rates.averageProcessingHours).toEqual({
      numerator: 34.75,
      denominator: 4,
      value: 8.69,
    });
  });

  it('uses a complete month rollup for a range covering the month, and groups nationwide for a ministry', async () => {
    const response = await getStats(MINISTRY, { from: '2026-10-01', to: '2026-10-31', groupBy: 'province' });
    expect(response.statusCode).toBe(200);
    const body = json(response);
    expect(body.sources).toEqual({ monthRollups: 1, dayRollups: 0, bucketDays: 0 });
    expect(body.filters.region).toBeNull();
    expect(body.groups).toEqual([
      expect.objectContaining({
        key: '330000',
        counters: expect.objectContaining({ received: 10, completed: 8 }),
      }),
      expect.objectContaining({
        key: '440000',
        counters: expect.objectContaining({ received: 7, completed: 7 }),
      }),
    ]);
    expect(body.groups[0].rates.onTimeCompletionRate).toEqual({ numerator: 6, denominator: 8, value: 75 });
    expect(body.total.rates.onlineRate).toEqual({ numerator: 5, denominator: 17, value: 29.41 });
  });

  it('filters by region, department and item; a rate without denominator is null', async () => {
    const response = await getStats(MINISTRY, {
      from: '2026-11-20',
      to: '2026-11-20',
      region: '330102',
      department: DEPT_HANGZHOU,
      groupBy: 'item',
    });
    const body = json(response);
    expect(body.groups).toHaveLength(1);
    expect(body.total.counters).toMatchObject({ received: 2, completed: 0 });
    expect(body.total.rates.onTimeCompletionRate).toBeNull();
    expect(body.total.rates.satisfactionRate).toBeNull();
    const byItem = json(await getStats(MINISTRY, { from: '2026-11-20', to: '2026-11-21', item: ITEM_B }));
    expect(byItem.total.counters).toMatchObject({ received: 5, completed: 2 });
    expect(byItem.groups).toEqual([]);
  });

  it("refuses a region client another province's statistics (403), allows its own cities", async () => {
    const other = await getStats(ZHEJIANG, { from: '2026-11-20', to: '2026-11-20', region: '440106' });
    expect(other.statusCode).toBe(403);
    expect(json(other).type).toBe('urn:zwfw-hub:problem:stats-out-of-scope');
    const city = await getStats(ZHEJIANG, { from: '2026-11-20', to: '2026-11-20', region: '330100' });
    expect(json(city).total.counters.received).toBe(6);
    const guangdong = json(await getStats(GUANGDONG, { from: '2026-11-20', to: '2026-11-20' }));
    expect(guangdong.total.counters).toMatchObject({ received: 0, completed: 1, overdue: 1 });
  });

  it('refuses with 422 a nationwide range whose days are mostly not rolled up, and serves it for one province', async () => {
    // September has no rollups in this table: 30 days × 32 provinces of raw buckets is past the read budget.
    const nationwide = await getStats(MINISTRY, { from: '2026-09-01', to: '2026-09-30' });
    expect(nationwide.statusCode).toBe(422);
    expect(json(nationwide).type).toBe('urn:zwfw-hub:problem:stats-range-not-rolled-up');
    expect(json(nationwide).detail).toContain(
      '30 days of the range (2026-09-01 to 2026-09-30) have no rollup yet',
    );
    const fortnight = await getStats(MINISTRY, { from: '2026-09-01', to: '2026-09-14' });
    expect(fortnight.statusCode).toBe(200);
    const oneProvince = await getStats(MINISTRY, { from: '2026-09-01', to: '2026-09-30', region: '330000' });
    expect(oneProvince.statusCode).toBe(200);
  });

  it.each([
    ['a range over 366 days', { from: '2025-11-01', to: '2026-11-02' }, '/query/to'],
    ['to before from', { from: '2026-11-21', to: '2026-11-20' }, '/query/to'],
    ['a day that does not exist', { from: '2026-02-30', to: '2026-03-01' }, '/query/from'],
    ['an unknown groupBy', { from: '2026-11-20', to: '2026-11-20', groupBy: 'week' }, '/query/groupBy'],
    [
      'a malformed department',
      { from: '2026-11-20', to: '2026-11-20', department: 'X' },
      '/query/department',
    ],
    ['a region outside the 32', { from: '2026-11-20', to: '2026-11-20', region: '990000' }, '/query/region'],
  ])('answers 422 for %s', async (_, query, pointer) => {
    const response = await getStats(MINISTRY, query);
    expect(response.statusCode).toBe(422);
    expect(json(response).errors.map((e: { path: string }) => e.path)).toContain(pointer);
  });

  it('groups by month across a month rollup, a day rollup and bucket days', async () => {
    const response = await getStats(ZHEJIANG, { from: '2026-10-01', to: '2026-11-21', groupBy: 'month' });
    expect(response.statusCode).toBe(200);
    const body = json(response);
    expect(body.sources).toEqual({ monthRollups: 1, dayRollups: 1, bucketDays: 20 });
    // October from its month rollup (Zhejiang's part only); November from the 20th's rollup and the 21st's buckets.
    expect(
      body.groups.map((g: { key: string; counters: { received: number } }) => [g.key, g.counters.received]),
    ).toEqual([
      ['2026-10', 10],
      ['2026-11', 10],
    ]);
  });
});

describe('GET /v1/assessments/{period}', () => {
  it('returns every scope of a rolled-up day to a ministry', async () => {
    const response = await getAssessment(MINISTRY, '2026-11-20');
    expect(response.statusCode).toBe(200);
    const body = json(response);
    expect(body).toMatchObject({ period: '2026-11-20', periodType: 'day', generatedAt: NOW.toISOString() });
    expect(body.scopes.map((s: { scope: string }) => s.scope)).toEqual([
      'nation',
      'province#330000',
      'province#440000',
      'region#330102',
      'region#330106',
      'region#440106',
      `dept#330000#${DEPT_HANGZHOU}`,
      `dept#440000#${DEPT_GUANGZHOU}`,
    ]);
    expect(body.scopes[0].rates.onTimeCompletionRate).toEqual({ numerator: 2, denominator: 4, value: 50 });
  });

  it('shows a region client the nation and its own province only', async () => {
    const body = json(await getAssessment(GUANGDONG, '2026-11-20'));
    expect(body.scopes.map((s: { scope: string }) => s.scope)).toEqual([
      'nation',
      'province#440000',
      'region#440106',
      `dept#440000#${DEPT_GUANGZHOU}`,
    ]);
  });

  it('serves a month rollup; 404 before a period is rolled up; 422 for a malformed period', async () => {
    expect(json(await getAssessment(ZHEJIANG, '2026-10')).coverage.days).toBe(31);
    const missing = await getAssessment(ZHEJIANG, '2026-11-21');
    expect(missing.statusCode).toBe(404);
    expect(json(missing).type).toBe('urn:zwfw-hub:problem:assessment-not-found');
    expect((await getAssessment(ZHEJIANG, '2026-13')).statusCode).toBe(422);
  });
});
