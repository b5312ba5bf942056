import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  configuredCalendar,
  deadlineDay,
  holidayCalendarEnv,
  holidayCalendarSchema,
  isCalendarDay,
} from '../../../shared/calendar';
import { loadConfig } from '../../../shared/config';

// Made-up dates for the tests, not an official calendar: 2026-11-20 is a Friday.
const env = z.object({ HOLIDAY_CALENDAR: holidayCalendarEnv });
const calendarFrom = (value: string | undefined) =>
  loadConfig(env, value === undefined ? {} : { HOLIDAY_CALENDAR: value }).HOLIDAY_CALENDAR;

describe('HOLIDAY_CALENDAR', () => {
  it('defaults to weekends off when absent or empty', () => {
    for (const calendar of [calendarFrom(undefined), calendarFrom('  ')]) {
      expect(calendar.isWorkingDay('2026-11-20')).toBe(true);
      expect(calendar.isWorkingDay('2026-11-21')).toBe(false);
      expect(calendar.isWorkingDay('2026-11-22')).toBe(false);
    }
  });

  it('takes holidays off and makes make-up working days work', () => {
    const calendar = calendarFrom(JSON.stringify({ holidays: ['2026-11-23'], workdays: ['2026-11-21'] }));
    expect(calendar.isWorkingDay('2026-11-23')).toBe(false);
    expect(calendar.isWorkingDay('2026-11-21')).toBe(true);
    expect(calendar.isWorkingDay('2026-11-22')).toBe(false);
    expect(calendar.isWorkingDay('2026-11-24')).toBe(true);
  });

  it('accepts a calendar with only one of the lists', () => {
    expect(calendarFrom('{"holidays":["2026-11-24"]}').isWorkingDay('2026-11-24')).toBe(false);
    expect(calendarFrom('{"workdays":["2026-11-22"]}').isWorkingDay('2026-11-22')).toBe(true);
  });

  it.each([
    ['not JSON', '{holidays:'],
    ['an unknown member', '{"holiday":["2026-11-23"]}'],
    ['an impossible date', '{"holidays":["2026-02-30"]}'],
    ['another date format', '{"holidays":["2026/11/23"]}'],
    ['a make-up working day on a weekday', '{"workdays":["2026-11-23"]}'],
    ['a day both off and working', '{"holidays":["2026-11-21"],"workdays":["2026-11-21"]}'],
    ['a list that is not a list', '{"holidays":"2026-11-23"}'],
  ])('refuses %s, naming the variable only', (_what, value) => {
    expect(() => calendarFrom(value)).toThrow('Invalid or missing environment variables: HOLIDAY_CALENDAR');
  });

  it('explains what is wrong with a calendar', () => {
    const result = holidayCalendarSchema.safeParse({ holidays: ['2026-11-21'], workdays: ['2026-11-21'] });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toContain(
      'A day cannot be both a holiday and a make-up working day.',
    );
  });

  it('knows real calendar days', () => {
    expect(isCalendarDay('2028-02-29')).toBe(true);
    expect(isCalendarDay('2026-02-29')).toBe(false);
    expect(isCalendarDay('2026-13-01')).toBe(false);
    expect(isCalendarDay('26-11-01')).toBe(false);
  });
});

describe('deadlineDay with a configured calendar', () => {
  const calendar = configuredCalendar({
    holidays: ['2026-11-23', '2026-11-24', '2026-11-25'],
    workdays: ['2026-11-28'],
  });

  it.each([
    // Friday + 1: the weekend and three holidays skipped, Thursday.
    ['2026-11-20', 1, '2026-11-26'],
    // Friday + 3: Thursday, Friday, then the make-up Saturday.
    ['2026-11-20', 3, '2026-11-28'],
    // Friday + 4: Sunday is still off, so Monday.
    ['2026-11-20', 4, '2026-11-30'],
    // Starting on a holiday: the limit runs from the next working day.
    ['2026-11-24', 1, '2026-11-26'],
    // An immediate item ends on its start day, holiday or not.
    ['2026-11-23', 0, '2026-11-23'],
  ])('a limit starting %s of %i working days ends %s', (start, days, end) => {
    expect(deadlineDay(start, days, calendar)).toBe(end);
  });

  it('ends the same limit later when the make-up day is not configured', () => {
    const withoutWorkday = configuredCalendar({
      holidays: ['2026-11-23', '2026-11-24', '2026-11-25'],
      workdays: [],
    });
    expect(deadlineDay('2026-11-20', 3, withoutWorkday)).toBe('2026-11-30');
  });
});
