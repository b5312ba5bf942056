/**
 * Calendar days and working days as the assessment (考核) counts them: in Asia/Shanghai.
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
 * Weekends off, nothing else. Statutory holidays and their make-up working days (调休) are published
 * yearly by the State Council; a calendar backed by that list replaces this one without touching callers.
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
