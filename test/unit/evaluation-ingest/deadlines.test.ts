import { describe, expect, it } from 'vitest';
import {
  deadlineEnv,
  deadlineSettingsOf,
  defaultDeadlineSettings,
  isLate,
  isMissedBy,
  startDeadline,
} from '../../../functions/evaluation-ingest/domain/deadlines';
import { configuredCalendar } from '../../../shared/calendar';
import { ConfigError, loadConfig } from '../../../shared/config';

// The 2026 National Day holiday as an operator would configure it (the hub ships no list).
const nationalDay = configuredCalendar({
  holidays: ['2026-10-01', '2026-10-02', '2026-10-05', '2026-10-06', '2026-10-07'],
  workdays: ['2026-09-27', '2026-10-10'],
});
const withHolidays = { ...defaultDeadlineSettings, calendar: nationalDay };

describe('rectification deadlines', () => {
  it('verify: one working day after the opening day', () => {
    expect(startDeadline('verify', '2026-11-16T09:00:00+08:00', defaultDeadlineSettings)).toEqual({
      startDay: '2026-11-16',
      dueDay: '2026-11-17',
    });
  });

  it('counts days in Asia/Shanghai: an opening late on Friday UTC is already Saturday there', () => {
    // 17:00Z is Saturday 01:00 in Shanghai (start Saturday); 15:00Z is still Friday 23:00 there (start Friday).
    expect(startDeadline('verify', '2026-11-20T17:00:00Z', defaultDeadlineSettings)).toEqual({
      startDay: '2026-11-21',
      dueDay: '2026-11-23',
    });
    expect(startDeadline('verify', '2026-11-20T15:00:00Z', defaultDeadlineSettings).dueDay).toBe(
      '2026-11-23',
    );
  });

  it('skips weekends: verify on Friday is due on Monday, rectify spans three weeks', () => {
    expect(startDeadline('verify', '2026-11-20T10:00:00+08:00', defaultDeadlineSettings).dueDay).toBe(
      '2026-11-23',
    );
    // 15 working days from Friday 2026-11-20: three full weeks.
    expect(startDeadline('rectify', '2026-11-20T10:00:00+08:00', defaultDeadlineSettings).dueDay).toBe(
      '2026-12-11',
    );
    expect(startDeadline('revisit', '2026-11-20T10:00:00+08:00', defaultDeadlineSettings).dueDay).toBe(
      '2026-11-27',
    );
  });

  it('skips configured holidays and counts make-up working days (调休)', () => {
    // Opened Wednesday 2026-09-30: Oct 1–2 off, Oct 3–4 weekend, Oct 5–7 off, Thursday Oct 8 is the first working day.
    expect(startDeadline('verify', '2026-09-30T16:00:00+08:00', withHolidays).dueDay).toBe('2026-10-08');
    // Saturday 2026-09-26 opening: Sunday 27 is a make-up working day.
    expect(startDeadline('verify', '2026-09-26T10:00:00+08:00', withHolidays).dueDay).toBe('2026-09-27');
    // Revisit 5 working days from Oct 8: Oct 9, Sat Oct 10 (make-up), 12, 13, 14.
    expect(startDeadline('revisit', '2026-10-08T10:00:00+08:00', withHolidays).dueDay).toBe('2026-10-14');
    // Without the holiday configuration the same opening is due the next day.
    expect(startDeadline('verify', '2026-09-30T16:00:00+08:00', defaultDeadlineSettings).dueDay).toBe(
      '2026-10-01',
    );
  });

  it('late means after the due day in Shanghai; missed means a running deadline before the swept day', () => {
    const deadline = { startDay: '2026-11-16', dueDay: '2026-11-17' };
    expect(isLate(deadline, '2026-11-17T23:59:00+08:00')).toBe(false);
    expect(isLate(deadline, '2026-11-17T16:00:00Z')).toBe(true);
    expect(isMissedBy(deadline, '2026-11-17')).toBe(false);
    expect(isMissedBy(deadline, '2026-11-18')).toBe(true);
    expect(isMissedBy({ ...deadline, metAt: '2026-11-18T09:00:00+08:00' }, '2026-11-19')).toBe(false);
    expect(isMissedBy({ ...deadline, cancelledAt: '2026-11-18T09:00:00+08:00' }, '2026-11-19')).toBe(false);
    expect(isMissedBy({ ...deadline, overdueDay: '2026-11-18' }, '2026-11-19')).toBe(false);
  });

  it('reads its numbers and the holiday calendar from the environment', () => {
    const defaults = deadlineSettingsOf(loadConfig(deadlineEnv, {}));
    expect(defaults).toMatchObject({ verifyDays: 1, fixDays: 15, revisitDays: 5 });
    const configured = deadlineSettingsOf(
      loadConfig(deadlineEnv, {
        RECTIFY_VERIFY_DAYS: '2',
        RECTIFY_FIX_DAYS: '10',
        RECTIFY_REVISIT_DAYS: '3',
        HOLIDAY_CALENDAR: JSON.stringify({ holidays: ['2026-11-17'] }),
      }),
    );
    expect(configured).toMatchObject({ verifyDays: 2, fixDays: 10, revisitDays: 3 });
    // Monday opening, Tuesday off, two working days: Wednesday and Thursday.
    expect(startDeadline('verify', '2026-11-16T09:00:00+08:00', configured).dueDay).toBe('2026-11-19');
  });

  it('refuses a bad configuration, naming the variable', () => {
    expect(() => loadConfig(deadlineEnv, { RECTIFY_FIX_DAYS: '0' })).toThrow(ConfigError);
    expect(() => loadConfig(deadlineEnv, { HOLIDAY_CALENDAR: '{"holidays":["2026-02-30"]}' })).toThrow(
      /HOLIDAY_CALENDAR/,
    );
  });
});
