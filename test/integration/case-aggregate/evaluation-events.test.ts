import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EVALUATION_COUNTERS } from '../../../functions/case-aggregate/domain/evaluation-counts';
import { ratesOf, renderRates } from '../../../functions/case-aggregate/domain/rates';
import { type Cell, rollUp } from '../../../functions/case-aggregate/domain/rollup';
import { createRollupStore } from '../../../functions/case-aggregate/rollup-store';
import { evaluationMarkerKey } from '../../../functions/case-aggregate/store';
import { seededRandom } from '../../../shared/identifiers/generate';
import { localDynamo, scratchTables } from '../../support/dynamo';
import {
  cell,
  DEPT_GUANGZHOU,
  DEPT_HANGZHOU,
  ITEM_A,
  ITEM_C,
  ITEM_D,
  putBuckets,
} from '../../unit/case-aggregate/rollup-fixtures';

/**
 * The evaluation-events consumer as Lambda runs it (its own environment, the real SDK, DynamoDB Local): every event
 * of a small fixture delivered twice, shuffled, two batches at a time, failed messages redelivered as SQS would —
 * the buckets must hold exactly the counters computed by hand, and the rollup the rates computed by hand.
 */
const dynamo = localDynamo();
const tables = scratchTables(dynamo.client);
const SHARDS = 4;
const DAY = '2026-11-20';
let statsTable: string;
let handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

beforeAll(async () => {
  statsTable = await tables.create('stats');
  Object.assign(process.env, {
    STATS_TABLE: statsTable,
    STATS_SHARDS: String(SHARDS),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
  });
  ({ handler } = await import('../../../functions/case-aggregate/evaluation-events'));
});

afterAll(async () => {
  await tables.dropAll();
});

// ---------------------------------------------------------------------------------------------------------
// Events

const SOURCE = 'zwfw.evaluation-ingest';
const evaluationId = (name: string) => name.padEnd(32, 'x');

interface Target {
  regionCode: string;
  departmentCode: string;
  itemCode: string;
}
const HANGZHOU_A: Target = { regionCode: '330106', departmentCode: DEPT_HANGZHOU, itemCode: ITEM_A };
const XIHU_C: Target = { regionCode: '330102', departmentCode: DEPT_HANGZHOU, itemCode: ITEM_C };
const GUANGZHOU_D: Target = { regionCode: '440106', departmentCode: DEPT_GUANGZHOU, itemCode: ITEM_D };

const envelope = (detailType: string, detail: Record<string, unknown>, source = SOURCE) => ({
  version: '0',
  id: randomUUID(),
  'detail-type': detailType,
  source,
  account: '000000000000',
  time: '2026-11-21T02:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: { version: 1, correlationId: randomUUID(), ...detail },
});

/** 23:00 in Shanghai on the 20th; `nextDay` moves it past midnight there (still the 20th in UTC). */
const evaluatedAt = (nextDay = false) => (nextDay ? '2026-11-20T16:30:00Z' : '2026-11-20T15:00:00Z');

function vote(
  name: string,
  target: Target,
  level: number,
  options: { flags?: string[]; nextDay?: boolean } = {},
) {
  return envelope('EvaluationReceived', {
    evaluationId: evaluationId(name),
    caseId: `${target.regionCode}:EV-${name}`,
    ...target,
    level,
    channel: 'app',
    stage: 'completed',
    flags: options.flags ?? [],
    isReview: false,
    evaluatedAt: evaluatedAt(options.nextDay),
  });
}

const review = (name: string, target: Target, level: number) =>
  envelope('EvaluationReceived', {
    evaluationId: evaluationId(name),
    reviewId: evaluationId(`${name}r`),
    caseId: `${target.regionCode}:EV-${name}`,
    ...target,
    level,
    channel: 'app',
    stage: 'completed',
    flags: [],
    isReview: true,
    evaluatedAt: '2026-11-22T02:00:00Z',
  });

const badReview = (name: string, target: Target, level: 1 | 2) =>
  envelope('BadReviewOpened', {
    evaluationId: evaluationId(name),
    caseId: `${target.regionCode}:EV-${name}`,
    ...target,
    level,
    channel: 'app',
    stage: 'completed',
    evaluatedAt: evaluatedAt(),
    openedAt: '2026-11-20T15:00:01Z',
  });

/** The ticket's transitions in sequence, each with the status it came from. */
function transitions(name: string, target: Target, level: 1 | 2, path: string[]) {
  return path.slice(1).map((to, i) =>
    envelope('RectificationTransitioned', {
      transitionId: `${evaluationId(name)}#${i + 1}`,
      evaluationId: evaluationId(name),
      caseId: `${target.regionCode}:EV-${name}`,
      ...target,
      level,
      from: path[i],
      to,
      by: 'region-330000',
      at: `2026-11-2${2 + i}T02:00:00.000Z`,
      ...(to === 'revisited' ? { reached: true, satisfaction: 'satisfied' } : {}),
      ...(to === 'dismissed' ? { finding: 'malicious' } : {}),
      overdue: { verify: false, rectify: false, revisit: false },
    }),
  );
}

