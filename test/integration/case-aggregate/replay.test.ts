import { createHash } from 'node:crypto';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processChanges } from '../../../functions/case-aggregate/change-processor';
import type { CaseChange } from '../../../functions/case-aggregate/domain/change';
import type { CaseEvent } from '../../../functions/case-aggregate/domain/events';
import { ratesOf, renderRates } from '../../../functions/case-aggregate/domain/rates';
import {
  type Cell,
  countersFromItem,
  countersToItem,
  mergeCells,
  rollUp,
} from '../../../functions/case-aggregate/domain/rollup';
import type { CaseStatus } from '../../../functions/case-aggregate/domain/status';
import { type CaseStore, createCaseStore } from '../../../functions/case-aggregate/store';
import { sweepOverdue } from '../../../functions/case-aggregate/sweep';
import { configuredCalendar } from '../../../shared/calendar';
import {
  generateAuthorityCode,
  generateImplementationCode,
  type Random,
  seededRandom,
} from '../../../shared/identifiers/generate';
import { PROVINCES } from '../../../shared/regions';
import { localDynamo, scratchTables } from '../../support/dynamo';
import { caseTableIndexes } from './case-table';

/**
 * The acceptance of exactly-once counting at scale: REPLAY_CASES (default 20 000) generated cases with
 * random status histories, every change delivered three times in shuffled order through the consumer's
 * processChanges in batches of 50 (several batches in flight, as Lambda runs them), failed messages redelivered
 * as SQS would; then the overdue sweep. Every statistics bucket, and every counter and rate of every scope the
 * rollup domain computes over the stored buckets, equals the ground truth computed here from first principles.
 * No HTTP, no SQS: DynamoDB Local only.
 */

const CASES = Number(process.env.REPLAY_CASES ?? 20_000);
const DELIVERIES_PER_CHANGE = 3;
const BATCH_SIZE = 50;
/** Batches in flight at once, like concurrent consumer invocations contending for the same buckets. */
const CONCURRENCY = 4;
const SHARDS = 8;
/** A holiday calendar with make-up working days, so due days cross more than weekends. */
const HOLIDAYS = ['2026-06-19', ...Array.from({ length: 7 }, (_, i) => `2026-10-0${i + 1}`)];
const WORKDAYS = ['2026-09-27', '2026-10-10'];
const statistics = {
  shards: SHARDS,
  calendar: configuredCalendar({ holidays: HOLIDAYS, workdays: WORKDAYS }),
};

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** Cases start between 2026-06-01 and 2026-08-31 (Asia/Shanghai); later statuses run into the holidays. */
const FIRST_START = Date.parse('2026-06-01T00:00:00+08:00');
const START_SPAN_DAYS = 92;

const { client, doc } = localDynamo();
const tables = scratchTables(client);
let casesTable: string;
let statsTable: string;
let store: CaseStore;

/** The cases table as CDK declares it: the keys-only applicant and due indexes. */
const createCasesTable = () => tables.create('replay-cases', { indexes: caseTableIndexes });

beforeAll(async () => {
  [casesTable, statsTable] = await Promise.all([createCasesTable(), tables.create('replay-stats')]);
  store = createCaseStore({ doc, casesTable, statsTable });
});

afterAll(async () => {
  await tables.dropAll();
});

// ---------------------------------------------------------------------------------------------------------
// Generated cases

interface GeneratedCase {
  caseId: string;
  base: Omit<CaseChange, 'status' | 'statusAt' | 'batchId' | 'correlationId' | 'receivedAt'>;
  timeline: { status: CaseStatus; at: number }[];
}

/** Full paths through the state machine; a history is any non-empty subsequence (platforms omit statuses). */
const PATHS: CaseStatus[][] = [
  ['submitted', 'accepted', 'in_progress', 'completed'],
  ['submitted', 'accepted', 'in_progress', 'terminated'],
  ['submitted', 'accepted', 'completed'],
  ['submitted', 'rejected'],
];
const CHANNELS = ['online', 'window', 'mobile', 'terminal'] as const;

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

/** Per province: itself and a city as regions, two departments, three items each: a few thousand buckets. */
function dimensions(random: Random) {
  return PROVINCES.flatMap(({ code }) => {
    const regions = [code, `${code.slice(0, 2)}0100`];
    return regions.flatMap((regionCode) => {
      const department = generateAuthorityCode(random, regionCode);
      return [0, 1, 2].map(() => ({
        regionCode,
        departmentCode: department,
        itemCode: generateImplementationCode(random, department),
      }));
    });
  });
}

