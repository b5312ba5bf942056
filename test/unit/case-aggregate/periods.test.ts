import { describe, expect, it } from 'vitest';
import {
  dayCount,
  daysBetween,
  daysOfMonth,
  isMonth,
  monthsOf,
  parsePeriod,
  splitIntoMonths,
  yesterdayInShanghai,
} from '../../../functions/case-aggregate/domain/periods';
import { statsQuerySchema } from '../../../functions/case-aggregate/stats-api';

describe('periods', () => {
  it('are real calendar days or months', () => {
    expect(parsePeriod('2028-02-29')).toEqual({ type: 'day', id: '2028-02-29' });
    expect(parsePeriod('2026-02-29')).toBeUndefined();
    expect(parsePeriod('2026-1-2')).toBeUndefined();
    expect(isMonth('2026-11')).toBe(true);
    expect(isMonth('2026-13')).toBe(false);
    expect(parsePeriod('2026-11')).toEqual({ type: 'month', id: '2026-11' });
    expect(parsePeriod('2026-11-20')).toEqual({ type: 'day', id: '2026-11-20' });
    expect(parsePeriod('2026')).toBeUndefined();
  });

  it('takes yesterday in Asia/Shanghai, not in UTC', () => {
    // 2026-11-21 00:30 in Shanghai is still 2026-11-20 in UTC.
    expect(yesterdayInShanghai(new Date('2026-11-20T16:30:00Z'))).toBe('2026-11-20');
    expect(yesterdayInShanghai(new Date('2026-11-20T15:59:59Z'))).toBe('2026-11-19');
    expect(yesterdayInShanghai(new Date('2027-01-01T01:00:00+08:00'))).toBe('2026-12-31');
  });

  it('counts days and months across month and leap-year ends', () => {
    expect(daysBetween('2028-02-27', '2028-03-01')).toEqual([
      '2028-02-27',
      '2028-02-28',
      '2028-02-29',
      '2028-03-01',
    ]);
    expect(daysBetween('2026-11-02', '2026-11-01')).toEqual([]);
    expect(dayCount('2026-01-01', '2026-12-31')).toBe(365);
    expect(daysOfMonth('2026-02')).toHaveLength(28);
    expect(daysOfMonth('2026-12').at(-1)).toBe('2026-12-31');
    expect(monthsOf(['2026-12-31', '2026-11-30', '2026-12-01'])).toEqual(['2026-11', '2026-12']);
  });

  it('splits a range into whole months and the days left at its ends', () => {
    const split = splitIntoMonths('2026-10-30', '2027-01-02');
    expect(split.months).toEqual(['2026-11', '2026-12']);
    expect(split.days).toEqual(['2026-10-30', '2026-10-31', '2027-01-01', '2027-01-02']);
    expect(splitIntoMonths('2026-11-01', '2026-11-30')).toEqual({ months: ['2026-11'], days: [] });
  });
});

describe('statistics query range', () => {
  const parse = (from: string, to: string) => statsQuerySchema.safeParse({ from, to });

  it('covers at most 366 days, both ends included', () => {
    expect(parse('2025-11-21', '2026-11-21').success).toBe(true);
    expect(parse('2025-11-20', '2026-11-21').success).toBe(false);
    expect(parse('2026-11-21', '2026-11-21').success).toBe(true);
    expect(parse('2026-11-22', '2026-11-21').success).toBe(false);
  });
});
