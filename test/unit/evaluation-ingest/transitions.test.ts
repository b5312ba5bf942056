import { describe, expect, it } from 'vitest';
import { rectificationOverdueV1 } from '../../../events/rectification-overdue.v1';
import { rectificationTransitionedV1 } from '../../../events/rectification-transitioned.v1';
import { defaultDeadlineSettings } from '../../../functions/evaluation-ingest/domain/deadlines';
import type { Ticket, TicketStatus } from '../../../functions/evaluation-ingest/domain/ticket';
import {
  applyTransition,
  TRANSITION_TARGETS,
  type TransitionRequest,
  transitionRequestSchema,
} from '../../../functions/evaluation-ingest/domain/transitions';
import { newTicket, transitioned } from './ticket-fixtures';

const at = (day: string, time = '10:00:00') => `${day}T${time}+08:00`;
const request = (to: TransitionRequest['to']): TransitionRequest =>
  to === 'revisited'
    ? { to, reached: true, satisfaction: 'satisfied' }
    : to === 'dismissed'
      ? { to, finding: 'malicious' }
      : { to };

/** A ticket in each status, reached through allowed transitions. */
function ticketIn(status: TicketStatus): Ticket {
  const open = newTicket();
  const verified = transitioned(open, { to: 'verified' }, at('2026-11-17'));
  const rectified = transitioned(verified, { to: 'rectified' }, at('2026-11-20'));
  const appealed = transitioned(open, { to: 'appealed' }, at('2026-11-16', '11:00:00'));
  return {
    open,
    verified,
    rectified,
    revisited: transitioned(rectified, request('revisited'), at('2026-11-23')),
    appealed,
    dismissed: transitioned(appealed, request('dismissed'), at('2026-11-18')),
  }[status];
}

const ALLOWED: [TicketStatus, TicketStatus][] = [
  ['open', 'verified'],
  ['open', 'appealed'],
  ['verified', 'rectified'],
  ['verified', 'appealed'],
  ['rectified', 'revisited'],
  ['appealed', 'dismissed'],
  ['appealed', 'verified'],
];
const STATUSES: TicketStatus[] = ['open', 'verified', 'rectified', 'revisited', 'appealed', 'dismissed'];
const ALL_PAIRS = STATUSES.flatMap((from) => TRANSITION_TARGETS.map((to) => [from, to] as const));
const isAllowed = (from: TicketStatus, to: TicketStatus) => ALLOWED.some(([f, t]) => f === from && t === to);
const context = {
  by: 'region-330000',
  at: at('2026-11-24'),
  correlationId: 'corr-2',
  settings: defaultDeadlineSettings,
};

describe('the transition table', () => {
  it.each(ALL_PAIRS.filter(([from, to]) => isAllowed(from, to)))('%s → %s is allowed', (from, to) => {
    const outcome = applyTransition(ticketIn(from), request(to), context);
    expect(outcome.ok && outcome.ticket.status).toBe(to);
  });

  it.each(ALL_PAIRS.filter(([from, to]) => !isAllowed(from, to)))('%s → %s is refused', (from, to) => {
    const before = ticketIn(from);
    expect(applyTransition(before, request(to), context)).toEqual({
      ok: false,
      reason: 'transition_not_allowed',
      from,
      to,
    });
  });
});