/**
 * By hand, day 2026-11-20:
 *   330106/A: e1 vote 5; e2 vote 4, flagged by a later announcement; e3 vote 2, bad review, verified → rectified →
 *             revisited; e4 vote 1, bad review, appealed → dismissed (leaves everything); e5 a review (never counted)
 *             → evaluations 3, satisfied 2, flagged 1, badReviews 1, rectified 1, dismissed 1
 *   330102/C: e6 vote 3 (基本满意 is satisfied); e7 vote 2, bad review, verified
 *             → evaluations 2, satisfied 1, badReviews 1
 *   440106/D: e8 vote 1, bad review, appealed → verified (appeal rejected) → rectified
 *             → evaluations 1, badReviews 1, rectified 1
 *   e9 (330106/A) was given at 00:30 in Shanghai on the 21st: the next day's bucket.
 */
const EVENTS = [
  vote('e1', HANGZHOU_A, 5),
  vote('e2', HANGZHOU_A, 4),
  vote('e2', HANGZHOU_A, 4, { flags: ['burst_identical_top'] }),
  vote('e3', HANGZHOU_A, 2),
  badReview('e3', HANGZHOU_A, 2),
  ...transitions('e3', HANGZHOU_A, 2, ['open', 'verified', 'rectified', 'revisited']),
  vote('e4', HANGZHOU_A, 1, { flags: ['burst_identical_comment'] }),
  badReview('e4', HANGZHOU_A, 1),
  ...transitions('e4', HANGZHOU_A, 1, ['open', 'appealed', 'dismissed']),
  review('e5', HANGZHOU_A, 1),
  vote('e6', XIHU_C, 3),
  vote('e7', XIHU_C, 2),
  badReview('e7', XIHU_C, 2),
  ...transitions('e7', XIHU_C, 2, ['open', 'verified']),
  vote('e8', GUANGZHOU_D, 1),
  badReview('e8', GUANGZHOU_D, 1),
  ...transitions('e8', GUANGZHOU_D, 1, ['open', 'appealed', 'verified', 'rectified']),
  vote('e9', HANGZHOU_A, 5, { nextDay: true }),
];

const EXPECTED_DAY: Cell[] = [
  cell(HANGZHOU_A.regionCode, DEPT_HANGZHOU, ITEM_A, {
    evaluations: 3,
    satisfied: 2,
    flagged: 1,
    badReviews: 1,
    rectified: 1,
    dismissed: 1,
  }),
  cell(XIHU_C.regionCode, DEPT_HANGZHOU, ITEM_C, { evaluations: 2, satisfied: 1, badReviews: 1 }),
  cell(GUANGZHOU_D.regionCode, DEPT_GUANGZHOU, ITEM_D, { evaluations: 1, badReviews: 1, rectified: 1 }),
];

// ---------------------------------------------------------------------------------------------------------
// Delivery

const sqsRecord = (messageId: string, body: string): SQSRecord =>
  ({
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: '1' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:evaluation-events',
    awsRegion: 'us-east-1',
  }) as unknown as SQSRecord;

