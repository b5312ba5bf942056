import * as z from 'zod';
import {
  type Day,
  deadlineDay,
  holidayCalendarEnv,
  shanghaiDay,
  type WorkingCalendar,
  weekendsOffCalendar,
} from '../../../shared/calendar';
import { positiveInt } from '../../../shared/config';

/**
 * The three deadlines of a rectification ticket (差评整改), in working days (Asia/Shanghai): verify (核实) counted
 * from the opening of the ticket, rectify (整改) from the verification, revisit (回访) from the rectification.
 * Deadlines are provincial policy, so every number is configuration; the defaults are the hub's (DOMAIN.md).
 */
export const STAGES = ['verify', 'rectify', 'revisit'] as const;
export type Stage = (typeof STAGES)[number];

export interface DeadlineSettings {
  verifyDays: number;
  fixDays: number;
  revisitDays: number;
  calendar: WorkingCalendar;
}

export const defaultDeadlineSettings: DeadlineSettings = {
  verifyDays: 1,
  fixDays: 15,
  revisitDays: 5,
  calendar: weekendsOffCalendar,
};

/** One deadline as it is stored on the ticket: fixed when its stage starts, never recomputed. */
export interface StageDeadline {
  /** The Asia/Shanghai day the stage started on (the start day itself does not count). */
  startDay: Day;
  /** The last day of the limit: a transition on or before it is in time. */
  dueDay: Day;
  /** When the transition that ends the stage was made. */
  metAt?: string;
  /** When the stage ended without its transition (the ticket was dismissed). */
  cancelledAt?: string;
  /** The day the miss was recorded on (the sweep's day, or the day of a late transition). Set once. */
  overdueDay?: Day;
}

const workingDaysOf = (stage: Stage, settings: DeadlineSettings): number =>
  ({ verify: settings.verifyDays, rectify: settings.fixDays, revisit: settings.revisitDays })[stage];

/** The deadline of `stage` starting at the instant `startedAt`. */
export function startDeadline(stage: Stage, startedAt: string, settings: DeadlineSettings): StageDeadline {
  const startDay = shanghaiDay(startedAt);
  return { startDay, dueDay: deadlineDay(startDay, workingDaysOf(stage, settings), settings.calendar) };
}

/** Still running: neither met nor cancelled. */
export const isRunning = (deadline: StageDeadline): boolean =>
  deadline.metAt === undefined && deadline.cancelledAt === undefined;

/** Whether a transition at `at` comes after the deadline's last day. */
export const isLate = (deadline: StageDeadline, at: string): boolean => shanghaiDay(at) > deadline.dueDay;

/**
 * A running deadline that a sweep as of `day` finds missed: its last day is before `day`. The sweep of day D
 * runs after D has begun, so every due day before D has ended.
 */
export const isMissedBy = (deadline: StageDeadline, day: Day): boolean =>
  isRunning(deadline) && deadline.overdueDay === undefined && deadline.dueDay < day;

/** The environment the deadlines come from (`HOLIDAY_CALENDAR` is the kernel's, shared with case aggregation). */
export const deadlineEnv = z.object({
  RECTIFY_VERIFY_DAYS: positiveInt(1),
  RECTIFY_FIX_DAYS: positiveInt(15),
  RECTIFY_REVISIT_DAYS: positiveInt(5),
  HOLIDAY_CALENDAR: holidayCalendarEnv,
});

export const deadlineSettingsOf = (config: z.output<typeof deadlineEnv>): DeadlineSettings => ({
  verifyDays: config.RECTIFY_VERIFY_DAYS,
  fixDays: config.RECTIFY_FIX_DAYS,
  revisitDays: config.RECTIFY_REVISIT_DAYS,
  calendar: config.HOLIDAY_CALENDAR,
});
