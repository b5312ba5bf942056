import { addCalendarDays, type Day, isCalendarDay, shanghaiDay } from '../../../shared/calendar';

/**
 * Assessment periods: a calendar day `yyyy-mm-dd` or a calendar month `yyyy-mm`, both in Asia/Shanghai
 * (the statistics buckets are already keyed by the Shanghai day of each status).
 */
export type Month = string;
export type PeriodType = 'day' | 'month';
export interface Period {
  type: PeriodType;
  /** `yyyy-mm-dd` or `yyyy-mm`. */
  id: string;
}

const MONTH_PATTERN = /^\d{4}-\d{2}$/;
const DAY_MS = 24 * 60 * 60 * 1000;

export function isMonth(value: string): value is Month {
  return MONTH_PATTERN.test(value) && isCalendarDay(`${value}-01`);
}

export function parsePeriod(value: string): Period | undefined {
  if (isCalendarDay(value)) return { type: 'day', id: value };
  if (isMonth(value)) return { type: 'month', id: value };
  return undefined;
}

export const monthOf = (day: Day): Month => day.slice(0, 7);

/** The day before `now` in Asia/Shanghai: what the 01:00 schedule rolls up. */
export const yesterdayInShanghai = (now: Date): Day => addCalendarDays(shanghaiDay(now.getTime()), -1);

/** Days from `from` to `to`, both included; empty when `to` is before `from`. */
export function daysBetween(from: Day, to: Day): Day[] {
  const days: Day[] = [];
  for (let day = from; day <= to; day = addCalendarDays(day, 1)) days.push(day);
  return days;
}

/** Number of days from `from` to `to`, both included. */
export const dayCount = (from: Day, to: Day): number =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;

export function daysOfMonth(month: Month): Day[] {
  const first = `${month}-01`;
  const [year, monthNumber] = month.split('-').map(Number) as [number, number];
  // Day 0 of the next month is the last day of this one.
  const last = new Date(Date.UTC(year, monthNumber, 0)).toISOString().slice(0, 10);
  return daysBetween(first, last);
}

/** The distinct months the days fall in, in order. */
export function monthsOf(days: readonly Day[]): Month[] {
  return [...new Set(days.map(monthOf))].sort();
}

/**
 * Splits a day range into the calendar months it covers completely and the days left over at either end,
 * so a query can read a month's rollup instead of its thirty days.
 */
export function splitIntoMonths(from: Day, to: Day): { months: Month[]; days: Day[] } {
  const months: Month[] = [];
  const days: Day[] = [];
  for (const month of monthsOf(daysBetween(from, to))) {
    const all = daysOfMonth(month);
    const inside = all.filter((day) => day >= from && day <= to);
    if (inside.length === all.length) months.push(month);
    else days.push(...inside);
  }
  return { months, days };
}