const context = { awsRequestId: 'req', getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/** Batches of `size`, two in flight at once; what fails is delivered again, as SQS would, until nothing fails. */
async function deliver(records: SQSRecord[], size: number): Promise<number> {
  let pending = records;
  let rounds = 0;
  while (pending.length > 0) {
    rounds += 1;
    if (rounds > 10) throw new Error(`${pending.length} messages still failing after 10 deliveries`);
    const batches = Array.from({ length: Math.ceil(pending.length / size) }, (_, i) =>
      pending.slice(i * size, (i + 1) * size),
    );
    const failed = new Set<string>();
    for (let i = 0; i < batches.length; i += 2) {
      const responses = await Promise.all(
        batches.slice(i, i + 2).map((batch) => handler({ Records: batch }, context)),
      );
      for (const response of responses)
        for (const failure of response.batchItemFailures) failed.add(failure.itemIdentifier);
    }
    pending = pending.filter((r) => failed.has(r.messageId));
  }
  return rounds;
}

const evaluationCountersOf = (cells: Cell[]) =>
  cells
    .map((c) => ({
      key: `${c.regionCode}#${c.departmentCode}#${c.itemCode}`,
      counters: Object.fromEntries(EVALUATION_COUNTERS.map((name) => [name, c.counters[name]])),
    }))
    .sort((a, b) => a.key.localeCompare(b.key));

// ---------------------------------------------------------------------------------------------------------

describe('evaluation events counted into the statistics buckets', () => {
  const rollups = () => createRollupStore({ doc: dynamo.doc, statsTable, shards: SHARDS });

  it('every event twice, shuffled, concurrent batches: exact counters, exactly once', async () => {
    // The case counters of the same bucket are there already: evaluation counters add beside them.
    await putBuckets(dynamo.doc, statsTable, DAY, [
      cell(HANGZHOU_A.regionCode, DEPT_HANGZHOU, ITEM_A, { received: 4 }),
    ]);
    const random = seededRandom(20261120);
    const bodies = [...EVENTS, ...EVENTS].map((event) => JSON.stringify(event));
    const records = shuffled(bodies, random).map((body, i) => sqsRecord(`m${i}`, body));
    await deliver(records, 7);

    const { cells } = await rollups().readDayCells(DAY);
    expect(evaluationCountersOf(cells)).toEqual(evaluationCountersOf(EXPECTED_DAY));
    expect(cells.find((c) => c.itemCode === ITEM_A)?.counters.received).toBe(4);

    const nextDay = await rollups().readDayCells('2026-11-21');
    expect(evaluationCountersOf(nextDay.cells)).toEqual(
      evaluationCountersOf([
        cell(HANGZHOU_A.regionCode, DEPT_HANGZHOU, ITEM_A, { evaluations: 1, satisfied: 1 }),
      ]),
    );
  });

  it('keeps the facts on the marker; delivering everything again changes nothing', async () => {
    const marker = await dynamo.doc.send(
      new GetCommand({
        TableName: statsTable,
        Key: evaluationMarkerKey(evaluationId('e4')),
        ConsistentRead: true,
      }),
    );
    expect(marker.Item).toMatchObject({
      evaluationId: evaluationId('e4'),
      vote: { level: 1, flags: ['burst_identical_comment'] },
      transitions: [
        { transitionId: `${evaluationId('e4')}#1`, to: 'appealed' },
        { transitionId: `${evaluationId('e4')}#2`, to: 'dismissed' },
      ],
    });
    // A review has no marker: it is never counted.
    const reviewMarker = await dynamo.doc.send(
      new GetCommand({ TableName: statsTable, Key: evaluationMarkerKey(evaluationId('e5')) }),
    );
    expect(reviewMarker.Item).toBeUndefined();

    const before = await dynamo.doc.send(
      new GetCommand({
        TableName: statsTable,
        Key: evaluationMarkerKey(evaluationId('e3')),
        ConsistentRead: true,
      }),
    );
    await deliver(
      shuffled(EVENTS, seededRandom(7)).map((event, i) => sqsRecord(`again${i}`, JSON.stringify(event))),
      10,
    );
    const { cells } = await rollups().readDayCells(DAY);
    expect(evaluationCountersOf(cells)).toEqual(evaluationCountersOf(EXPECTED_DAY));
    const after = await dynamo.doc.send(
      new GetCommand({
        TableName: statsTable,
        Key: evaluationMarkerKey(evaluationId('e3')),
        ConsistentRead: true,
      }),
    );
    expect(after.Item?.version).toBe(before.Item?.version);
  });

  it('rolls up 满意率 and 差评整改率 as computed by hand', async () => {
    const { cells } = await rollups().readDayCells(DAY);
    const rates = new Map(rollUp(cells).map((s) => [s.scope, renderRates(ratesOf(s.counters))]));
    // Zhejiang: satisfied 3 of 5 votes = 60 %; rectified 1 of 2 bad reviews = 50 %.
    expect(rates.get('province#330000')).toMatchObject({
      satisfactionRate: { numerator: 3, denominator: 5, value: 60 },
      rectificationRate: { numerator: 1, denominator: 2, value: 50 },
    });
    // Guangdong: 0 of 1 satisfied is 0 %, not null; 1 of 1 rectified.
    expect(rates.get('province#440000')).toMatchObject({
      satisfactionRate: { numerator: 0, denominator: 1, value: 0 },
      rectificationRate: { numerator: 1, denominator: 1, value: 100 },
    });
    // Nation: 3 of 6 = 50 %; 2 of 3 = 66.67 % (half up).
    expect(rates.get('nation')).toMatchObject({
      satisfactionRate: { numerator: 3, denominator: 6, value: 50 },
      rectificationRate: { numerator: 2, denominator: 3, value: 66.67 },
    });
    expect(rates.get('region#330102')).toMatchObject({
      satisfactionRate: { numerator: 1, denominator: 2, value: 50 },
      rectificationRate: { numerator: 0, denominator: 1, value: 0 },
    });
  });

  it('fails a message of another source or detail version alone (poison → DLQ); the rest is counted', async () => {
    const foreign = envelope('EvaluationReceived', vote('f1', XIHU_C, 5).detail, 'zwfw.case-aggregate');
    const nextVersion = { ...vote('f2', XIHU_C, 5), detail: { ...vote('f2', XIHU_C, 5).detail, version: 2 } };
    const good = vote('f3', XIHU_C, 5);
    const response = await handler(
      {
        Records: [
          sqsRecord('poison-source', JSON.stringify(foreign)),
          sqsRecord('poison-version', JSON.stringify(nextVersion)),
          sqsRecord('good', JSON.stringify(good)),
        ],
      },
      context,
    );
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([
      'poison-source',
      'poison-version',
    ]);
    const { cells } = await rollups().readDayCells(DAY);
    expect(cells.find((c) => c.itemCode === ITEM_C)?.counters).toMatchObject({
      evaluations: 3,
      satisfied: 2,
    });
  });
});
