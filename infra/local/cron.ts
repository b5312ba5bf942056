/**
 * EventBridge Scheduler's schedule expressions, parsed and stepped in the schedule's own time zone:
 * `cron(min hour day-of-month month day-of-week year)`, `rate(n unit)` and `at(yyyy-mm-ddThh:mm:ss)`.
 * Pure: no timers, no clock; the scheduler asks "what is the first fire time after t?".
 */

export interface CronExpression {
  kind: 'cron';
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  /** Undefined when the field is `?` (day-of-week decides). */
  daysOfMonth?: ReadonlySet<number>;
  /** Day-of-month `L`: the last day of each month. */
  lastDayOfMonth: boolean;
  months: ReadonlySet<number>;
  /** 1 = Sunday … 7 = Saturday, as in AWS; undefined when the field is `?`. */
  daysOfWeek?: ReadonlySet<number>;
  years: ReadonlySet<number>;
}

export interface RateExpression {
  kind: 'rate';
  periodMs: number;
}

export interface AtExpression {
  kind: 'at';
  local: LocalDateTime;
}

export type ScheduleExpression = CronExpression | RateExpression | AtExpression;

export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export class ScheduleExpressionError extends Error {
  constructor(expression: string, reason: string) {
    super(`invalid schedule expression "${expression}": ${reason}`);
    this.name = 'ScheduleExpressionError';
  }
}

export function parseScheduleExpression(expression: string): ScheduleExpression {
  const match = /^(cron|rate|at)\((.*)\)$/.exec(expression.trim());
  if (!match) throw new ScheduleExpressionError(expression, 'expected cron(...), rate(...) or at(...)');
  const [, kind, body = ''] = match;
  if (kind === 'rate') return parseRate(expression, body.trim());
  if (kind === 'at') return parseAt(expression, body.trim());
  return parseCron(expression, body.trim());
}

const RATE_UNITS_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

function parseRate(expression: string, body: string): RateExpression {
  const match = /^(\d+)\s+(minute|minutes|hour|hours|day|days)$/.exec(body);
  if (!match) throw new ScheduleExpressionError(expression, 'rate must be "n minute(s)|hour(s)|day(s)"');
  const value = Number(match[1]);
  const unit = match[2] as string;
  if (value < 1) throw new ScheduleExpressionError(expression, 'rate value must be positive');
  // AWS insists on the singular for 1 and the plural otherwise; accepting more would hide a deploy failure.
  if ((value === 1) !== !unit.endsWith('s')) {
    throw new ScheduleExpressionError(expression, 'use the singular unit for 1 and the plural otherwise');
  }
  return { kind: 'rate', periodMs: value * (RATE_UNITS_MS[unit.replace(/s$/, '')] as number) };
}

function parseAt(expression: string, body: string): AtExpression {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
  if (!match) throw new ScheduleExpressionError(expression, 'at must be yyyy-mm-ddThh:mm:ss');
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as number[];
  const local = { year, month, day, hour, minute, second } as LocalDateTime;
  const valid =
    local.month >= 1 &&
    local.month <= 12 &&
    local.day >= 1 &&
    local.day <= daysInMonth(local.year, local.month) &&
    local.hour <= 23 &&
    local.minute <= 59 &&
    local.second <= 59;
  if (!valid) throw new ScheduleExpressionError(expression, 'at names a date or time that does not exist');
  return { kind: 'at', local };
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS = {
  minutes: { name: 'minutes', min: 0, max: 59 },
  hours: { name: 'hours', min: 0, max: 23 },
  daysOfMonth: { name: 'day-of-month', min: 1, max: 31 },
  months: { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  daysOfWeek: { name: 'day-of-week', min: 1, max: 7, names: DAY_NAMES },
  years: { name: 'year', min: 1970, max: 2199 },
} satisfies Record<string, FieldSpec>;

function parseCron(expression: string, body: string): CronExpression {
  const parts = body.split(/\s+/);
  if (parts.length !== 6) {
    throw new ScheduleExpressionError(
      expression,
      'cron needs six fields: minutes hours day-of-month month day-of-week year',
    );
  }
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw new ScheduleExpressionError(expression, 'exactly one of day-of-month and day-of-week must be "?"');
  }
  const field = (text: string, spec: FieldSpec) => parseField(expression, text, spec);
  const lastDayOfMonth = dayOfMonth === 'L';
  return {
    kind: 'cron',
    minutes: field(minutes, FIELDS.minutes),
    hours: field(hours, FIELDS.hours),
    daysOfMonth: dayOfMonth === '?' || lastDayOfMonth ? undefined : field(dayOfMonth, FIELDS.daysOfMonth),
    lastDayOfMonth,
    months: field(month, FIELDS.months),
    daysOfWeek: dayOfWeek === '?' ? undefined : field(dayOfWeek, FIELDS.daysOfWeek),
    years: field(year, FIELDS.years),
  };
}

function parseField(expression: string, text: string, spec: FieldSpec): Set<number> {
  if (/[LW#]/i.test(text.replace(/[A-Z]{3}/gi, (name) => (isKnownName(name, spec) ? '' : name)))) {
    throw new ScheduleExpressionError(
      expression,
      `${spec.name} uses L, W or # in "${text}", which the local scheduler does not support`,
    );
  }
  const values = new Set<number>();
  for (const item of text.split(',')) {
    for (const value of expandItem(expression, item, spec)) values.add(value);
  }
  return values;
}

function isKnownName(name: string, spec: FieldSpec): boolean {
  return spec.names?.includes(name.toUpperCase()) ?? false;
}

/** One list item: `*`, `n`, `a-b`, each optionally `/step`; `n/step` runs from n to the field's maximum. */
function expandItem(expression: string, item: string, spec: FieldSpec): number[] {
  const [range = '', stepText, ...extra] = item.split('/');
  const step = stepText === undefined ? 1 : Number(stepText);
  if (extra.length > 0 || !Number.isInteger(step) || step < 1) {
    throw new ScheduleExpressionError(expression, `${spec.name} has a bad step in "${item}"`);
  }
  let from: number;
  let to: number;
  if (range === '*') {
    [from, to] = [spec.min, spec.max];
  } else if (range.includes('-')) {
    const [low = '', high = ''] = range.split('-');
    [from, to] = [fieldValue(expression, low, spec), fieldValue(expression, high, spec)];
    if (from > to)
      throw new ScheduleExpressionError(expression, `${spec.name} range "${range}" runs backwards`);
  } else {
    from = fieldValue(expression, range, spec);
    to = stepText === undefined ? from : spec.max;
  }
  const values: number[] = [];
  for (let value = from; value <= to; value += step) values.push(value);
  return values;
}

function fieldValue(expression: string, text: string, spec: FieldSpec): number {
  const byName = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  const value = byName >= 0 ? byName + 1 : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= spec.min && value <= spec.max)) {
    throw new ScheduleExpressionError(
      expression,
      `${spec.name} value "${text}" is outside ${spec.min}-${spec.max}`,
    );
  }
  return value;
}

