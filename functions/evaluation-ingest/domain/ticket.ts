import { overdueIdOf, type RectificationOverdueV1 } from '../../../events/rectification-overdue.v1';
import type {
  RectificationTransitionedV1,
  rectificationStatusField,
} from '../../../events/rectification-transitioned.v1';
import type { Day } from '../../../shared/calendar';
import type { AuthenticatedClient } from '../../../shared/client-registry';
import { inRegionScope } from '../../../shared/regions';
import {
  type DeadlineSettings,
  isMissedBy,
  isRunning,
  STAGES,
  type Stage,
  type StageDeadline,
  startDeadline,
} from './deadlines';

/**
 * A rectification ticket (差评整改): opened for every bad review (levels 1–2), in the same transaction as the
 * evaluation, so exactly once. Its life:
 *
 *   open → verified → rectified → revisited (closed)
 *   open | verified → appealed → dismissed (the review was mistaken or malicious: it leaves the statistics)
 *                              → verified  (appeal rejected)
 *
 * Each step has a deadline (domain/deadlines.ts). An appeal does not stop the clock: the deadlines are the
 * department's, and a rejected appeal must not buy it time. A deadline met late, or found missed by the daily
 * sweep, is marked overdue exactly once and announced by one `RectificationOverdue`.
 *
 * Events leave through the ticket's outbox: they are written with the change that causes them, published after
 * the write, and removed once on the bus. A ticket whose outbox is not empty stays in the sweep's index, so an
 * event whose publication failed is sent by the next sweep — never lost, at worst sent twice (consumers dedupe
 * on the deterministic ids).
 */
export type TicketStatus = (typeof rectificationStatusField.options)[number];
export type Satisfaction = 'satisfied' | 'unsatisfied';
export type Finding = 'mistaken' | 'malicious';

export interface TicketTransition {
  /** 1 for the first transition: names the transition in its event (`{evaluationId}#{sequence}`). */
  sequence: number;
  from: TicketStatus;
  to: TicketStatus;
  /** Client id of the platform that made it. */
  by: string;
  at: string;
  /** Free text from the department: stored, shown to it, never logged and never in an event. */
  note?: string;
}

export type RectificationEvent =
  | { detailType: 'RectificationTransitioned'; detail: RectificationTransitionedV1 }
  | { detailType: 'RectificationOverdue'; detail: RectificationOverdueV1 };

export interface OutboxEntry {
  /** The event's dedupe key (transitionId or overdueId): what is removed once published. */
  key: string;
  /** The day it was written: the sweep picks it up from the next day on if it is still here. */
  day: Day;
  event: RectificationEvent;
}

export interface Ticket {
  evaluationId: string;
  caseId: string;
  regionCode: string;
  departmentCode: string;
  itemCode: string;
  level: 1 | 2;
  /** The evaluator, pseudonymised (for the revisit by the region's platform); never in an event or a view. */
  evaluatorIdHmac: string;
  status: TicketStatus;
  openedAt: string;
  /** Each stage's deadline, present from the moment the stage starts. */
  deadlines: { verify: StageDeadline; rectify?: StageDeadline; revisit?: StageDeadline };
  /** While appealed: the status the appeal was lodged from. */
  appealedFrom?: 'open' | 'verified';
  /** Set by `revisited`. */
  revisit?: { reached: boolean; satisfaction?: Satisfaction };
  /** Set by `dismissed`: the decision and who made it, kept for good. */
  dismissal?: { finding: Finding; by: string; at: string };
  transitions: TicketTransition[];
  outbox: OutboxEntry[];
  /** Optimistic lock: every write is conditioned on the version read. */
  version: number;
}

export interface OpenTicketInput {
  evaluationId: string;
  caseId: string;
  regionCode: string;
  departmentCode: string;
  itemCode: string;
  level: number;
  evaluatorIdHmac: string;
  openedAt: string;
}

/** A new ticket for a bad review: the verify deadline runs from the opening. */
export function openTicket(input: OpenTicketInput, settings: DeadlineSettings): Ticket {
  const { level } = input;
  // Only part A's ingest calls this, with a validated level: anything else is a programming error.
  if (level !== 1 && level !== 2)
    throw new RangeError('A rectification ticket is opened for levels 1–2 only.');
  return {
    ...input,
    level,
    status: 'open',
    deadlines: { verify: startDeadline('verify', input.openedAt, settings) },
    transitions: [],
    outbox: [],
    version: 1,
  };
}

/** The stage whose deadline is running, if any (at most one runs at a time). */
export function runningStage(ticket: Ticket): Stage | undefined {
  return STAGES.find((stage) => {
    const deadline = ticket.deadlines[stage];
    return deadline !== undefined && isRunning(deadline);
  });
}