function generateCases(random: Random, count: number): GeneratedCase[] {
  const where = dimensions(random);
  return Array.from({ length: count }, (_, i) => {
    const path = pick(random, PATHS);
    let statuses = path.filter(() => random() < 0.8);
    if (statuses.length === 0) statuses = [pick(random, path)];
    // Minutes, so processing hours need rounding; any time of day, so Shanghai and UTC days differ.
    let at = FIRST_START + Math.floor(random() * START_SPAN_DAYS * DAY_MS);
    const timeline = statuses.map((status) => {
      const late = random() < 0.25;
      at += late
        ? Math.floor((5 + random() * 40) * DAY_MS)
        : Math.floor((10 + random() * 3 * 24 * 60) * MINUTE_MS);
      return { status, at: Math.floor(at / MINUTE_MS) * MINUTE_MS };
    });
    const { regionCode, departmentCode, itemCode } = pick(random, where);
    const caseNumber = `R${i.toString(36).padStart(5, '0')}`;
    const channel = pick(random, CHANNELS);
    const promisedDays = Math.floor(random() * 11);
    const idHmac = createHash('sha256').update(`applicant-${i}`).digest('base64url');
    return {
      caseId: `${regionCode}:${caseNumber}`,
      timeline,
      base: {
        version: 1,
        caseId: `${regionCode}:${caseNumber}`,
        regionCode,
        caseNumber,
        itemCode,
        itemName: 'Replay item',
        departmentCode,
        applicant: {
          type: 'person',
          idType: 'citizen_id',
          idHmac,
          maskedId: '330106********1234',
          maskedName: '张**',
          sub: `u_${idHmac.slice(0, 22)}`,
        },
        channel,
        fullyOnline: channel !== 'window' && random() < 0.6,
        promisedDays,
        statutoryDays: promisedDays + Math.floor(random() * 20),
        clientId: `region-${regionCode.slice(0, 2)}0000`,
      },
    };
  });
}

const shanghaiIso = (ms: number) => `${new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19)}+08:00`;

function changesOf(c: GeneratedCase): CaseChange[] {
  return c.timeline.map(({ status, at }) => ({
    ...c.base,
    status,
    statusAt: shanghaiIso(at),
    batchId: `batch-${c.caseId}`,
    correlationId: `corr-${c.base.caseNumber}-${status}`,
    receivedAt: new Date(at + MINUTE_MS).toISOString(),
  }));
}

function shuffle<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

// ---------------------------------------------------------------------------------------------------------
// Ground truth

const BUCKET_COUNTERS = [
  'received',
  'accepted',
  'rejected',
  'completed',
  'terminated',
  'completedOnTime',
  'overdue',
  'online',
  'fullyOnline',
  'processingCentihours',
] as const;
type BucketCounter = (typeof BUCKET_COUNTERS)[number];
type Totals = Record<BucketCounter, number>;
/** The assessment leaves `terminated` out. */
const ROLLUP_COUNTERS = BUCKET_COUNTERS.filter((c) => c !== 'terminated');
const zero = (): Totals => Object.fromEntries(BUCKET_COUNTERS.map((c) => [c, 0])) as Totals;

const shanghaiDayOf = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 10);
const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
const holidays = new Set(HOLIDAYS);
const workdays = new Set(WORKDAYS);
function isWorkingDay(day: string): boolean {
  if (workdays.has(day)) return true;
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
  return weekday !== 0 && weekday !== 6 && !holidays.has(day);
}
/** The start day does not count; a limit of 0 ends on the start day. */
function lastDayOfLimit(start: string, workingDays: number): string {
  let day = start;
  for (let counted = 0; counted < workingDays; ) {
    day = nextDay(day);
    if (isWorkingDay(day)) counted += 1;
  }
  return day;
}

