import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import type { AssessmentPublishedV1 } from '../../events/assessment-published.v1';
import { dynamoDbClients } from '../../shared/aws/dynamodb';
import { eventBridgeClients } from '../../shared/aws/eventbridge';
import { s3Clients } from '../../shared/aws/s3';
import { calendarDaySchema, type Day, isCalendarDay } from '../../shared/calendar';
import { loadConfig, positiveInt, requiredString, tableName } from '../../shared/config';
import { once } from '../../shared/entry';
import { createEventPublisher, type EventPublisher } from '../../shared/events';
import { logger, metrics } from '../../shared/observability';
import {
  dayCount,
  daysBetween,
  daysOfMonth,
  type Month,
  monthOf,
  monthsOf,
  type PeriodType,
  yesterdayInShanghai,
} from './domain/periods';
import { type Cell, mergeCells, rollUp, rollUpItems } from './domain/rollup';
import { mapLimit } from './map-limit';
import { createRollupStore, type RollupMeta, type RollupStore } from './rollup-store';
import {
  type Coverage,
  itemSnapshotKeysOf,
  renderCsv,
  renderJson,
  snapshotKeysOf,
  snapshotOf,
} from './snapshot';

/**
 * Scheduled aggregation (daily 01:00 Asia/Shanghai) and backfill: roll a day's statistics buckets into the
 * day's assessment, re-roll its month from the day rollups, write both snapshots to S3 and announce each
 * with AssessmentPublished. Re-running a period overwrites the same items and objects (idempotent).
 */
export const ASSESSMENT_EVENT_SOURCE = 'zwfw.case-aggregate';
/** A backfill longer than this is almost certainly a typo in a year. */
export const MAX_BACKFILL_DAYS = 3660;
/** Item snapshots (one per province) written at once. */
const ITEM_SNAPSHOT_CONCURRENCY = 8;

export interface RollupDependencies {
  store: RollupStore;
  publish: (detail: AssessmentPublishedV1) => Promise<void>;
  clock: () => Date;
  /** Ties the events of one run together (the invocation's request id). */
  correlationId: string;
}

export interface PeriodReport {
  period: string;
  periodType: PeriodType;
  scopes: number;
  /** Item scopes, published per province beside the period's snapshot. */
  itemScopes: number;
  cells: number;
  coverage: Coverage;
  /** Read capacity units consumed, from ReturnConsumedCapacity. */
  readCapacity: number;
  queries: number;
  writeCapacity: number;
  snapshotKeys: { json: string; csv: string };
}

interface Source {
  cells: Cell[];
  coverage: Coverage;
  readCapacity: number;
  queries: number;
}

async function publishPeriod(
  deps: RollupDependencies,
  period: string,
  periodType: PeriodType,
  source: Source,
): Promise<PeriodReport> {
  const generatedAt = deps.clock().toISOString();
  const scopes = rollUp(source.cells);
  const snapshotKeys = snapshotKeysOf(period);
  const meta: RollupMeta = {
    period,
    periodType,
    generatedAt,
    coverage: source.coverage,
    scopes: scopes.length,
    cells: source.cells.length,
    snapshotKeys,
  };
  const { writeCapacity } = await deps.store.writeRollup(period, { meta, cells: source.cells, scopes });
  const frame = { period, periodType, generatedAt, coverage: source.coverage };
  // Items first: a reader who finds the period's snapshot finds its provinces' items too.
  const itemScopes = await publishItems(deps, frame, source.cells);
  const snapshot = snapshotOf({ ...frame, scopes });
  await deps.store.putSnapshot(snapshotKeys, renderJson(snapshot), renderCsv(snapshot));
  await deps.publish({
    version: 1,
    correlationId: deps.correlationId,
    period,
    periodType,
    snapshotKeys,
    scopes: scopes.length,
    generatedAt,
  });
  return {
    period,
    periodType,
    scopes: scopes.length,
    itemScopes,
    cells: source.cells.length,
    coverage: source.coverage,
    readCapacity: source.readCapacity,
    queries: source.queries,
    writeCapacity,
    snapshotKeys,
  };
}

type SnapshotFrame = Pick<PeriodReport, 'period' | 'periodType' | 'coverage'> & { generatedAt: string };

/**
 * Each province's item scopes as its own snapshot (JSON and CSV), from the cells already in memory: no read
 * more, one pair of objects per province. Resolves to the number of item scopes.
 */
async function publishItems(
  deps: RollupDependencies,
  frame: SnapshotFrame,
  cells: readonly Cell[],
): Promise<number> {
  const byProvince = [...rollUpItems(cells)];
  await mapLimit(byProvince, ITEM_SNAPSHOT_CONCURRENCY, ([province, scopes]) => {
    const snapshot = snapshotOf({ ...frame, scopes });
    const keys = itemSnapshotKeysOf(frame.period, province);
    return deps.store.putSnapshot(keys, renderJson(snapshot), renderCsv(snapshot));
  });
  return byProvince.reduce((sum, [, scopes]) => sum + scopes.length, 0);
}

/** A day, from its statistics buckets: 32 provinces × STATS_SHARDS partitions. */
export async function rollUpDay(deps: RollupDependencies, day: Day): Promise<PeriodReport> {
  const read = await deps.store.readDayCells(day);
  const coverage: Coverage = { days: 1, daysInPeriod: 1, firstDay: day, lastDay: day };
  return publishPeriod(deps, day, 'day', { ...read, coverage });
}