export type OverdueFlags = Record<Stage, boolean>;

export const overdueFlags = (ticket: Ticket): OverdueFlags => ({
  verify: ticket.deadlines.verify.overdueDay !== undefined,
  rectify: ticket.deadlines.rectify?.overdueDay !== undefined,
  revisit: ticket.deadlines.revisit?.overdueDay !== undefined,
});

/** Some deadline of the ticket was missed. */
export const isOverdue = (ticket: Ticket): boolean => Object.values(overdueFlags(ticket)).some(Boolean);

/**
 * The day the sweep's index files the ticket under, or undefined when the sweep has nothing to do with it: the
 * earliest of the running deadline's last day (until it is marked) and the days of unpublished events.
 */
export function sweepIndexDay(ticket: Ticket): Day | undefined {
  const stage = runningStage(ticket);
  const deadline = stage && ticket.deadlines[stage];
  const days = [
    ...(deadline && deadline.overdueDay === undefined ? [deadline.dueDay] : []),
    ...ticket.outbox.map((entry) => entry.day),
  ];
  return days.length === 0 ? undefined : days.sort()[0];
}

export function overdueEntry(ticket: Ticket, stage: Stage, day: Day, correlationId: string): OutboxEntry {
  const deadline = ticket.deadlines[stage];
  if (!deadline) throw new Error(`no ${stage} deadline to report`);
  const detail: RectificationOverdueV1 = {
    version: 1,
    correlationId,
    overdueId: overdueIdOf(ticket.evaluationId, stage),
    evaluationId: ticket.evaluationId,
    caseId: ticket.caseId,
    stage,
    dueDay: deadline.dueDay,
    regionCode: ticket.regionCode,
    departmentCode: ticket.departmentCode,
    itemCode: ticket.itemCode,
  };
  return { key: detail.overdueId, day, event: { detailType: 'RectificationOverdue', detail } };
}

/**
 * The ticket as the sweep of `day` leaves it: its running deadline marked overdue with its event in the outbox,
 * or undefined when nothing is missed (not due yet, met, or marked already — which makes the sweep re-runnable).
 */
export function markMissedDeadline(ticket: Ticket, day: Day, correlationId: string): Ticket | undefined {
  const stage = runningStage(ticket);
  const deadline = stage && ticket.deadlines[stage];
  if (!stage || !deadline || !isMissedBy(deadline, day)) return undefined;
  const marked: Ticket = {
    ...ticket,
    deadlines: { ...ticket.deadlines, [stage]: { ...deadline, overdueDay: day } },
  };
  return { ...marked, outbox: [...ticket.outbox, overdueEntry(marked, stage, day, correlationId)] };
}

/** The ticket without the outbox entries that reached the bus. */
export const withoutPublished = (ticket: Ticket, keys: ReadonlySet<string>): Ticket => ({
  ...ticket,
  outbox: ticket.outbox.filter((entry) => !keys.has(entry.key)),
});

/**
 * Only the responsible department's platform moves a ticket: the region platform of the case's province, or
 * the ministry whose department handled the case.
 */
export function isResponsiblePlatform(
  client: Pick<AuthenticatedClient, 'kind' | 'regionCode' | 'departmentCode'>,
  ticket: Pick<Ticket, 'regionCode' | 'departmentCode'>,
): boolean {
  if (client.kind === 'region') {
    return client.regionCode !== undefined && inRegionScope(client.regionCode, ticket.regionCode);
  }
  if (client.kind === 'ministry') return client.departmentCode === ticket.departmentCode;
  return false;
}

/**
 * What the API shows of a ticket: no evaluator (not even pseudonymised: evaluator data is never passed on) and
 * no notes (free text that may name people; kept on the ticket for the audit trail).
 */
export function toTicketView(ticket: Ticket) {
  return {
    evaluationId: ticket.evaluationId,
    caseId: ticket.caseId,
    regionCode: ticket.regionCode,
    departmentCode: ticket.departmentCode,
    itemCode: ticket.itemCode,
    level: ticket.level,
    status: ticket.status,
    openedAt: ticket.openedAt,
    deadlines: ticket.deadlines,
    overdue: overdueFlags(ticket),
    ...(ticket.appealedFrom === undefined ? {} : { appealedFrom: ticket.appealedFrom }),
    ...(ticket.revisit === undefined ? {} : { revisit: ticket.revisit }),
    ...(ticket.dismissal === undefined ? {} : { dismissal: ticket.dismissal }),
    transitions: ticket.transitions.map(({ note: _note, ...transition }) => transition),
    version: ticket.version,
  };
}
export type TicketView = ReturnType<typeof toTicketView>;
