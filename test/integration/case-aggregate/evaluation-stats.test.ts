import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countEvaluationEvents,
  evaluationEventEnvelope,
  observationOf,
} from '../../../functions/case-aggregate/evaluation-events';
import { rollUpDay } from '../../../functions/case-aggregate/rollup';
import { createRollupStore, type RollupStore } from '../../../functions/case-aggregate/rollup-store';
import { createStatsApi } from '../../../functions/case-aggregate/stats-api';
import { createEvaluationCountsStore } from '../../../functions/case-aggregate/store';
import { ClientRegistry } from '../../../shared/client-registry';
import { NonceStore } from '../../../shared/nonce-store';
import { lambdaContext, signedApiEvent } from '../../support/api-gateway';
import { localDynamo, scratchTables } from '../../support/dynamo';
import {
  DEPT_GUANGZHOU,
  DEPT_HANGZHOU,
  ITEM_A,
  ITEM_C,
  ITEM_D,
} from '../../unit/case-aggregate/rollup-fixtures';

/**
 * `GET /v1/evaluations/stats` on DynamoDB Local: evaluation events counted by the real counting path
 * (evaluation-events.ts → the stats table), then read through the route — by region, department, item and day
 * range — against figures computed by hand; and, once the day is rolled up, the same numbers as the assessment.
 */
const dynamo = localDynamo();
const tables = scratchTables(dynamo.client);
const SHARDS = 4;
const NOW = new Date('2026-11-25T10:00:00+08:00');
let registry: ClientRegistry;
let store: RollupStore;
let api: ReturnType<typeof createStatsApi>;

const HANGZHOU_A = { regionCode: '330106', departmentCode: DEPT_HANGZHOU, itemCode: ITEM_A };
const XIHU_C = { regionCode: '330102', departmentCode: DEPT_HANGZHOU, itemCode: ITEM_C };
const GUANGZHOU_D = { regionCode: '440106', departmentCode: DEPT_GUANGZHOU, itemCode: ITEM_D };
type Target = typeof HANGZHOU_A;

const envelope = (detailType: string, detail: Record<string, unknown>) => ({
  version: '0',
  id: randomUUID(),
  'detail-type': detailType,
  source: 'zwfw.evaluation-ingest',
  account: '000000000000',
  time: '2026-11-24T02:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: { version: 1, correlationId: randomUUID(), ...detail },
});
const idOf = (name: string) => name.padEnd(32, 'x');
/** 10:00 in Shanghai on that day of November 2026. */
const at = (day: number) => `2026-11-${day}T02:00:00Z`;
const about = (name: string, target: Target) => ({
  evaluationId: idOf(name),
  caseId: `${target.regionCode}:EVS-${name}`,
  ...target,
  channel: 'app',
  stage: 'completed',
});

const vote = (name: string, target: Target, level: number, day: number, flags: string[] = []) =>
  envelope('EvaluationReceived', {
    ...about(name, target),
    level,
    flags,
    isReview: false,
    evaluatedAt: at(day),
  });

const badReview = (name: string, target: Target, level: 1 | 2, day: number) =>
  envelope('BadReviewOpened', {
    ...about(name, target),
    level,
    evaluatedAt: at(day),
    openedAt: at(day),
  });

const ticket = (name: string, target: Target, level: 1 | 2, path: string[]) =>
  path.slice(1).map((to, i) =>
    envelope('RectificationTransitioned', {
      transitionId: `${idOf(name)}#${i + 1}`,
      evaluationId: idOf(name),
      caseId: `${target.regionCode}:EVS-${name}`,
      ...target,
      level,
      from: path[i],
      to,
      by: 'region-330000',
      at: at(23),
      ...(to === 'dismissed' ? { finding: 'malicious' } : {}),
      overdue: { verify: false, rectify: false, revisit: false },
    }),
  );

/**
 * By hand:
 *   2026-11-20 330106/A: v1 level 5, v2 level 3 (基本满意 counts as satisfied), v3 level 2 with a bad review
 *              verified → rectified, v4 level 1 flagged with a bad review still open
 *              → evaluations 4, satisfied 2, flagged 1, badReviews 2, rectified 1
 *   2026-11-21 330102/C: v5 level 4; v6 level 2 with a bad review appealed → dismissed (leaves everything)
 *              → evaluations 1, satisfied 1, dismissed 1
 *   2026-11-20 440106/D: v7 level 1 with a bad review still open → evaluations 1, badReviews 1
 */
