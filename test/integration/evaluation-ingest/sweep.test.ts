import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rectificationOverdueV1 } from '../../../events/rectification-overdue.v1';
import { defaultDeadlineSettings } from '../../../functions/evaluation-ingest/domain/deadlines';
import type { RectificationEvent } from '../../../functions/evaluation-ingest/domain/ticket';
import { applyTransition } from '../../../functions/evaluation-ingest/domain/transitions';
import { createSweepHandler, dayToSweep } from '../../../functions/evaluation-ingest/sweep';
import {
  createTicketStore,
  openTicketItem,
  type PublishRectificationEvents,
  type TicketStore,
} from '../../../functions/evaluation-ingest/ticket-store';
import { localDynamo } from '../../support/dynamo';
import { ticketInput } from '../../unit/evaluation-ingest/ticket-fixtures';
import { createTicketsTable } from './tickets-table';

/** The daily sweep against DynamoDB Local, with the clock injected: each overdue deadline announced exactly once. */
const { client, doc } = localDynamo();
let table: string;
let store: TicketStore;

beforeAll(async () => {
  table = await createTicketsTable(client);
  store = createTicketStore({ doc, tableName: table });
});

afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: table }));
});

const open = (evaluationId: string, openedAt: string) =>
  doc.send(
    new PutCommand(
      openTicketItem(ticketInput({ evaluationId, openedAt }), {
        tableName: table,
        deadlines: defaultDeadlineSettings,
      }).Put,
    ),
  );

/** A sweep whose "now" is `instant` and whose bus is an array (or fails). */
function sweepAt(instant: string, publish: PublishRectificationEvents) {
  return createSweepHandler(async () => ({ store, publish, clock: () => new Date(instant) }));
}

function recorder() {
  const events: RectificationEvent[] = [];
  const publish: PublishRectificationEvents = async (batch) => {
    events.push(...batch);
  };
  return { events, publish };
}

const overdueOf = (events: RectificationEvent[], evaluationId: string) =>
  events.filter((e) => e.detailType === 'RectificationOverdue' && e.detail.evaluationId === evaluationId);

describe('rectification sweep', () => {
  it('marks a missed verify deadline once and emits RectificationOverdue once, even when run twice', async () => {
    // Opened Friday 2026-11-20: verify is due Monday 23rd.
    await open('late-1', '2026-11-20T10:00:00+08:00');
    const bus = recorder();

    const monday = await sweepAt('2026-11-23T00:30:00+08:00', bus.publish)({});
    expect(monday).toMatchObject({ day: '2026-11-23', marked: 0 });
    expect(overdueOf(bus.events, 'late-1')).toEqual([]);

    const tuesday = await sweepAt('2026-11-24T00:30:00+08:00', bus.publish)({});
    expect(tuesday).toMatchObject({ day: '2026-11-24', marked: 1, failed: 0 });
    const again = await sweepAt('2026-11-24T08:00:00+08:00', bus.publish)({});
    expect(again).toMatchObject({ marked: 0, published: 0 });
    await sweepAt('2026-11-30T00:30:00+08:00', bus.publish)({});

    const [overdue, ...more] = overdueOf(bus.events, 'late-1');
    expect(more).toEqual([]);
    expect(rectificationOverdueV1.parse(overdue?.detail)).toMatchObject({
      overdueId: 'late-1#verify',
      evaluationId: 'late-1',
      stage: 'verify',
      dueDay: '2026-11-23',
      regionCode: '330106',
    });
    const ticket = await store.get('late-1');
    expect(ticket?.deadlines.verify.overdueDay).toBe('2026-11-24');
    expect(ticket?.outbox).toEqual([]);
  });

  it('sweeps the next stage after a late verification, without announcing verify twice', async () => {
    await open('late-2', '2026-11-20T10:00:00+08:00');
    const bus = recorder();
    await sweepAt('2026-11-24T00:30:00+08:00', bus.publish)({});
    const marked = await store.get('late-2');
    if (!marked) throw new Error('no ticket');
    const verified = applyTransition(
      marked,
      { to: 'verified' },
      {
        by: 'region-330000',
        at: '2026-11-25T10:00:00+08:00',
        correlationId: 'c',
        settings: defaultDeadlineSettings,
      },
    );
    if (!verified.ok) throw new Error('refused');
    await store.save(verified.ticket, marked.version);
    // The transition's event waits in the outbox (not published here): the sweep of the next day sends it.
    await sweepAt('2026-11-26T00:30:00+08:00', bus.publish)({});
    // 15 working days from 2026-11-25: due 2026-12-16; the sweep of the 17th marks rectify.
    await sweepAt('2026-12-16T00:30:00+08:00', bus.publish)({});
    await sweepAt('2026-12-17T00:30:00+08:00', bus.publish)({});
    const kinds = bus.events
      .filter((e) => e.detail.evaluationId === 'late-2')
      .map((e) =>
        e.detailType === 'RectificationOverdue' ? `overdue:${e.detail.stage}` : `to:${e.detail.to}`,
      );
    expect(kinds).toEqual(['overdue:verify', 'to:verified', 'overdue:rectify']);
  });

  it('a failed publication is retried by the next run, and the deadline is not marked twice', async () => {
    await open('bus-1', '2026-11-20T10:00:00+08:00');
    const failing = sweepAt('2026-11-24T00:30:00+08:00', async () => {
      throw new Error('bus down');
    });
    await expect(failing({})).rejects.toThrow(/run the sweep again/);
    const afterFailure = await store.get('bus-1');
    expect(afterFailure?.deadlines.verify.overdueDay).toBe('2026-11-24');
    expect(afterFailure?.outbox.map((e) => e.key)).toEqual(['bus-1#verify']);

    const bus = recorder();
    const retry = await sweepAt('2026-11-25T00:30:00+08:00', bus.publish)({});
    expect(retry).toMatchObject({ marked: 0, failed: 0 });
    expect(overdueOf(bus.events, 'bus-1')).toHaveLength(1);
    expect((await store.get('bus-1'))?.outbox).toEqual([]);
  });

  it('sweeps a given day, defaults to today in Shanghai, and refuses the future or bad input', async () => {
    expect(dayToSweep({}, new Date('2026-11-23T16:30:00Z'))).toBe('2026-11-24');
    expect(dayToSweep({ day: '2026-11-01' }, new Date('2026-11-23T16:30:00Z'))).toBe('2026-11-01');
    expect(() => dayToSweep({ day: '2026-11-25' }, new Date('2026-11-23T16:30:00Z'))).toThrow(/Cannot sweep/);
    // SWEEP_MAX_DAYS_AHEAD moves the sweep's clock forward (test hubs), never further than it says.
    expect(dayToSweep({ day: '2026-12-04' }, new Date('2026-11-23T16:30:00Z'), 10)).toBe('2026-12-04');
    expect(() => dayToSweep({ day: '2026-12-05' }, new Date('2026-11-23T16:30:00Z'), 10)).toThrow(
      /Cannot sweep 2026-12-05/,
    );
    const bus = recorder();
    await expect(sweepAt('2026-11-24T00:30:00+08:00', bus.publish)({ day: '24/11/2026' })).rejects.toThrow(
      /Invalid sweep input/,
    );
  });
});
