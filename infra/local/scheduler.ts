/**
 * The local EventBridge Scheduler: fires each enabled schedule of the template at its due times and
 * hands its target the schedule's Input, as the cloud service does. Times come from cron.ts; this file
 * only keeps one timer per schedule.
 */
import { nextFireTime, parseScheduleExpression, type ScheduleExpression } from './cron';
import type { HubModel, ResourceKey, ScheduleModel } from './model';
import type { TargetDelivery } from './targets';

export interface SchedulerOptions {
  model: HubModel;
  deliver: TargetDelivery;
  now?: () => Date;
  log?: (entry: Record<string, unknown>) => void;
}

export interface RunningScheduler {
  stop(): void;
  /** Fires a schedule now, outside its timetable (for tests and the CLI). */
  fire(key: ResourceKey): Promise<void>;
  /** The next due time, or undefined when the schedule is disabled or will not fire again. */
  next(key: ResourceKey): Date | undefined;
}

export const DEFAULT_SCHEDULE_TIMEZONE = 'Asia/Shanghai';
/** setTimeout's ceiling; longer waits are taken in several hops. */
const MAX_TIMER_MS = 2_147_483_647;

interface ActiveSchedule {
  model: ScheduleModel;
  expression: ScheduleExpression;
  timezone: string;
  startedAt: Date;
  due?: Date;
  timer?: NodeJS.Timeout;
}

export function startScheduler(options: SchedulerOptions): RunningScheduler {
  const now = options.now ?? (() => new Date());
  const log = options.log ?? logToStderr;
  let stopped = false;
  // Parse everything first so a bad expression fails the start, naming the schedule, before any timer runs.
  const schedules = new Map<ResourceKey, ActiveSchedule>(
    options.model.schedules.map((schedule) => [schedule.key, activate(schedule, now())]),
  );

  const deliver = async (schedule: ActiveSchedule) => {
    try {
      await options.deliver(schedule.model.target, schedulerInput(schedule.model));
    } catch (error) {
      log({
        level: 'ERROR',
        message: 'schedule delivery failed',
        schedule: schedule.model.key,
        error: String(error),
      });
    }
  };

  const arm = (schedule: ActiveSchedule, after: Date) => {
    schedule.due = schedule.model.enabled
      ? nextFireTime(schedule.expression, after, schedule.timezone, schedule.startedAt)
      : undefined;
    wait(schedule);
  };

  const wait = (schedule: ActiveSchedule) => {
    if (stopped || !schedule.due) return;
    const due = schedule.due;
    const delay = Math.min(Math.max(0, due.getTime() - now().getTime()), MAX_TIMER_MS);
    schedule.timer = setTimeout(() => {
      if (now().getTime() < due.getTime()) return wait(schedule);
      void deliver(schedule);
      arm(schedule, due);
    }, delay);
    schedule.timer.unref();
  };

  for (const schedule of schedules.values()) arm(schedule, schedule.startedAt);

  const find = (key: ResourceKey) => {
    const schedule = schedules.get(key);
    if (!schedule) throw new Error(`no schedule ${key} in the model`);
    return schedule;
  };
  return {
    stop: () => {
      stopped = true;
      for (const schedule of schedules.values()) clearTimeout(schedule.timer);
    },
    fire: async (key) => deliver(find(key)),
    next: (key) => find(key).due,
  };
}

function activate(schedule: ScheduleModel, startedAt: Date): ActiveSchedule {
  try {
    const expression = parseScheduleExpression(schedule.expression);
    const timezone = schedule.timezone || DEFAULT_SCHEDULE_TIMEZONE;
    nextFireTime(expression, startedAt, timezone);
    return { model: schedule, expression, timezone, startedAt };
  } catch (error) {
    throw new Error(`schedule ${schedule.key}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Scheduler sends the target's Input as the event; delivery applies `input` itself, so the event here is
 * that same Input, or an empty object when the template gives none.
 */
function schedulerInput(schedule: ScheduleModel): unknown {
  const target = schedule.target;
  if (target.kind === 'bus' || target.input === undefined) return {};
  try {
    return JSON.parse(target.input);
  } catch {
    return target.input;
  }
}

function logToStderr(entry: Record<string, unknown>): void {
  process.stderr.write(
    `${JSON.stringify({ component: 'scheduler', timestamp: new Date().toISOString(), ...entry })}\n`,
  );
}
