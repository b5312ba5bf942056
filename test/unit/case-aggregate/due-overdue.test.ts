import { describe, expect, it } from 'vitest';
import { applyChange, type CaseRecord } from '../../../functions/case-aggregate/domain/case';
import type { CaseChange } from '../../../functions/case-aggregate/domain/change';
import { dueDateOf, withDueDate } from '../../../functions/case-aggregate/domain/due';
import {
  awaitsOverdueSweep,
  countedOverdueDay,
  markOverdue,
} from '../../../functions/case-aggregate/domain/overdue';
import {
  type Contribution,
  contribution,
  difference,
  defaultStatisticsOptions as options,
  shardOf,
} from '../../../functions/case-aggregate/domain/statistics';
import { configuredCalendar, weekendsOffCalendar } from '../../../shared/calendar';
import { changeOf, DEPARTMENT, ITEM, OTHER_ITEM } from './fixtures';

// Made-up holidays, not an official calendar. 2026-11-20 is a Friday.
const NOW = '2026-12-01T00:00:00.000Z';
const holidayWeek = configuredCalendar({ holidays: ['2026-11-23', '2026-11-24'], workdays: [] });

/** Applies changes as the consumer does: each commit fixes the due date with the calendar of that moment. */
function commit(record: CaseRecord | undefined, change: CaseChange, calendar = weekendsOffCalendar) {
  const after = applyChange(record, change, NOW).record as CaseRecord;
  return withDueDate(after, calendar);
}

const plain = (c: Contribution) => Object.fromEntries([...c].map(([id, { counters }]) => [id, counters]));
const shard = shardOf('330106:ZJ-2026-0001', options.shards);
const bucket = (day: string, item = ITEM) => `STATS#330000#${day}#${shard}|330106#${DEPARTMENT}#${item}`;

const accepted = (at = '2026-11-20T09:00:00+08:00', promisedDays = 1) =>
  changeOf({ status: 'accepted', statusAt: at, promisedDays });
const completed = (at: string, promisedDays = 1) =>
  changeOf({ status: 'completed', statusAt: at, promisedDays });

describe('due date', () => {
  it('is computed from acceptance when the case first exists', () => {
    expect(commit(undefined, accepted()).due).toEqual({
      from: '2026-11-20',
      promisedDays: 1,
      day: '2026-11-23',
    });
  });

  it('stays as stored when the calendar configuration changes later', () => {
    const first = commit(undefined, accepted());
    const later = commit(first, completed('2026-11-23T10:00:00+08:00'), holidayWeek);
    expect(later.due).toEqual(first.due);
    // Judged by the stored day: on time, although the new calendar would give the 25th anyway.
    expect(
      plain(contribution(later, { ...options, calendar: holidayWeek }))[bucket('2026-11-23')],
    ).toMatchObject({
      completed: 1,
      completedOnTime: 1,
    });
  });

  it('is computed again, with the calendar of that moment, when acceptance arrives after the earliest status', () => {
    const submitted = commit(
      undefined,
      changeOf({ status: 'submitted', statusAt: '2026-11-18T09:00:00+08:00', promisedDays: 1 }),
    );
    expect(submitted.due?.day).toBe('2026-11-19');
    expect(commit(submitted, accepted(), holidayWeek).due).toEqual({
      from: '2026-11-20',
      promisedDays: 1,
      day: '2026-11-25',
    });
  });

  it('is computed again when a further status corrects the promised days', () => {
    const first = commit(undefined, accepted());
    expect(commit(first, completed('2026-11-27T10:00:00+08:00', 5)).due?.day).toBe('2026-11-27');
  });

  it('keeps the same record object when nothing about it changed', () => {
    const first = commit(undefined, accepted());
    expect(withDueDate(first, holidayWeek)).toBe(first);
  });

  it('is computed from the calendar given for a case that has none stored', () => {
    const bare = applyChange(undefined, accepted(), NOW).record as CaseRecord;
    expect(bare.due).toBeUndefined();
    expect(dueDateOf(bare, holidayWeek)?.day).toBe('2026-11-25');
  });

  it('does not drift when the calendar changes between two commits of a case', () => {
    // Submitted Friday and completed Wednesday, 1 promised day: on time while Monday and Tuesday are holidays.
    const first = [
      changeOf({ status: 'submitted', statusAt: '2026-11-20T09:00:00+08:00', promisedDays: 1 }),
      completed('2026-11-25T10:00:00+08:00'),
    ];
    // Then the holidays are taken out of the configuration, and the acceptance (Tuesday) arrives late.
    const lateAcceptance = accepted('2026-11-24T09:00:00+08:00');
    const onTimeIn = (c: Contribution) =>
      [...c.values()].reduce((sum, { counters }) => sum + (counters.completedOnTime ?? 0), 0);

    /** Commits as the consumer does, with or without fixing the due day; the calendar changes before the last. */
    const totalWith = (fixDueDays: boolean) => {
      const calendars = [holidayWeek, holidayWeek, weekendsOffCalendar];
      let before: CaseRecord | undefined;
      let total = 0;
      [...first, lateAcceptance].forEach((change, i) => {
        const calendar = calendars[i] ?? weekendsOffCalendar;
        const applied = applyChange(before, change, NOW).record as CaseRecord;
        const after = fixDueDays ? withDueDate(applied, calendar) : applied;
        const stats = { ...options, calendar };
        total += onTimeIn(difference(contribution(after, stats), contribution(before, stats)));
        before = after;
      });
      return total;
    };

    // Fixed due days: the one completion counts once. Recomputing from today's calendar counted it twice.
    expect(totalWith(true)).toBe(1);
    expect(totalWith(false)).toBe(2);
  });
});

