import * as z from 'zod';

/**
 * Calendar days and working days as the hub counts them (assessment deadlines, evaluation windows, rectification deadlines): in Asia/Shanghai.
 * China has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact for every
 * case the hub can receive and avoids a time-zone database lookup in the hot statistics path.
 */
const SHANGHAI_OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_SCANNED_DAYS = 20 * 366;

/** A calendar day `yyyy-mm-dd`. */
export type Day = string;

/** Decides which days count towards promised time limits (承诺时限). */
export interface WorkingCalendar {
  isWorkingDay(day: Day): boolean;
}

const dayToEpochMs = (day: Day): number => Date.parse(`${day}T00:00:00Z`);
const epochMsToDay = (ms: number): Day => new Date(ms).toISOString().slice(0, 10);

/** The Asia/Shanghai calendar day of an instant. */
export function shanghaiDay(instant: string | number): Day {
  const ms = typeof instant === 'number' ? instant : Date.parse(instant);
  return epochMsToDay(ms + SHANGHAI_OFFSET_MS);
}

export const addCalendarDays = (day: Day, days: number): Day =>
  epochMsToDay(dayToEpochMs(day) + days * DAY_MS);

/**
 * Weekends off, nothing else: the default. Statutory holidays and their make-up working days (调休) are
 * published yearly by the State Council and come in as configuration (`configuredCalendar` below).
 */
export const weekendsOffCalendar: WorkingCalendar = {
  isWorkingDay(day) {
    const weekday = new Date(dayToEpochMs(day)).getUTCDay();
    return weekday !== 0 && weekday !== 6;
  },
};

/**
 * The last day of a time limit of `workingDays` working days that starts on `start`. The start day
 * itself does not count (the limit runs from the next working day), and a limit of 0 — an immediate
 * item (即办件) — ends on the start day.
 */
export function deadlineDay(start: Day, workingDays: number, calendar: WorkingCalendar): Day {
  let day = start;
  for (let counted = 0, scanned = 0; counted < workingDays; scanned += 1) {
    // A calendar without working days would otherwise spin forever.
    if (scanned > MAX_SCANNED_DAYS) throw new Error('calendar has no working days ahead');
    day = addCalendarDays(day, 1);
    if (calendar.isWorkingDay(day)) counted += 1;
  }
  return day;
}

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
/** Whether `value` is a real calendar day written `yyyy-mm-dd`. */
export function isCalendarDay(value: string): value is Day {
  const ms = DAY_PATTERN.test(value) ? dayToEpochMs(value) : Number.NaN;
  return !Number.isNaN(ms) && epochMsToDay(ms) === value;
}
const isWeekend = (day: Day) => !weekendsOffCalendar.isWorkingDay(day);

export const calendarDaySchema = z
  .string()
  .refine(isCalendarDay, 'A day is a calendar date written yyyy-mm-dd.');

/**
 * The configured holiday calendar (`HOLIDAY_CALENDAR`): the statutory holidays (法定节假日) and the make-up
 * working days (调休) the State Council publishes each year. The hub ships no list — the operator copies the
 * official notice — so a typo must fail loudly at cold start rather than silently shift deadlines: unknown
 * members, impossible dates, a day listed as both, and a make-up working day that is not a weekend day are
 * all refused.
 */
export const holidayCalendarSchema = z
  .strictObject({
    holidays: z.array(calendarDaySchema).default([]),
    workdays: z
      .array(calendarDaySchema.refine(isWeekend, 'A make-up working day falls on a Saturday or a Sunday.'))
      .default([]),
  })
  .refine(({ holidays, workdays }) => !workdays.some((day) => holidays.includes(day)), {
    path: ['workdays'],
    message: 'A day cannot be both a holiday and a make-up working day.',
  });
export type HolidayCalendar = z.output<typeof holidayCalendarSchema>;

/** Weekends off, except the make-up working days; the holidays off as well. */
export function configuredCalendar({ holidays, workdays }: HolidayCalendar): WorkingCalendar {
  const offDays = new Set(holidays);
  const workingWeekendDays = new Set(workdays);
  return {
    isWorkingDay: (day) =>
      workingWeekendDays.has(day) || (!offDays.has(day) && weekendsOffCalendar.isWorkingDay(day)),
  };
}

/**
 * `HOLIDAY_CALENDAR` as an environment schema member: JSON `{ "holidays": [...], "workdays": [...] }`, or
 * absent for weekends only. Parsed once at cold start by loadConfig, which names the variable on failure.
 */
export const holidayCalendarEnv = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined || text.trim() === '') return {};
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'HOLIDAY_CALENDAR is not JSON.' });
      return z.NEVER;
    }
  })
  .pipe(holidayCalendarSchema)
  .transform(configuredCalendar);