/** Expected bucket counters per `day|region|department|item`, with the sweep run after every due day. */
function groundTruth(cases: readonly GeneratedCase[]): { buckets: Map<string, Totals>; lastDueDay: string } {
  const buckets = new Map<string, Totals>();
  let lastDueDay = '';
  for (const c of cases) {
    const add = (ms: number | string, counter: BucketCounter, by = 1) => {
      const day = typeof ms === 'string' ? ms : shanghaiDayOf(ms);
      const key = `${day}|${c.base.regionCode}|${c.base.departmentCode}|${c.base.itemCode}`;
      const totals = buckets.get(key) ?? zero();
      totals[counter] += by;
      buckets.set(key, totals);
    };
    const when = (status: CaseStatus) => c.timeline.find((t) => t.status === status)?.at;
    const first = Math.min(...c.timeline.map((t) => t.at));
    add(first, 'received');
    if (c.base.channel === 'online' || c.base.channel === 'mobile') add(first, 'online');
    if (c.base.fullyOnline) add(first, 'fullyOnline');
    for (const status of ['accepted', 'rejected', 'completed', 'terminated'] as const) {
      const at = when(status);
      if (at !== undefined) add(at, status);
    }
    const accepted = when('accepted');
    const completed = when('completed');
    const due = lastDayOfLimit(shanghaiDayOf(accepted ?? first), c.base.promisedDays);
    if (due > lastDueDay) lastDueDay = due;
    if (completed !== undefined && shanghaiDayOf(completed) <= due) add(completed, 'completedOnTime');
    if (completed !== undefined && accepted !== undefined) {
      add(completed, 'processingCentihours', Math.round(((completed - accepted) * 100) / 3_600_000));
    }
    const closedInTime = c.timeline.some(
      (t) => ['completed', 'terminated', 'rejected'].includes(t.status) && shanghaiDayOf(t.at) <= due,
    );
    if (!closedInTime) add(nextDay(due), 'overdue');
  }
  for (const [key, totals] of buckets) if (BUCKET_COUNTERS.every((c) => totals[c] === 0)) buckets.delete(key);
  return { buckets, lastDueDay };
}

// ---------------------------------------------------------------------------------------------------------
// Delivery, as SQS and the consumer would do it

