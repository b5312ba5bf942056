import { describe, expect, it } from 'vitest';
import {
  deadlineDay,
  shanghaiDay,
  type WorkingCalendar,
  weekendsOffCalendar,
} from '../../../shared/calendar';

describe('shanghaiDay', () => {
  it('is the calendar day in UTC+8, whatever offset the instant was written with', () => {
    expect(shanghaiDay('2026-11-20T15:59:59Z')).toBe('2026-11-20');
    expect(shanghaiDay('2026-11-20T16:00:00Z')).toBe('2026-11-21');
    expect(shanghaiDay('2026-11-21T00:30:00+08:00')).toBe('2026-11-21');
    expect(shanghaiDay('2026-11-20T12:00:00-05:00')).toBe('2026-11-21');
  });

  it('agrees with the time-zone database for Asia/Shanghai', () => {
    const format = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' });
    for (
      let ms = Date.parse('2025-12-30T00:00:00Z');
      ms < Date.parse('2026-01-03T00:00:00Z');
      ms += 37 * 60_000
    ) {
      expect(shanghaiDay(ms)).toBe(format.format(ms));
    }
  });
});

describe('deadlineDay with weekends off', () => {
  // 2026-11-20 is a Friday.
  it.each([
    ['2026-11-20', 0, '2026-11-20'],
    ['2026-11-20', 1, '2026-11-23'],
    ['2026-11-20', 5, '2026-11-27'],
    ['2026-11-21', 1, '2026-11-23'],
    ['2026-11-22', 2, '2026-11-24'],
    ['2026-11-16', 10, '2026-11-30'],
  ])('a limit starting %s of %i working days ends %s', (start, days, end) => {
    expect(deadlineDay(start, days, weekendsOffCalendar)).toBe(end);
  });

  it('skips the days a calendar declares off, holidays included', () => {
    const holidays = new Set(['2026-11-23', '2026-11-24']);
    const calendar: WorkingCalendar = {
      isWorkingDay: (day) => weekendsOffCalendar.isWorkingDay(day) && !holidays.has(day),
    };
    expect(deadlineDay('2026-11-20', 1, calendar)).toBe('2026-11-25');
  });

  it('refuses a calendar without working days instead of spinning', () => {
    expect(() => deadlineDay('2026-11-20', 1, { isWorkingDay: () => false })).toThrow(/no working days/);
  });
});
