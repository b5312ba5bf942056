import { describe, expect, it } from 'vitest';
import {
  nextFireTime,
  parseScheduleExpression,
  ScheduleExpressionError,
  utcToZoned,
  zonedToUtc,
} from '../../../infra/local/cron';

const SHANGHAI = 'Asia/Shanghai';

/** Successive fire times, as ISO strings, starting strictly after `from`. */
function fireTimes(expression: string, from: string, count: number, timezone = SHANGHAI): string[] {
  const parsed = parseScheduleExpression(expression);
  const times: string[] = [];
  let after = new Date(from);
  for (let i = 0; i < count; i++) {
    const next = nextFireTime(parsed, after, timezone, new Date(from));
    if (!next) break;
    times.push(next.toISOString());
    after = next;
  }
  return times;
}

describe('cron expressions', () => {
  it('fires a daily job at 01:00 Shanghai time, which is 17:00 UTC the day before', () => {
    expect(fireTimes('cron(0 1 * * ? *)', '2026-11-21T10:00:00+08:00', 2)).toEqual([
      '2026-11-21T17:00:00.000Z',
      '2026-11-22T17:00:00.000Z',
    ]);
  });

  it('fires strictly after the given instant', () => {
    expect(fireTimes('cron(0 1 * * ? *)', '2026-11-22T01:00:00+08:00', 1)).toEqual([
      '2026-11-22T17:00:00.000Z',
    ]);
    expect(fireTimes('cron(0 1 * * ? *)', '2026-11-22T00:59:59.999+08:00', 1)).toEqual([
      '2026-11-21T17:00:00.000Z',
    ]);
  });

  it('expands lists, ranges and steps', () => {
    expect(fireTimes('cron(0/20 9-10 * * ? *)', '2026-01-05T08:00:00Z', 7, 'UTC')).toEqual([
      '2026-01-05T09:00:00.000Z',
      '2026-01-05T09:20:00.000Z',
      '2026-01-05T09:40:00.000Z',
      '2026-01-05T10:00:00.000Z',
      '2026-01-05T10:20:00.000Z',
      '2026-01-05T10:40:00.000Z',
      '2026-01-06T09:00:00.000Z',
    ]);
    expect(fireTimes('cron(5,35 */12 * * ? *)', '2026-01-05T00:00:00Z', 4, 'UTC')).toEqual([
      '2026-01-05T00:05:00.000Z',
      '2026-01-05T00:35:00.000Z',
      '2026-01-05T12:05:00.000Z',
      '2026-01-05T12:35:00.000Z',
    ]);
  });

  it('counts days of the week from Sunday = 1 and accepts names', () => {
    // 2026-11-21 is a Saturday.
    expect(fireTimes('cron(0 9 ? * 2-6 *)', '2026-11-21T00:00:00Z', 2, 'UTC')).toEqual([
      '2026-11-23T09:00:00.000Z',
      '2026-11-24T09:00:00.000Z',
    ]);
    expect(fireTimes('cron(0 9 ? * SUN *)', '2026-11-21T00:00:00Z', 1, 'UTC')).toEqual([
      '2026-11-22T09:00:00.000Z',
    ]);
    expect(fireTimes('cron(0 9 ? * MON-FRI *)', '2026-11-21T00:00:00Z', 1, 'UTC')).toEqual([
      '2026-11-23T09:00:00.000Z',
    ]);
  });

  it('skips months that lack the day and handles leap years', () => {
    expect(fireTimes('cron(0 0 31 * ? *)', '2026-01-31T12:00:00Z', 3, 'UTC')).toEqual([
      '2026-03-31T00:00:00.000Z',
      '2026-05-31T00:00:00.000Z',
      '2026-07-31T00:00:00.000Z',
    ]);
    expect(fireTimes('cron(0 0 29 FEB ? *)', '2026-01-01T00:00:00Z', 2, 'UTC')).toEqual([
      '2028-02-29T00:00:00.000Z',
      '2032-02-29T00:00:00.000Z',
    ]);
  });

  it('supports L as the last day of each month in the schedule time zone', () => {
    expect(fireTimes('cron(30 23 L * ? *)', '2026-01-31T23:30:00+08:00', 3)).toEqual([
      '2026-02-28T15:30:00.000Z',
      '2026-03-31T15:30:00.000Z',
      '2026-04-30T15:30:00.000Z',
    ]);
  });

  it('crosses the year end and stops when the years run out', () => {
    expect(fireTimes('cron(0 0 1 1 ? 2027-2028)', '2026-06-01T00:00:00Z', 5, 'UTC')).toEqual([
      '2027-01-01T00:00:00.000Z',
      '2028-01-01T00:00:00.000Z',
    ]);
  });

  it('keeps wall-clock time across a daylight-saving change', () => {
    // New York leaves daylight saving on 2026-11-01: 09:00 local is 13:00 UTC before, 14:00 UTC after.
    expect(fireTimes('cron(0 9 * * ? *)', '2026-10-31T00:00:00Z', 2, 'America/New_York')).toEqual([
      '2026-10-31T13:00:00.000Z',
      '2026-11-01T14:00:00.000Z',
    ]);
  });

  it.each([
    ['cron(0 1 * * * *)', 'exactly one of day-of-month and day-of-week'],
    ['cron(0 1 ? * ? *)', 'exactly one of day-of-month and day-of-week'],
    ['cron(0 1 * * ?)', 'six fields'],
    ['cron(60 1 * * ? *)', 'minutes value "60"'],
    ['cron(0 1 ? * 6L *)', 'L, W or #'],
    ['cron(0 1 15W * ? *)', 'L, W or #'],
    ['cron(0 1 ? * 2#1 *)', 'L, W or #'],
    ['cron(0 1 * FOO ? *)', 'month value "FOO"'],
    ['cron(0 5-1 * * ? *)', 'runs backwards'],
    ['rate(1 minutes)', 'singular'],
    ['rate(5 minute)', 'singular'],
    ['rate(0 minutes)', 'positive'],
    ['rate(5 weeks)', 'rate must be'],
    ['at(2026-02-30T00:00:00)', 'does not exist'],
    ['every day', 'expected cron'],
  ])('rejects %s clearly', (expression, reason) => {
    expect(() => parseScheduleExpression(expression)).toThrow(ScheduleExpressionError);
    expect(() => parseScheduleExpression(expression)).toThrow(reason);
  });
});

