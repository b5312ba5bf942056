import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { dynamoDbClients } from '../../shared/aws/dynamodb';
import {
  addCalendarDays,
  calendarDaySchema,
  type Day,
  holidayCalendarEnv,
  shanghaiDay,
} from '../../shared/calendar';
import { loadConfig, positiveInt, tableName } from '../../shared/config';
import { logger, metrics } from '../../shared/observability';
import { type CaseWrite, planTransactions } from './domain/batching';
import type { CaseRecord } from './domain/case';
import { DUE_INDEX_SHARDS, markOverdue } from './domain/overdue';
import { contribution, difference, type StatisticsOptions } from './domain/statistics';
import { type CaseStore, createCaseStore } from './store';

/**
 * The daily overdue sweep (scheduled; input `{ day? }`, default yesterday in Asia/Shanghai). Cases that pass
 * their due day without a status change produce no message, so nothing else would count them: the sweep reads
 * the due index for cases due on or before the swept day that await it, and per case commits, in one
 * transaction, the case marked overdue (conditioned on the version read) with `overdue` +1 in the bucket of its
 * due day + 1. Counted cases leave the index, so a second run finds nothing to do; its work grows with the
 * cases newly overdue (and any left by a failed run), never with the number of cases stored.
 */
export interface OverdueSweepDependencies {
  store: CaseStore;
  statistics: StatisticsOptions;
  /** Commit attempts per page before its remaining cases are left to the next run (default 5). */
  maxCommitAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface SweepReport {
  day: Day;
  /** Cases the index offered (each loaded by key). */
  examined: number;
  /** Cases counted overdue by this run. */
  counted: number;
  /** Cases the index offered that were not overdue after all (closed in time, counted already: a stale index). */
  skipped: number;
  /** Cases not committed after every attempt: the next run counts them. */
  failed: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function sweepOverdue(deps: OverdueSweepDependencies, day: Day): Promise<SweepReport> {
  const report: SweepReport = { day, examined: 0, counted: 0, skipped: 0, failed: 0 };
  for (let shard = 0; shard < DUE_INDEX_SHARDS; shard += 1) {
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await deps.store.queryDue(shard, day, cursor);
      cursor = page.cursor;
      report.examined += page.caseIds.length;
      if (page.caseIds.length > 0) await sweepCases(deps, day, page.caseIds, report);
    } while (cursor);
  }
  return report;
}

/** Marks and counts one page of cases; a case a concurrent consumer changed is reloaded and judged again. */
async function sweepCases(
  deps: OverdueSweepDependencies,
  day: Day,
  caseIds: readonly string[],
  report: SweepReport,
): Promise<void> {
  const maxAttempts = deps.maxCommitAttempts ?? 5;
  const records = await deps.store.loadCases(caseIds);
  const pending = new Set(caseIds);
  for (let attempt = 0; pending.size > 0 && attempt < maxAttempts; attempt += 1) {
    const writes: CaseWrite[] = [];
    for (const caseId of pending) {
      const write = overdueWrite(records.get(caseId), day, deps.statistics);
      if (write) {
        writes.push(write);
      } else {
        report.skipped += 1;
        pending.delete(caseId);
      }
    }
    let contended = false;
    for (const plan of planTransactions(writes)) {
      const result = await deps.store.commit(plan);
      if (result.committed) {
        for (const w of plan.writes) pending.delete(w.caseId);
        report.counted += plan.writes.length;
        continue;
      }
      contended ||= result.contended;
      const fresh = await deps.store.loadCases(result.staleCaseIds);
      for (const caseId of result.staleCaseIds) {
        const record = fresh.get(caseId);
        if (record) records.set(caseId, record);
        else records.delete(caseId);
      }
    }
    if (contended && pending.size > 0) {
      const random = deps.random ?? Math.random;
      await (deps.sleep ?? defaultSleep)(Math.floor(random() * Math.min(1_000, 20 * 2 ** attempt)));
    }
  }
  report.failed += pending.size;
}

function overdueWrite(
  before: CaseRecord | undefined,
  day: Day,
  statistics: StatisticsOptions,
): CaseWrite | undefined {
  const marked = before && markOverdue(before, day);
  if (!before || !marked) return undefined;
  return {
    caseId: before.caseId,
    expectedVersion: before.version,
    record: marked,
    delta: difference(contribution(marked, statistics), contribution(before, statistics)),
  };
}

/** The scheduled input. A day that has not ended yet cannot be swept: its cases may still close in time. */
export const sweepInputSchema = z.object({ day: calendarDaySchema.optional() });

export function dayToSweep(input: z.output<typeof sweepInputSchema>, now: Date): Day {
  const today = shanghaiDay(now.getTime());
  const day = input.day ?? addCalendarDays(today, -1);
  if (day >= today) throw new Error(`Cannot sweep ${day}: only days before ${today} have ended.`);
  return day;
}

const sweepEnv = z.object({
  CASES_TABLE: tableName,
  STATS_TABLE: tableName,
  STATS_SHARDS: positiveInt(8),
  HOLIDAY_CALENDAR: holidayCalendarEnv,
});

let dependencies: OverdueSweepDependencies | undefined;

// Built on first use, so that importing the module (tests, synth) needs no environment.
async function buildDependencies(): Promise<OverdueSweepDependencies> {
  const aws = dynamoDbClients();
  const config = loadConfig(sweepEnv);
  return {
    store: createCaseStore({
      doc: aws.documentClient,
      casesTable: config.CASES_TABLE,
      statsTable: config.STATS_TABLE,
    }),
    // Swept cases carry their due day; the calendar only judges cases stored before due days existed.
    statistics: { shards: config.STATS_SHARDS, calendar: config.HOLIDAY_CALENDAR },
  };
}

export async function handler(event: unknown): Promise<SweepReport> {
  const parsed = sweepInputSchema.safeParse(event ?? {});
  if (!parsed.success) throw new Error('Invalid sweep input: expected { "day"?: "yyyy-mm-dd" }.');
  const day = dayToSweep(parsed.data, new Date());
  dependencies ??= await buildDependencies();
  const report = await sweepOverdue(dependencies, day);
  logger.info('overdue sweep finished', { ...report });
  metrics.addMetric('CasesCountedOverdue', MetricUnit.Count, report.counted);
  metrics.addMetric('OverdueSweepFailures', MetricUnit.Count, report.failed);
  metrics.publishStoredMetrics();
  // Failing the invocation makes Scheduler retry (and finally dead-letter it); every run is safe to repeat.
  if (report.failed > 0)
    throw new Error(`${report.failed} overdue cases not committed; run the sweep again.`);
  return report;
}