/**
 * The first fire time strictly after `after`, or undefined when there is none (an `at` in the past, a cron
 * whose years have run out). A rate counts whole periods from `anchor`, the time the schedule started.
 */
export function nextFireTime(
  expression: ScheduleExpression,
  after: Date,
  timezone: string,
  anchor: Date = after,
): Date | undefined {
  assertTimezone(timezone);
  switch (expression.kind) {
    case 'rate': {
      const elapsed = Math.max(0, after.getTime() - anchor.getTime());
      const periods = Math.floor(elapsed / expression.periodMs) + 1;
      return new Date(anchor.getTime() + periods * expression.periodMs);
    }
    case 'at': {
      const at = zonedToUtc(expression.local, timezone);
      return at.getTime() > after.getTime() ? at : undefined;
    }
    case 'cron':
      return nextCronTime(expression, after, timezone);
  }
}

function nextCronTime(cron: CronExpression, after: Date, timezone: string): Date | undefined {
  const firstMinute = new Date(Math.floor(after.getTime() / 60_000) * 60_000 + 60_000);
  const start = utcToZoned(firstMinute, timezone);
  const hours = [...cron.hours].sort((a, b) => a - b);
  const minutes = [...cron.minutes].sort((a, b) => a - b);
  const lastYear = Math.max(...cron.years);
  let day = { year: start.year, month: start.month, day: start.day };
  let isStartDay = true;
  while (day.year <= lastYear) {
    if (!cron.years.has(day.year)) {
      day = { year: day.year + 1, month: 1, day: 1 };
    } else if (!cron.months.has(day.month)) {
      day =
        day.month === 12
          ? { year: day.year + 1, month: 1, day: 1 }
          : { ...day, month: day.month + 1, day: 1 };
    } else {
      if (dayMatches(cron, day.year, day.month, day.day)) {
        for (const hour of hours) {
          if (isStartDay && hour < start.hour) continue;
          for (const minute of minutes) {
            if (isStartDay && hour === start.hour && minute < start.minute) continue;
            const candidate = zonedToUtc({ ...day, hour, minute, second: 0 }, timezone);
            if (candidate.getTime() > after.getTime()) return candidate;
          }
        }
      }
      day = nextDay(day);
    }
    isStartDay = false;
  }
  return undefined;
}

function dayMatches(cron: CronExpression, year: number, month: number, day: number): boolean {
  if (cron.lastDayOfMonth) return day === daysInMonth(year, month);
  if (cron.daysOfMonth) return cron.daysOfMonth.has(day);
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
  return cron.daysOfWeek?.has(weekday) ?? false;
}

function nextDay(day: { year: number; month: number; day: number }) {
  const next = new Date(Date.UTC(day.year, day.month - 1, day.day + 1));
  return { year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() };
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, formatter);
  }
  return formatter;
}

export function assertTimezone(timezone: string): void {
  try {
    formatterFor(timezone);
  } catch {
    throw new Error(`unknown time zone "${timezone}"`);
  }
}

/** Wall-clock time in `timezone` at an instant. */
export function utcToZoned(instant: Date, timezone: string): LocalDateTime {
  const parts = Object.fromEntries(
    formatterFor(timezone)
      .formatToParts(instant)
      .map((part) => [part.type, Number(part.value)]),
  );
  return {
    year: parts.year as number,
    month: parts.month as number,
    day: parts.day as number,
    hour: parts.hour as number,
    minute: parts.minute as number,
    second: parts.second as number,
  };
}

function offsetMs(instant: number, timezone: string): number {
  const local = utcToZoned(new Date(instant), timezone);
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant a wall-clock time names in `timezone`. Around a daylight-saving change the offset is read
 * twice so the answer carries the offset in force at that instant; a time skipped by the change lands
 * just after it.
 */
export function zonedToUtc(local: LocalDateTime, timezone: string): Date {
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  const firstGuess = asUtc - offsetMs(asUtc, timezone);
  const secondOffset = offsetMs(firstGuess, timezone);
  return new Date(asUtc - secondOffset);
}
