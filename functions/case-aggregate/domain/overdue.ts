import { addCalendarDays, type Day, shanghaiDay } from '../../../shared/calendar';
import type { CaseRecord } from './case';
import type { DueDate } from './due';
import type { CaseStatus } from './status';

/**
 * Overdue (超期): a case not closed — completed, terminated or rejected — on or before its due day. Nothing
 * happens to such a case on the day it becomes overdue, so the daily sweep finds it: open cases are indexed by
 * due day (store.ts), and the sweep marks each case past its due day and counts it in the same transaction.
 *
 * Rules:
 * - counted once, in the statistics bucket of the due day + 1 (the first day the case is overdue), with the
 *   case's region, department and item like every other counter;
 * - a case closed late stays counted: it did miss its due day. A case closed late before any sweep saw it is
 *   counted by the next sweep all the same — the counter does not depend on when the sweep ran;
 * - withdrawn only when the facts change under it: a closing status dated on or before the due day arrives
 *   after the count (the platform reported late, the case was not overdue), or the due day moves (acceptance
 *   arrives and restarts the limit) — then the case waits for the sweep of its new due day.
 * The statistics derive all of this from the case (domain/statistics.ts), so it stays exactly once.
 */

const CLOSING_STATUSES: ReadonlySet<CaseStatus> = new Set(['completed', 'terminated', 'rejected']);

/**
 * Partitions of the due index. Every open case sits in one; 16 keeps each partition far below its write
 * limit at national peak ingest. Changing it re-shards the index: the sweep must know every partition.
 */
export const DUE_INDEX_SHARDS = 16;

/** The day a case that missed `due` is counted overdue in. */
export const overdueDayFor = (due: DueDate): Day => addCalendarDays(due.day, 1);

/** Whether the case reached a closing status on or before `day` (Asia/Shanghai). */
export function closedBy(record: CaseRecord, day: Day): boolean {
  return record.timeline.some((e) => CLOSING_STATUSES.has(e.status) && shanghaiDay(e.at) <= day);
}

const missedDueDay = (record: CaseRecord, due: DueDate) => !closedBy(record, due.day);

/** The day the case counts as overdue in, if it does: marked by the sweep for its current due day, and not closed by it. */
export function countedOverdueDay(record: CaseRecord): Day | undefined {
  const { due, overdueDay } = record;
  if (!due || overdueDay !== overdueDayFor(due) || !missedDueDay(record, due)) return undefined;
  return overdueDay;
}

/** In the due index: it may become overdue and has not been counted for its current due day. */
export function awaitsOverdueSweep(record: CaseRecord): boolean {
  const { due } = record;
  return due !== undefined && missedDueDay(record, due) && record.overdueDay !== overdueDayFor(due);
}

/**
 * The case marked overdue by the sweep of `sweptDay` (a day that has ended), or undefined when the sweep has
 * nothing to do with it: not due by then, closed in time, or already counted.
 */
export function markOverdue(record: CaseRecord, sweptDay: Day): CaseRecord | undefined {
  const { due } = record;
  if (!due || due.day > sweptDay || !awaitsOverdueSweep(record)) return undefined;
  return { ...record, overdueDay: overdueDayFor(due) };
}