const EVENTS = [
  vote('v1', HANGZHOU_A, 5, 20),
  vote('v2', HANGZHOU_A, 3, 20),
  vote('v3', HANGZHOU_A, 2, 20),
  badReview('v3', HANGZHOU_A, 2, 20),
  ...ticket('v3', HANGZHOU_A, 2, ['open', 'verified', 'rectified']),
  vote('v4', HANGZHOU_A, 1, 20, ['burst_identical_comment']),
  badReview('v4', HANGZHOU_A, 1, 20),
  vote('v5', XIHU_C, 4, 21),
  vote('v6', XIHU_C, 2, 21),
  badReview('v6', XIHU_C, 2, 21),
  ...ticket('v6', XIHU_C, 2, ['open', 'appealed', 'dismissed']),
  vote('v7', GUANGZHOU_D, 1, 20),
  badReview('v7', GUANGZHOU_D, 1, 20),
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
  store = createRollupStore({ doc: dynamo.doc, statsTable: stats, shards: SHARDS });
  // Every event twice: the counting path counts each once.
  const report = await countEvaluationEvents(
    { store: createEvaluationCountsStore({ doc: dynamo.doc, statsTable: stats }), shards: SHARDS },
    [...EVENTS, ...EVENTS].map((event, i) => ({
      messageId: `m${i}`,
      observation: observationOf(evaluationEventEnvelope.parse(event)),
    })),
  );
  expect([...report.outcomes.values()].filter(Boolean)).toEqual([]);
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

const signedGet = (
  accessKeyId: string,
  resource: string,
  path: string,
  query: Record<string, string> | null,
) =>
  signedApiEvent(registry, accessKeyId, {
    method: 'GET',
    path,
    resource,
    query,
    pathParameters: resource.includes('{period}') ? { period: path.split('/').at(-1) as string } : null,
    jsonContentType: false,
    now: NOW,
  });

const getEvaluationStats = (accessKeyId: string, query: Record<string, string>) =>
  api.evaluationStats(
    signedGet(accessKeyId, '/v1/evaluations/stats', '/v1/evaluations/stats', query),
    lambdaContext(),
  );
const json = (response: APIGatewayProxyResult) => JSON.parse(response.body);
const ZHEJIANG = 'AKDEVREGION330000';
const GUANGDONG = 'AKDEVREGION440000';
const MINISTRY = 'AKDEVMINISTRYMPS';
const RANGE = { from: '2026-11-20', to: '2026-11-21' };

const counters = (values: Partial<Record<string, number>>) => ({
  evaluations: 0,
  satisfied: 0,
  flagged: 0,
  badReviews: 0,
  rectified: 0,
  dismissed: 0,
  ...values,
});

describe('GET /v1/evaluations/stats', () => {
  it('gives a province its satisfaction and rectification figures, computed by hand', async () => {
    const response = await getEvaluationStats(ZHEJIANG, RANGE);
    expect(response.statusCode).toBe(200);
    const body = json(response);
    expect(body.filters).toEqual({ region: '330000', department: null, item: null });
    expect(body.total).toEqual({
      counters: counters({
        evaluations: 5,
        satisfied: 3,
        flagged: 1,
        badReviews: 2,
        rectified: 1,
        dismissed: 1,
      }),
      rates: {
        satisfactionRate: { numerator: 3, denominator: 5, value: 60 },
        rectificationRate: { numerator: 1, denominator: 2, value: 50 },
      },
    });
    // Evaluation figures only: the case counters are /v1/stats's.
    expect(body.total.counters).not.toHaveProperty('received');
    expect(body.total.rates).not.toHaveProperty('onTimeCompletionRate');
  });

  it('groups by region, day, department and item, and filters by item and date range', async () => {
    const byRegion = json(await getEvaluationStats(MINISTRY, { ...RANGE, groupBy: 'region' }));
    expect(
      byRegion.groups.map((g: { key: string; rates: { satisfactionRate: { value: number } | null } }) => [
        g.key,
        g.rates.satisfactionRate?.value ?? null,
      ]),
    ).toEqual([
      ['330102', 100],
      ['330106', 50],
      // One vote, not satisfied: 0 %, not null.
      ['440106', 0],
    ]);
    const byDay = json(await getEvaluationStats(ZHEJIANG, { ...RANGE, groupBy: 'day' }));
    expect(
      byDay.groups.map((g: { key: string; counters: { evaluations: number } }) => [
        g.key,
        g.counters.evaluations,
      ]),
    ).toEqual([
      ['2026-11-20', 4],
      ['2026-11-21', 1],
    ]);
    const byDepartment = json(await getEvaluationStats(MINISTRY, { ...RANGE, groupBy: 'department' }));
    expect(byDepartment.groups.map((g: { key: string }) => g.key).sort()).toEqual(
      [DEPT_GUANGZHOU, DEPT_HANGZHOU].sort(),
    );
    const item = json(await getEvaluationStats(ZHEJIANG, { ...RANGE, item: ITEM_C }));
    expect(item.total).toEqual({
      counters: counters({ evaluations: 1, satisfied: 1, dismissed: 1 }),
      // The only bad review was dismissed on appeal: nothing to rectify.
      rates: { satisfactionRate: { numerator: 1, denominator: 1, value: 100 }, rectificationRate: null },
    });
    const department = json(await getEvaluationStats(MINISTRY, { ...RANGE, department: DEPT_GUANGZHOU }));
    expect(department.total.rates).toEqual({
      satisfactionRate: { numerator: 0, denominator: 1, value: 0 },
      rectificationRate: { numerator: 0, denominator: 1, value: 0 },
    });
    const oneDay = json(await getEvaluationStats(ZHEJIANG, { from: '2026-11-21', to: '2026-11-21' }));
    expect(oneDay.total.counters.evaluations).toBe(1);
  });

  it('confines a region client to its province and refuses bad ranges with 422', async () => {
    expect((await getEvaluationStats(GUANGDONG, { ...RANGE, region: '330106' })).statusCode).toBe(403);
    const guangdong = json(await getEvaluationStats(GUANGDONG, RANGE));
    expect(guangdong.total.counters).toEqual(counters({ evaluations: 1, badReviews: 1 }));
    const queries: Record<string, string>[] = [
      { from: '2026-11-21', to: '2026-11-20' },
      { from: '2026-02-30', to: '2026-03-01' },
      {},
    ];
    for (const query of queries) {
      const response = await getEvaluationStats(ZHEJIANG, query);
      expect(response.statusCode).toBe(422);
      expect(response.headers?.['content-type']).toBe('application/problem+json');
    }
  });

  it('answers the assessment’s own numbers once the day is rolled up', async () => {
    const before = json(await getEvaluationStats(ZHEJIANG, { from: '2026-11-20', to: '2026-11-20' }));
    expect(before.sources).toEqual({ monthRollups: 0, dayRollups: 0, bucketDays: 1 });
    await rollUpDay(
      {
        store: { ...store, putSnapshot: async () => {} },
        publish: async () => {},
        clock: () => NOW,
        correlationId: 't',
      },
      '2026-11-20',
    );
    const after = json(await getEvaluationStats(ZHEJIANG, { from: '2026-11-20', to: '2026-11-20' }));
    expect(after.sources).toEqual({ monthRollups: 0, dayRollups: 1, bucketDays: 0 });
    expect(after.total).toEqual(before.total);
    const assessment = json(
      await api.assessment(
        signedGet(ZHEJIANG, '/v1/assessments/{period}', '/v1/assessments/2026-11-20', null),
        lambdaContext(),
      ),
    );
    const province = assessment.scopes.find((s: { scope: string }) => s.scope === 'province#330000');
    expect(province.rates.satisfactionRate).toEqual(after.total.rates.satisfactionRate);
    expect(province.rates.rectificationRate).toEqual(after.total.rates.rectificationRate);
    expect(after.total.rates.satisfactionRate).toEqual({ numerator: 2, denominator: 4, value: 50 });
  });
});
