import * as z from 'zod';
import { transitionIdOf } from '../../../events/rectification-transitioned.v1';
import { shanghaiDay } from '../../../shared/calendar';
import { type DeadlineSettings, isLate, type Stage, type StageDeadline, startDeadline } from './deadlines';
import {
  type OutboxEntry,
  overdueEntry,
  overdueFlags,
  runningStage,
  type Ticket,
  type TicketStatus,
  type TicketTransition,
} from './ticket';

/** Where each status may go (domain/ticket.ts draws the machine). Terminal statuses go nowhere. */
export const TRANSITIONS: Readonly<Record<TicketStatus, readonly TicketStatus[]>> = {
  open: ['verified', 'appealed'],
  verified: ['rectified', 'appealed'],
  rectified: ['revisited'],
  appealed: ['dismissed', 'verified'],
  revisited: [],
  dismissed: [],
};

export const TRANSITION_TARGETS = ['verified', 'rectified', 'revisited', 'appealed', 'dismissed'] as const;
export const MAX_NOTE_LENGTH = 2000;

/**
 * The body of `POST /v1/rectifications/{evaluationId}/transitions`. What a target needs is checked here (422);
 * whether the ticket may take it now is the machine's (409).
 */
export const transitionRequestSchema = z
  .strictObject({
    to: z.enum(TRANSITION_TARGETS),
    note: z.string().trim().min(1).max(MAX_NOTE_LENGTH).optional(),
    reached: z.boolean().optional(),
    satisfaction: z.enum(['satisfied', 'unsatisfied']).optional(),
    finding: z.enum(['mistaken', 'malicious']).optional(),
  })
  .superRefine((request, ctx) => {
    const revisit = request.to === 'revisited';
    if (revisit && request.reached === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['reached'],
        message: 'A revisit says whether the evaluator was reached.',
      });
    }
    if (!revisit && request.reached !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['reached'], message: 'Only a revisit reaches the evaluator.' });
    }
    if (revisit && request.reached === true && request.satisfaction === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['satisfaction'],
        message: "A revisit that reached the evaluator records the evaluator's satisfaction.",
      });
    }
    if ((!revisit || request.reached !== true) && request.satisfaction !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['satisfaction'],
        message: 'Satisfaction is recorded only by a revisit that reached the evaluator.',
      });
    }
    if ((request.to === 'dismissed') !== (request.finding !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['finding'],
        message: 'A dismissal, and only a dismissal, states its finding: mistaken or malicious.',
      });
    }
  });
export type TransitionRequest = z.output<typeof transitionRequestSchema>;

export interface TransitionContext {
  /** Client id of the platform making the transition. */
  by: string;
  /** The hub's clock, ISO 8601. */
  at: string;
  correlationId: string;
  settings: DeadlineSettings;
}

export type TransitionOutcome =
  | { ok: true; ticket: Ticket }
  | { ok: false; reason: 'transition_not_allowed'; from: TicketStatus; to: TicketStatus };

export const mayTransition = (from: TicketStatus, to: TicketStatus): boolean =>
  TRANSITIONS[from].includes(to);

/**
 * Applies one transition: the status, what the target records, the deadlines it meets or starts, and its events
 * in the outbox (`RectificationTransitioned`, plus `RectificationOverdue` when it meets a deadline late that no
 * sweep had marked yet — so a missed deadline is announced once whether or not a sweep saw it first).
 */
export function applyTransition(
  ticket: Ticket,
  request: TransitionRequest,
  context: TransitionContext,
): TransitionOutcome {
  const from = ticket.status;
  const { to } = request;
  if (!mayTransition(from, to)) return { ok: false, reason: 'transition_not_allowed', from, to };

  const outbox: OutboxEntry[] = [];
  let next: Ticket = { ...ticket, status: to, deadlines: { ...ticket.deadlines } };
  const meet = (stage: Stage) => {
    const met = meetDeadline(next, stage, context.at);
    next = met.ticket;
    if (met.late) outbox.push(overdueEntry(next, stage, shanghaiDay(context.at), context.correlationId));
  };
  const start = (stage: Stage) => {
    next.deadlines[stage] = startDeadline(stage, context.at, context.settings);
  };

  if (to === 'verified' && (from === 'open' || ticket.appealedFrom === 'open')) {
    meet('verify');
    start('rectify');
  } else if (to === 'rectified') {
    meet('rectify');
    start('revisit');
  } else if (to === 'revisited') {
    meet('revisit');
    next.revisit = {
      reached: request.reached === true,
      ...(request.satisfaction === undefined ? {} : { satisfaction: request.satisfaction }),
    };
  } else if (to === 'appealed') {
    next.appealedFrom = from === 'open' ? 'open' : 'verified';
  } else if (to === 'dismissed') {
    next = cancelRunningDeadline(next, context.at);
    if (request.finding) next.dismissal = { finding: request.finding, by: context.by, at: context.at };
  }
  if (to !== 'appealed') next = withoutAppeal(next);

  const transition: TicketTransition = {
    sequence: ticket.transitions.length + 1,
    from,
    to,
    by: context.by,
    at: context.at,
    ...(request.note === undefined ? {} : { note: request.note }),
  };
  next.transitions = [...ticket.transitions, transition];
  next.outbox = [
    ...ticket.outbox,
    transitionEntry(next, transition, request, context.correlationId),
    ...outbox,
  ];
  return { ok: true, ticket: next };
}

function withoutAppeal({ appealedFrom: _appealedFrom, ...ticket }: Ticket): Ticket {
  return ticket;
}

function meetDeadline(ticket: Ticket, stage: Stage, at: string): { ticket: Ticket; late: boolean } {
  const deadline = ticket.deadlines[stage];
  if (!deadline) throw new Error(`no ${stage} deadline on a ticket in ${ticket.status}`);
  const late = isLate(deadline, at) && deadline.overdueDay === undefined;
  const met: StageDeadline = { ...deadline, metAt: at, ...(late ? { overdueDay: shanghaiDay(at) } : {}) };
  return { ticket: { ...ticket, deadlines: { ...ticket.deadlines, [stage]: met } }, late };
}

function cancelRunningDeadline(ticket: Ticket, at: string): Ticket {
  const stage = runningStage(ticket);
  const deadline = stage && ticket.deadlines[stage];
  if (!stage || !deadline) return ticket;
  return { ...ticket, deadlines: { ...ticket.deadlines, [stage]: { ...deadline, cancelledAt: at } } };
}

function transitionEntry(
  ticket: Ticket,
  transition: TicketTransition,
  request: TransitionRequest,
  correlationId: string,
): OutboxEntry {
  const transitionId = transitionIdOf(ticket.evaluationId, transition.sequence);
  return {
    key: transitionId,
    day: shanghaiDay(transition.at),
    event: {
      detailType: 'RectificationTransitioned',
      detail: {
        version: 1,
        correlationId,
        transitionId,
        evaluationId: ticket.evaluationId,
        caseId: ticket.caseId,
        regionCode: ticket.regionCode,
        departmentCode: ticket.departmentCode,
        itemCode: ticket.itemCode,
        level: ticket.level,
        from: transition.from,
        to: transition.to,
        by: transition.by,
        at: transition.at,
        ...(ticket.revisit && transition.to === 'revisited' ? { reached: ticket.revisit.reached } : {}),
        ...(request.satisfaction === undefined ? {} : { satisfaction: request.satisfaction }),
        ...(request.finding === undefined ? {} : { finding: request.finding }),
        overdue: overdueFlags(ticket),
      },
    },
  };
}
