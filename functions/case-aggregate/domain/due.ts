import { type Day, deadlineDay, shanghaiDay, type WorkingCalendar } from '../../../shared/calendar';
import { type CaseRecord, earliestStatusAt } from './case';

/**
 * The due day of a case (the last day of its promised time limit, 承诺时限), stored on the case with the basis
 * it was computed from. Statistics read the stored day instead of asking the calendar again: a commit adds
 * contribution(after) − contribution(before), and `before` must be judged exactly as it was when it was
 * added, or a calendar change between two commits of one case would make the counters drift.
 *
 * The day is computed when the case first exists and again only when its basis changes — acceptance arrives
 * and moves the start, an earlier status moves it, a further status corrects the promised days — never
 * because the calendar configuration changed. With one calendar the stored day is therefore the same for
 * any arrival order of the case's changes.
 */
export interface DueDate {
  /** The Asia/Shanghai day the limit runs from: acceptance, else the earliest known status. */
  from: Day;
  /** The promised working days it was computed for. */
  promisedDays: number;
  /** The last day of the limit: a case closed on or before it is on time. */
  day: Day;
}

/** Where the time limit starts: acceptance when known, else the earliest known status. */
export function dueStartOf(record: CaseRecord): string | undefined {
  return record.timeline.find((e) => e.status === 'accepted')?.at ?? earliestStatusAt(record);
}

/**
 * The case's due date: the stored one while its basis still holds, otherwise computed with `calendar`.
 * Undefined only for a case without any status.
 */
export function dueDateOf(record: CaseRecord, calendar: WorkingCalendar): DueDate | undefined {
  const start = dueStartOf(record);
  if (start === undefined) return undefined;
  const from = shanghaiDay(start);
  const stored = record.due;
  if (stored && stored.from === from && stored.promisedDays === record.promisedDays) return stored;
  return { from, promisedDays: record.promisedDays, day: deadlineDay(from, record.promisedDays, calendar) };
}

/** The case with its due date fixed: unchanged (same object) when the stored one still holds. */
export function withDueDate(record: CaseRecord, calendar: WorkingCalendar): CaseRecord {
  const due = dueDateOf(record, calendar);
  return due === record.due ? record : { ...record, due };
}
