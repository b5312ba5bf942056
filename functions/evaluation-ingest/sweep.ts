import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { dynamoDbClients } from '../../shared/aws/dynamodb';
import { eventBridgeClients } from '../../shared/aws/eventbridge';
import { addCalendarDays, calendarDaySchema, type Day, shanghaiDay } from '../../shared/calendar';
import { loadConfig, requiredString } from '../../shared/config';
import { once } from '../../shared/entry';
import { logger, metrics } from '../../shared/observability';
import { markMissedDeadline, type Ticket } from './domain/ticket';
import {
  createTicketStore,
  DUE_INDEX_SHARDS,
  flushOutbox,
  loadTicketSettings,
  type PublishRectificationEvents,
  type TicketStore,
} from './ticket-store';

/**
 * The daily rectification sweep (scheduled; input `{ day? }`, default today in Asia/Shanghai). A deadline that
 * passes without its transition produces no request, so nothing else would notice it: the sweep reads the due
 * index for tickets filed under a day before the swept day, marks each missed running deadline overdue (once:
 * a marked deadline leaves the index) with its `RectificationOverdue` in the ticket's outbox, and publishes the
 * outbox — also events a failed publication left behind. Its work grows with the tickets that need it, never
 * with all tickets, and a second run finds nothing to do.
 */
export interface RectificationSweepDependencies {
  store: TicketStore;
  publish: PublishRectificationEvents;
  clock: () => Date;
  /** Write attempts per ticket when a transition races the sweep (default 3). */
  maxAttempts?: number;
  /**
   * Days after today (Asia/Shanghai) an explicit `day` may name (SWEEP_MAX_DAYS_AHEAD, default 0). Sweeping a day
   * that has not come marks deadlines that may still be met, so deployed stages leave it at 0; a test hub raises it
   * to play "the sweep on the day after the deadline" without moving any clock but the sweep's own.
   */
  maxDaysAhead?: number;
}

export interface RectificationSweepReport {
  day: Day;
  /** Tickets the index offered (each reloaded by key). */
  examined: number;
  /** Deadlines marked overdue by this run. */
  marked: number;
  /** Events put on the bus by this run (overdue events and events left behind by failed publications). */
  published: number;
  /** Tickets whose mark or publication failed: the next run takes them again. */
  failed: number;
}

/**
 * The scheduled input: the sweep's clock. Today may be swept (every earlier day has ended); a future day only
 * within `maxDaysAhead` (0 unless a stage or test hub sets SWEEP_MAX_DAYS_AHEAD).
 */
export const sweepInputSchema = z.strictObject({ day: calendarDaySchema.optional() });

export const MAX_SWEEP_DAYS_AHEAD = 366;

export function dayToSweep(input: z.output<typeof sweepInputSchema>, now: Date, maxDaysAhead = 0): Day {
  const today = shanghaiDay(now.getTime());
  const day = input.day ?? today;
  if (day > addCalendarDays(today, maxDaysAhead)) {
    throw new Error(`Cannot sweep ${day}: it is only ${today} in Asia/Shanghai.`);
  }
  return day;
}

export async function sweepRectifications(
  deps: RectificationSweepDependencies,
  day: Day,
  correlationId: string,
): Promise<RectificationSweepReport> {
  const report: RectificationSweepReport = { day, examined: 0, marked: 0, published: 0, failed: 0 };
  for (let shard = 0; shard < DUE_INDEX_SHARDS; shard += 1) {
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await deps.store.queryDue(shard, day, cursor);
      cursor = page.cursor;
      report.examined += page.evaluationIds.length;
      await Promise.all(page.evaluationIds.map((id) => sweepTicket(deps, id, day, correlationId, report)));
    } while (cursor);
  }
  return report;
}

async function sweepTicket(
  deps: RectificationSweepDependencies,
  evaluationId: string,
  day: Day,
  correlationId: string,
  report: RectificationSweepReport,
): Promise<void> {
  const marked = await markTicket(deps, evaluationId, day, correlationId);
  if (marked === 'failed') {
    report.failed += 1;
    return;
  }
  if (marked.changed) report.marked += 1;
  if (!marked.ticket) return;
  try {
    report.published += await flushOutbox(deps.store, deps.publish, marked.ticket);
  } catch (error) {
    logger.warn('rectification events not published; the next sweep retries', {
      evaluationId,
      error: (error as Error).name,
    });
    report.failed += 1;
  }
}

/** Marks the ticket's missed deadline, reloading it when a transition wrote it meanwhile. */
async function markTicket(
  deps: RectificationSweepDependencies,
  evaluationId: string,
  day: Day,
  correlationId: string,
): Promise<{ ticket: Ticket | undefined; changed: boolean } | 'failed'> {
  const attempts = deps.maxAttempts ?? 3;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const ticket = await deps.store.get(evaluationId);
    const marked = ticket && markMissedDeadline(ticket, day, correlationId);
    if (!ticket || !marked) return { ticket, changed: false };
    const saved = await deps.store.save(marked, ticket.version);
    if (saved) return { ticket: saved, changed: true };
  }
  return 'failed';
}

/** The sweep as Scheduler invokes it; the clock is injected so that tests choose "today". */
export function createSweepHandler(deps: () => Promise<RectificationSweepDependencies>) {
  return async (event: unknown): Promise<RectificationSweepReport> => {
    const parsed = sweepInputSchema.safeParse(event ?? {});
    if (!parsed.success) throw new Error('Invalid sweep input: expected { "day"?: "yyyy-mm-dd" }.');
    const resolved = await deps();
    const day = dayToSweep(parsed.data, resolved.clock(), resolved.maxDaysAhead);
    const report = await sweepRectifications(resolved, day, `rectification-sweep:${day}:${randomUUID()}`);
    logger.info('rectification sweep finished', { ...report });
    metrics.addMetric('RectificationDeadlinesOverdue', MetricUnit.Count, report.marked);
    metrics.addMetric('RectificationSweepFailures', MetricUnit.Count, report.failed);
    metrics.publishStoredMetrics();
    // Failing the invocation makes Scheduler retry (then dead-letter it); every run is safe to repeat.
    if (report.failed > 0)
      throw new Error(`${report.failed} rectification tickets not swept; run the sweep again.`);
    return report;
  };
}

const sweepEnv = z.object({
  EVENT_BUS_NAME: requiredString,
  SWEEP_MAX_DAYS_AHEAD: z.coerce.number().int().min(0).max(MAX_SWEEP_DAYS_AHEAD).default(0),
});

export const handler = createSweepHandler(
  // Built on first use, so that importing the module (tests, synth) needs no environment.
  once(async () => {
    const aws = { ...dynamoDbClients(), ...eventBridgeClients() };
    const { createEventPublisher } = await import('../../shared/events');
    const settings = loadTicketSettings();
    const config = loadConfig(sweepEnv);
    const publisher = createEventPublisher({
      client: aws.eventBridge,
      busName: config.EVENT_BUS_NAME,
      source: 'zwfw.evaluation-ingest',
    });
    return {
      maxDaysAhead: config.SWEEP_MAX_DAYS_AHEAD,
      store: createTicketStore({ doc: aws.documentClient, tableName: settings.tableName }),
      // The cast goes once the rectification events are in events/catalogue.ts.
      publish: async (events) => {
        await publisher.publish(events);
      },
      clock: () => new Date(),
    };
  }),
);