describe('rate expressions', () => {
  it('count whole periods from the anchor', () => {
    const rate = parseScheduleExpression('rate(5 minutes)');
    const anchor = new Date('2026-11-21T00:00:00Z');
    expect(nextFireTime(rate, anchor, SHANGHAI, anchor)?.toISOString()).toBe('2026-11-21T00:05:00.000Z');
    expect(nextFireTime(rate, new Date('2026-11-21T00:07:00Z'), SHANGHAI, anchor)?.toISOString()).toBe(
      '2026-11-21T00:10:00.000Z',
    );
    expect(nextFireTime(rate, new Date('2026-11-21T00:10:00Z'), SHANGHAI, anchor)?.toISOString()).toBe(
      '2026-11-21T00:15:00.000Z',
    );
  });

  it('accept hours and days', () => {
    expect(parseScheduleExpression('rate(1 hour)')).toEqual({ kind: 'rate', periodMs: 3_600_000 });
    expect(parseScheduleExpression('rate(2 days)')).toEqual({ kind: 'rate', periodMs: 172_800_000 });
  });
});

describe('at expressions', () => {
  it('fire once at the wall-clock time of the schedule time zone', () => {
    const at = parseScheduleExpression('at(2026-12-31T23:59:00)');
    expect(nextFireTime(at, new Date('2026-01-01T00:00:00Z'), SHANGHAI)?.toISOString()).toBe(
      '2026-12-31T15:59:00.000Z',
    );
    expect(nextFireTime(at, new Date('2026-12-31T15:59:00Z'), SHANGHAI)).toBeUndefined();
  });
});

describe('time zone conversion', () => {
  it('round-trips wall-clock time', () => {
    const local = { year: 2026, month: 3, day: 8, hour: 12, minute: 30, second: 15 };
    for (const timezone of [SHANGHAI, 'UTC', 'America/New_York', 'Asia/Kolkata', 'Asia/Kathmandu']) {
      expect(utcToZoned(zonedToUtc(local, timezone), timezone)).toEqual(local);
    }
  });

  it('rejects an unknown time zone', () => {
    const cron = parseScheduleExpression('cron(0 1 * * ? *)');
    expect(() => nextFireTime(cron, new Date(), 'Mars/Olympus')).toThrow('unknown time zone "Mars/Olympus"');
  });
});