describe('a ticket through its life', () => {
  it('open → verified → rectified → revisited, each deadline met in time, starting the next', () => {
    const open = newTicket();
    expect(open.deadlines).toEqual({ verify: { startDay: '2026-11-16', dueDay: '2026-11-17' } });
    const verified = transitioned(open, { to: 'verified', note: '已核实' }, at('2026-11-17'));
    expect(verified.deadlines.verify.metAt).toBe(at('2026-11-17'));
    expect(verified.deadlines.rectify).toEqual({ startDay: '2026-11-17', dueDay: '2026-12-08' });
    const rectified = transitioned(verified, { to: 'rectified' }, at('2026-11-20'));
    expect(rectified.deadlines.revisit).toEqual({ startDay: '2026-11-20', dueDay: '2026-11-27' });
    const revisited = transitioned(
      rectified,
      { to: 'revisited', reached: true, satisfaction: 'unsatisfied' },
      at('2026-11-23'),
    );
    expect(revisited.status).toBe('revisited');
    expect(revisited.revisit).toEqual({ reached: true, satisfaction: 'unsatisfied' });
    expect(revisited.transitions.map((t) => [t.sequence, t.from, t.to, t.by])).toEqual([
      [1, 'open', 'verified', 'region-330000'],
      [2, 'verified', 'rectified', 'region-330000'],
      [3, 'rectified', 'revisited', 'region-330000'],
    ]);
    expect(revisited.transitions[0]?.note).toBe('已核实');
  });

  it('puts one RectificationTransitioned per transition in the outbox, valid, without note or evaluator', () => {
    const verified = transitioned(
      newTicket(),
      { to: 'verified', note: '联系人 张三 13800000000' },
      at('2026-11-17'),
    );
    const revisited = transitioned(
      transitioned(verified, { to: 'rectified' }, at('2026-11-18')),
      { to: 'revisited', reached: true, satisfaction: 'satisfied' },
      at('2026-11-19'),
    );
    const details = revisited.outbox.map((entry) => rectificationTransitionedV1.parse(entry.event.detail));
    expect(details.map((d) => d.transitionId)).toEqual(['ev-0001#1', 'ev-0001#2', 'ev-0001#3']);
    expect(details[2]).toMatchObject({
      from: 'rectified',
      to: 'revisited',
      satisfaction: 'satisfied',
      reached: true,
    });
    expect(details[2]?.overdue).toEqual({ verify: false, rectify: false, revisit: false });
    const text = JSON.stringify(revisited.outbox);
    expect(text).not.toContain('张三');
    expect(text).not.toContain(revisited.evaluatorIdHmac);
  });

  it('a revisit that did not reach the evaluator records it without satisfaction', () => {
    const revisited = transitioned(
      ticketIn('rectified'),
      { to: 'revisited', reached: false },
      at('2026-11-23'),
    );
    expect(revisited.revisit).toEqual({ reached: false });
  });

  it('meeting a deadline late marks it overdue and announces it once', () => {
    // Verify was due 2026-11-17; verified on Thursday 19th.
    const verified = transitioned(newTicket(), { to: 'verified' }, at('2026-11-19'));
    expect(verified.deadlines.verify).toMatchObject({ metAt: at('2026-11-19'), overdueDay: '2026-11-19' });
    const [transition, overdue] = verified.outbox.map((entry) => entry.event);
    expect(transition?.detail).toMatchObject({ to: 'verified', overdue: { verify: true, rectify: false } });
    expect(rectificationOverdueV1.parse(overdue?.detail)).toMatchObject({
      overdueId: 'ev-0001#verify',
      stage: 'verify',
      dueDay: '2026-11-17',
    });
  });

  it('a deadline the sweep already marked is not announced again when met late', () => {
    const open = newTicket();
    const marked: Ticket = {
      ...open,
      deadlines: { verify: { ...open.deadlines.verify, overdueDay: '2026-11-18' } },
    };
    const verified = transitioned(marked, { to: 'verified' }, at('2026-11-19'));
    expect(verified.outbox.map((entry) => entry.event.detailType)).toEqual(['RectificationTransitioned']);
    expect(verified.deadlines.verify.overdueDay).toBe('2026-11-18');
  });

  it('appealed → dismissed keeps the finding and who decided, and ends the running deadline', () => {
    const appealed = transitioned(
      ticketIn('verified'),
      { to: 'appealed', note: '评价人误评' },
      at('2026-11-18'),
    );
    expect(appealed.appealedFrom).toBe('verified');
    // The clock keeps running during the appeal.
    expect(appealed.deadlines.rectify?.metAt).toBeUndefined();
    const outcome = applyTransition(
      appealed,
      { to: 'dismissed', finding: 'mistaken' },
      {
        ...context,
        by: 'region-330000',
        at: at('2026-11-19'),
      },
    );
    if (!outcome.ok) throw new Error('refused');
    const dismissed = outcome.ticket;
    expect(dismissed.dismissal).toEqual({ finding: 'mistaken', by: 'region-330000', at: at('2026-11-19') });
    expect(dismissed.deadlines.rectify).toMatchObject({ cancelledAt: at('2026-11-19') });
    expect(dismissed.appealedFrom).toBeUndefined();
    expect(dismissed.outbox.at(-1)?.event.detail).toMatchObject({
      from: 'appealed',
      to: 'dismissed',
      finding: 'mistaken',
    });
  });

  it('an appeal rejected from open verifies the ticket; from verified it keeps the running rectify deadline', () => {
    const fromOpen = transitioned(ticketIn('appealed'), { to: 'verified' }, at('2026-11-17'));
    expect(fromOpen.deadlines.verify.metAt).toBe(at('2026-11-17'));
    expect(fromOpen.deadlines.rectify?.startDay).toBe('2026-11-17');
    expect(fromOpen.appealedFrom).toBeUndefined();

    const verified = ticketIn('verified');
    const appealed = transitioned(verified, { to: 'appealed' }, at('2026-11-18'));
    const back = transitioned(appealed, { to: 'verified' }, at('2026-11-25'));
    expect(back.deadlines.rectify).toEqual(verified.deadlines.rectify);
  });
});

describe('the transition request', () => {
  const fails = (body: unknown) => transitionRequestSchema.safeParse(body).success === false;

  it('accepts what each target needs', () => {
    for (const body of [
      { to: 'verified' },
      { to: 'rectified', note: '已整改' },
      { to: 'revisited', reached: true, satisfaction: 'satisfied' },
      { to: 'revisited', reached: false },
      { to: 'appealed' },
      { to: 'dismissed', finding: 'malicious' },
    ]) {
      expect(transitionRequestSchema.safeParse(body).success).toBe(true);
    }
  });

  it('refuses a revisit without reached or satisfaction, and those fields elsewhere', () => {
    expect(fails({ to: 'revisited' })).toBe(true);
    expect(fails({ to: 'revisited', reached: true })).toBe(true);
    expect(fails({ to: 'revisited', reached: false, satisfaction: 'satisfied' })).toBe(true);
    expect(fails({ to: 'verified', satisfaction: 'satisfied' })).toBe(true);
    expect(fails({ to: 'rectified', reached: true })).toBe(true);
  });

  it('refuses a dismissal without a finding and a finding elsewhere', () => {
    expect(fails({ to: 'dismissed' })).toBe(true);
    expect(fails({ to: 'dismissed', finding: 'rude' })).toBe(true);
    expect(fails({ to: 'verified', finding: 'mistaken' })).toBe(true);
  });

  it('refuses unknown targets and members, and notes that are empty or too long', () => {
    expect(fails({ to: 'open' })).toBe(true);
    expect(fails({ to: 'closed' })).toBe(true);
    expect(fails({ to: 'verified', extra: 1 })).toBe(true);
    expect(fails({ to: 'verified', note: '   ' })).toBe(true);
    expect(fails({ to: 'verified', note: 'x'.repeat(2001) })).toBe(true);
  });
});