describe('overdue', () => {
  const open = () => commit(undefined, accepted()); // due 2026-11-23

  it('awaits the sweep while open, and is not overdue before its due day has ended', () => {
    const record = open();
    expect(awaitsOverdueSweep(record)).toBe(true);
    expect(markOverdue(record, '2026-11-22')).toBeUndefined();
    expect(countedOverdueDay(record)).toBeUndefined();
  });

  it('is counted once, in the bucket of the due day + 1, by the sweep of any later day', () => {
    const before = open();
    const marked = markOverdue(before, '2026-11-25') as CaseRecord;
    expect(marked.overdueDay).toBe('2026-11-24');
    expect(plain(difference(contribution(marked, options), contribution(before, options)))).toEqual({
      [bucket('2026-11-24')]: { overdue: 1 },
    });
    expect(awaitsOverdueSweep(marked)).toBe(false);
    expect(markOverdue(marked, '2026-11-26')).toBeUndefined();
  });

  it('leaves a case closed on or before its due day alone', () => {
    for (const closing of [
      completed('2026-11-23T23:59:00+08:00'),
      changeOf({ status: 'terminated', statusAt: '2026-11-22T10:00:00+08:00', promisedDays: 1 }),
    ]) {
      const record = commit(open(), closing);
      expect(awaitsOverdueSweep(record)).toBe(false);
      expect(markOverdue(record, '2026-11-30')).toBeUndefined();
    }
    const rejected = commit(
      undefined,
      changeOf({ status: 'rejected', statusAt: '2026-11-20T10:00:00+08:00', promisedDays: 1 }),
    );
    expect(awaitsOverdueSweep(rejected)).toBe(false);
  });

  it('stays counted when the case is completed late, and is not on time', () => {
    const marked = markOverdue(open(), '2026-11-24') as CaseRecord;
    const late = commit(marked, completed('2026-11-26T10:00:00+08:00'));
    expect(countedOverdueDay(late)).toBe('2026-11-24');
    expect(plain(difference(contribution(late, options), contribution(marked, options)))).toEqual({
      [bucket('2026-11-26')]: { completed: 1, processingCentihours: 14500 },
    });
  });

  it('is counted by the sweep when the case was completed late before any sweep saw it', () => {
    const late = commit(open(), completed('2026-11-26T10:00:00+08:00'));
    expect(awaitsOverdueSweep(late)).toBe(true);
    expect(countedOverdueDay(markOverdue(late, '2026-11-26') as CaseRecord)).toBe('2026-11-24');
  });

  it('is withdrawn when a completion dated in time arrives after the count', () => {
    const marked = markOverdue(open(), '2026-11-24') as CaseRecord;
    const inTime = commit(marked, completed('2026-11-23T17:00:00+08:00'));
    expect(plain(difference(contribution(inTime, options), contribution(marked, options)))).toEqual({
      [bucket('2026-11-23')]: { completed: 1, completedOnTime: 1, processingCentihours: 8000 },
      [bucket('2026-11-24')]: { overdue: -1 },
    });
    expect(awaitsOverdueSweep(inTime)).toBe(false);
  });

  it('is withdrawn when the due day moves, and the case waits for the sweep of its new due day', () => {
    const submitted = commit(
      undefined,
      changeOf({ status: 'submitted', statusAt: '2026-11-16T09:00:00+08:00', promisedDays: 1 }),
    ); // due 2026-11-17
    const marked = markOverdue(submitted, '2026-11-20') as CaseRecord;
    expect(marked.overdueDay).toBe('2026-11-18');
    const restarted = commit(marked, accepted('2026-11-20T09:00:00+08:00')); // due 2026-11-23
    expect(countedOverdueDay(restarted)).toBeUndefined();
    expect(awaitsOverdueSweep(restarted)).toBe(true);
    expect(
      plain(difference(contribution(restarted, options), contribution(marked, options)))[
        bucket('2026-11-18')
      ],
    ).toEqual({ overdue: -1 });
    expect(markOverdue(restarted, '2026-11-23')?.overdueDay).toBe('2026-11-24');
  });

  it('moves with the case when a further status corrects its item', () => {
    const marked = markOverdue(open(), '2026-11-24') as CaseRecord;
    const corrected = commit(marked, { ...completed('2026-11-26T10:00:00+08:00'), itemCode: OTHER_ITEM });
    const delta = plain(difference(contribution(corrected, options), contribution(marked, options)));
    expect(delta[bucket('2026-11-24')]).toEqual({ overdue: -1 });
    expect(delta[bucket('2026-11-24', OTHER_ITEM)]).toEqual({ overdue: 1 });
  });
});