async function replay(deliveries: CaseChange[], events: CaseEvent[]) {
  let nextId = 0;
  const queue = deliveries.map((change) => ({ messageId: `m-${nextId++}`, change }));
  let redelivered = 0;
  let batches = 0;
  const worker = async () => {
    while (queue.length > 0) {
      const batch = queue.splice(0, BATCH_SIZE);
      batches += 1;
      const report = await processChanges(
        {
          store,
          publish: async (published) => {
            events.push(...published);
          },
          clock: () => new Date('2026-11-01T00:00:00Z'),
          statistics,
        },
        batch,
      );
      // A failed message goes back to the queue with a new receipt, as SQS redelivers it.
      for (const item of batch) {
        if (report.outcomes.get(item.messageId) !== undefined) {
          queue.push({ messageId: `m-${nextId++}`, change: item.change });
          redelivered += 1;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { batches, redelivered };
}

async function storedBuckets(): Promise<{ buckets: Map<string, Totals>; cellsByDay: Map<string, Cell[]> }> {
  const buckets = new Map<string, Totals>();
  const cellsByDay = new Map<string, Cell[]>();
  for await (const page of paginateScan({ client: doc }, { TableName: statsTable, ConsistentRead: true })) {
    for (const item of page.Items ?? []) {
      const key = `${item.day}|${item.regionCode}|${item.departmentCode}|${item.itemCode}`;
      const totals = buckets.get(key) ?? zero();
      for (const counter of BUCKET_COUNTERS) {
        totals[counter] +=
          counter === 'processingCentihours'
            ? Math.round(Number(item.processingHours ?? 0) * 100)
            : Number(item[counter] ?? 0);
      }
      buckets.set(key, totals);
      const day = String(item.day);
      const cells = cellsByDay.get(day) ?? [];
      cells.push({
        regionCode: String(item.regionCode),
        departmentCode: String(item.departmentCode),
        itemCode: String(item.itemCode),
        counters: countersFromItem(item),
      });
      cellsByDay.set(day, cells);
    }
  }
  // A bucket whose counters all went back to zero (a received count that moved days) holds no fact.
  for (const [key, totals] of buckets) if (BUCKET_COUNTERS.every((c) => totals[c] === 0)) buckets.delete(key);
  return { buckets, cellsByDay };
}

// ---------------------------------------------------------------------------------------------------------
// Scopes and rates, independently

const provinceOf = (regionCode: string) => `${regionCode.slice(0, 2)}0000`;
const roundHalfUp = (numerator: number, denominator: number) =>
  Math.floor((2 * numerator * 100 + denominator) / (2 * denominator)) / 100;
const percentage = (numerator: number, denominator: number) =>
  denominator === 0 ? null : { numerator, denominator, value: roundHalfUp(numerator * 100, denominator) };

function expectedScopes(buckets: Map<string, Totals>, month: string) {
  const scopes = new Map<string, Totals>();
  const add = (scope: string, totals: Totals) => {
    const sum = scopes.get(scope) ?? zero();
    for (const c of BUCKET_COUNTERS) sum[c] += totals[c];
    scopes.set(scope, sum);
  };
  for (const [key, totals] of buckets) {
    const [day, regionCode, departmentCode] = key.split('|') as [string, string, string];
    if (!day.startsWith(month)) continue;
    const province = provinceOf(regionCode);
    add('nation', totals);
    add(`province#${province}`, totals);
    add(`region#${regionCode}`, totals);
    add(`dept#${province}#${departmentCode}`, totals);
  }
  const rolledUp = [...scopes].filter(([, t]) => ROLLUP_COUNTERS.some((c) => t[c] !== 0));
  return new Map(
    rolledUp.map(([scope, t]) => [
      scope,
      {
        counters: {
          received: t.received,
          accepted: t.accepted,
          rejected: t.rejected,
          completed: t.completed,
          completedOnTime: t.completedOnTime,
          overdue: t.overdue,
          online: t.online,
          fullyOnline: t.fullyOnline,
          processingHours: t.processingCentihours / 100,
          // No evaluation events in this replay: the evaluation counters stay 0.
          evaluations: 0,
          satisfied: 0,
          flagged: 0,
          badReviews: 0,
          rectified: 0,
          dismissed: 0,
        },
        rates: {
          onTimeCompletionRate: percentage(t.completedOnTime, t.completed),
          fullyOnlineRate: percentage(t.fullyOnline, t.received),
          onlineRate: percentage(t.online, t.received),
          averageProcessingHours:
            t.completed === 0
              ? null
              : {
                  numerator: t.processingCentihours / 100,
                  denominator: t.completed,
                  value: roundHalfUp(t.processingCentihours, t.completed * 100),
                },
          satisfactionRate: null,
          rectificationRate: null,
        },
      },
    ]),
  );
}

const sorted = <V>(map: Map<string, V>) => new Map([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

// ---------------------------------------------------------------------------------------------------------

describe(`replay of ${CASES} cases, every change delivered ${DELIVERIES_PER_CHANGE} times in shuffled order`, () => {
  const random = seededRandom(20261122);
  const cases = generateCases(random, CASES);
  const truth = groundTruth(cases);
  const events: CaseEvent[] = [];

  it('applies every change exactly once and announces each', async () => {
    const changes = cases.flatMap(changesOf);
    const deliveries = shuffle(
      random,
      changes.flatMap((change) => Array.from({ length: DELIVERIES_PER_CHANGE }, () => change)),
    );
    const started = Date.now();
    const { batches, redelivered } = await replay(deliveries, events);
    const sweep = await sweepOverdue({ store, statistics }, truth.lastDueDay);
    console.info(
      `replay: ${CASES} cases, ${deliveries.length} deliveries in ${batches} batches (${redelivered} redelivered), ` +
        `sweep counted ${sweep.counted}, ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(sweep.failed).toBe(0);

    // At-least-once announcements: every applied change and every case, each at least once, nothing else.
    const changeIds = new Set(
      events.flatMap((e) => (e.detailType === 'CaseStatusChanged' ? [e.detail.changeId] : [])),
    );
    expect(changeIds).toEqual(new Set(changes.map((c) => `${c.caseId}#${c.status}`)));
    const received = new Set(
      events.flatMap((e) => (e.detailType === 'CaseReceived' ? [e.detail.caseId] : [])),
    );
    expect(received).toEqual(new Set(cases.map((c) => c.caseId)));
  }, 900_000);

  it('holds every statistics bucket exactly as the ground truth', async () => {
    const { buckets } = await storedBuckets();
    expect(truth.buckets.size).toBeGreaterThan(1_000);
    expect(sorted(buckets)).toEqual(sorted(truth.buckets));
  }, 120_000);

  it('rolls the stored buckets up into every scope with the ground truth counters and rates', async () => {
    const { cellsByDay } = await storedBuckets();
    const months = [...new Set([...cellsByDay.keys()].map((day) => day.slice(0, 7)))].sort();
    expect(months.length).toBeGreaterThanOrEqual(4);
    for (const month of months) {
      const cells = mergeCells(
        [...cellsByDay].filter(([day]) => day.startsWith(month)).flatMap(([, c]) => c),
      );
      const actual = new Map(
        rollUp(cells)
          .filter((scope) => Object.values(scope.counters).some((v) => v !== 0))
          .map((scope) => [
            scope.scope,
            { counters: countersToItem(scope.counters), rates: renderRates(ratesOf(scope.counters)) },
          ]),
      );
      expect(sorted(actual), month).toEqual(sorted(expectedScopes(truth.buckets, month)));
    }
  }, 120_000);
});
