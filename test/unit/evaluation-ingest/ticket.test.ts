import { describe, expect, it } from 'vitest';
import { rectificationOverdueV1 } from '../../../events/rectification-overdue.v1';
import { defaultDeadlineSettings } from '../../../functions/evaluation-ingest/domain/deadlines';
import {
  isOverdue,
  isResponsiblePlatform,
  markMissedDeadline,
  sweepIndexDay,
  toTicketView,
  withoutPublished,
} from '../../../functions/evaluation-ingest/domain/ticket';
import { openTicketItem, ticketsTableEnv } from '../../../functions/evaluation-ingest/ticket-store';
import { DEPARTMENT, EVALUATOR_HMAC, newTicket, ticketInput, transitioned } from './ticket-fixtures';

describe('opening a ticket', () => {
  it('opens for levels 1 and 2 only', () => {
    expect(newTicket({ level: 1 }).status).toBe('open');
    expect(() => newTicket({ level: 3 })).toThrow(RangeError);
    expect(() => newTicket({ level: 0 })).toThrow(RangeError);
  });

  it('gives part A one conditional Put for the evaluation transaction', () => {
    expect(ticketsTableEnv).toBe('TICKETS_TABLE');
    const put = openTicketItem(ticketInput(), { tableName: 'tickets', deadlines: defaultDeadlineSettings });
    expect(put.Put).toMatchObject({
      TableName: 'tickets',
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: {
        pk: 'TICKET#ev-0001',
        sk: 'TICKET',
        gsi1pk: 'RECT#330000',
        gsi1sk: 'open#2026-11-16T01:00:00.000Z#ev-0001',
        duesk: '2026-11-17#ev-0001',
        status: 'open',
        version: 1,
        overdue: false,
      },
    });
    expect(put.Put.Item.duepk).toMatch(/^RDUE#[0-7]$/);
  });
});

describe('the sweep on a ticket', () => {
  it('marks the running deadline once, after its due day, with one overdue event', () => {
    const open = newTicket();
    expect(markMissedDeadline(open, '2026-11-17', 'sweep-1')).toBeUndefined();
    const marked = markMissedDeadline(open, '2026-11-18', 'sweep-1');
    expect(marked?.deadlines.verify.overdueDay).toBe('2026-11-18');
    expect(marked && isOverdue(marked)).toBe(true);
    expect(marked?.outbox.map((entry) => rectificationOverdueV1.parse(entry.event.detail))).toEqual([
      expect.objectContaining({ stage: 'verify', dueDay: '2026-11-17', correlationId: 'sweep-1' }),
    ]);
    expect(marked && markMissedDeadline(marked, '2026-11-20', 'sweep-2')).toBeUndefined();
  });

  it('files the ticket under its running due day or its oldest unpublished event, and nothing when done', () => {
    const open = newTicket();
    expect(sweepIndexDay(open)).toBe('2026-11-17');
    const marked = markMissedDeadline(open, '2026-11-18', 'sweep-1');
    if (!marked) throw new Error('not marked');
    // Marked but unpublished: the event's day; published: out of the index until the next stage starts.
    expect(sweepIndexDay(marked)).toBe('2026-11-18');
    expect(sweepIndexDay(withoutPublished(marked, new Set(['ev-0001#verify'])))).toBeUndefined();
    const verified = transitioned(open, { to: 'verified' }, '2026-11-17T10:00:00+08:00');
    expect(sweepIndexDay(withoutPublished(verified, new Set(['ev-0001#1'])))).toBe('2026-12-08');
    expect(sweepIndexDay(verified)).toBe('2026-11-17');
  });

  it('keeps sweeping an appealed ticket: the clock does not stop', () => {
    const appealed = transitioned(newTicket(), { to: 'appealed' }, '2026-11-16T11:00:00+08:00');
    expect(markMissedDeadline(appealed, '2026-11-18', 's')?.deadlines.verify.overdueDay).toBe('2026-11-18');
  });
});

describe('responsibility and views', () => {
  const ticket = newTicket();
  it('the region platform of the province, or the ministry of the handling department', () => {
    expect(isResponsiblePlatform({ kind: 'region', regionCode: '330000' }, ticket)).toBe(true);
    expect(isResponsiblePlatform({ kind: 'region', regionCode: '440000' }, ticket)).toBe(false);
    expect(isResponsiblePlatform({ kind: 'ministry', departmentCode: DEPARTMENT }, ticket)).toBe(true);
    expect(isResponsiblePlatform({ kind: 'ministry', departmentCode: '11100000000013338W' }, ticket)).toBe(
      false,
    );
    expect(
      isResponsiblePlatform({ kind: 'issuer', regionCode: '330000', departmentCode: DEPARTMENT }, ticket),
    ).toBe(false);
  });

  it('shows neither the evaluator nor notes', () => {
    const verified = transitioned(
      ticket,
      { to: 'verified', note: '联系了 李四' },
      '2026-11-17T10:00:00+08:00',
    );
    const text = JSON.stringify(toTicketView(verified));
    expect(text).not.toContain(EVALUATOR_HMAC);
    expect(text).not.toContain('李四');
    expect(toTicketView(verified)).toMatchObject({ status: 'verified', overdue: { verify: false } });
  });
});