/** A month, from the rollups of its days that have been rolled up (never from the buckets again). */
export async function rollUpMonth(deps: RollupDependencies, month: Month): Promise<PeriodReport> {
  const days = daysOfMonth(month);
  const { metas, readCapacity, queries } = await deps.store.readRollupMetas(days);
  const rolled = days.filter((day) => metas.has(day));
  const reads = await Promise.all(rolled.map((day) => deps.store.readRollupCells(day)));
  const coverage: Coverage = {
    days: rolled.length,
    daysInPeriod: days.length,
    ...(rolled.length > 0 ? { firstDay: rolled[0], lastDay: rolled[rolled.length - 1] } : {}),
  };
  return publishPeriod(deps, month, 'month', {
    cells: mergeCells(reads.flatMap((read) => read.cells)),
    coverage,
    readCapacity: reads.reduce((sum, read) => sum + read.readCapacity, readCapacity),
    queries: reads.reduce((sum, read) => sum + read.queries, queries),
  });
}

/** What the schedule does each night: the day, then its month. */
export async function rollUpDayAndMonth(deps: RollupDependencies, day: Day): Promise<PeriodReport[]> {
  const dayReport = await rollUpDay(deps, day);
  return [dayReport, await rollUpMonth(deps, monthOf(day))];
}

export interface BackfillOptions {
  from: Day;
  to: Day;
  /** After each period: how many of `total` periods (days, then months) are done. */
  onProgress?: (done: number, total: number, report: PeriodReport) => void;
}

export class BackfillRangeError extends Error {
  override readonly name = 'BackfillRangeError';
}

export function validateBackfillRange(from: string, to: string): void {
  if (!isCalendarDay(from) || !isCalendarDay(to))
    throw new BackfillRangeError('from and to must be days written yyyy-mm-dd.');
  if (from > to) throw new BackfillRangeError('from must not be after to.');
  if (dayCount(from, to) > MAX_BACKFILL_DAYS) {
    throw new BackfillRangeError(`A backfill covers at most ${MAX_BACKFILL_DAYS} days.`);
  }
}

/** Every day of the range, then each month it touches once (a month is rolled from its days). */
export async function backfill(deps: RollupDependencies, options: BackfillOptions): Promise<PeriodReport[]> {
  validateBackfillRange(options.from, options.to);
  const days = daysBetween(options.from, options.to);
  const months = monthsOf(days);
  const total = days.length + months.length;
  const reports: PeriodReport[] = [];
  const done = (report: PeriodReport) => {
    reports.push(report);
    options.onProgress?.(reports.length, total, report);
  };
  for (const day of days) done(await rollUpDay(deps, day));
  for (const month of months) done(await rollUpMonth(deps, month));
  return reports;
}

/**
 * EventBridge Scheduler passes `{ "day": "yyyy-mm-dd" }` or nothing (→ yesterday in Asia/Shanghai); an operator
 * may invoke with `{ "from", "to" }` to backfill in the cloud.
 */
export const rollupInputSchema = z.union([
  z.strictObject({ day: calendarDaySchema.optional() }),
  z.strictObject({
    from: calendarDaySchema,
    to: calendarDaySchema,
  }),
]);
export type RollupInput = z.infer<typeof rollupInputSchema>;

export async function runRollup(deps: RollupDependencies, input: RollupInput): Promise<PeriodReport[]> {
  if ('from' in input) return backfill(deps, { from: input.from, to: input.to });
  return rollUpDayAndMonth(deps, input.day ?? yesterdayInShanghai(deps.clock()));
}

/** Sends each detail as an AssessmentPublished event through the kernel publisher (validated, retried). */
export const publishAssessmentsWith =
  (publisher: EventPublisher): RollupDependencies['publish'] =>
  async (detail) => {
    await publisher.publish([{ detailType: 'AssessmentPublished', detail }]);
  };

const rollupEnv = z.object({
  STATS_TABLE: tableName,
  STATS_SHARDS: positiveInt(8),
  ASSESSMENTS_BUCKET: requiredString,
  EVENT_BUS_NAME: requiredString,
});

// Built on first use, so that importing the module (tests, synth, the CLI) needs no environment.
async function buildDependencies(): Promise<Omit<RollupDependencies, 'correlationId'>> {
  const aws = { ...dynamoDbClients(), ...eventBridgeClients(), ...s3Clients() };
  const config = loadConfig(rollupEnv);
  const publisher = createEventPublisher({
    client: aws.eventBridge,
    busName: config.EVENT_BUS_NAME,
    source: ASSESSMENT_EVENT_SOURCE,
  });
  return {
    store: createRollupStore({
      doc: aws.documentClient,
      statsTable: config.STATS_TABLE,
      shards: config.STATS_SHARDS,
      snapshots: { s3: aws.s3, bucket: config.ASSESSMENTS_BUCKET },
    }),
    publish: publishAssessmentsWith(publisher),
    clock: () => new Date(),
  };
}

const defaultDependencies = once(buildDependencies);

export async function handler(event: unknown, context: Context): Promise<{ periods: PeriodReport[] }> {
  const parsed = rollupInputSchema.safeParse(event ?? {});
  if (!parsed.success) {
    // Field paths only: a scheduled input carries no personal data, but the rule is the same everywhere.
    const paths = parsed.error.issues.map((issue) => issue.path.join('.') || '(input)');
    throw new Error(`Invalid rollup input: ${[...new Set(paths)].join(', ')}`);
  }
  const deps = { ...(await defaultDependencies()), correlationId: context.awsRequestId ?? randomUUID() };
  const periods = await runRollup(deps, parsed.data);
  for (const report of periods) {
    logger.info('assessment published', {
      period: report.period,
      periodType: report.periodType,
      scopes: report.scopes,
      cells: report.cells,
      readCapacity: report.readCapacity,
      queries: report.queries,
      writeCapacity: report.writeCapacity,
    });
    metrics.addMetric('RollupReadCapacity', MetricUnit.Count, report.readCapacity);
  }
  metrics.publishStoredMetrics();
  return { periods };
}
