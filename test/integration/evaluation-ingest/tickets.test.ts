import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDeadlineSettings } from '../../../functions/evaluation-ingest/domain/deadlines';
import type { RectificationEvent, Ticket } from '../../../functions/evaluation-ingest/domain/ticket';
import {
  applyTransition,
  type TransitionRequest,
} from '../../../functions/evaluation-ingest/domain/transitions';
import {
  CursorError,
  createTicketStore,
  DUE_INDEX_SHARDS,
  dueShardOf,
  flushOutbox,
  openTicketItem,
  type TicketStore,
} from '../../../functions/evaluation-ingest/ticket-store';
import { localDynamo, scratchTables } from '../../support/dynamo';
import { ticketInput } from '../../unit/evaluation-ingest/ticket-fixtures';
import { createTicketsTable } from './tickets-table';

/** The tickets table against DynamoDB Local: the opening Put, versioned transitions, the outbox, the indexes. */
const { client, doc } = localDynamo();
const scratch = scratchTables(client);
let table: string;
let evaluations: string;
let store: TicketStore;
const published: RectificationEvent[] = [];
const publish = async (events: RectificationEvent[]) => {
  published.push(...events);
};

beforeAll(async () => {
  [table, evaluations] = await Promise.all([createTicketsTable(client), scratch.create('evaluations')]);
  store = createTicketStore({ doc, tableName: table });
});

afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: table }));
  await scratch.dropAll();
});

const settings = () => ({ tableName: table, deadlines: defaultDeadlineSettings });

/** Part A's transaction, reduced to its shape: the evaluation Put and the ticket Put together. */
const storeBadReview = (evaluationId: string, regionCode = '330106') =>
  doc.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: evaluations,
            Item: { pk: `EVAL#${evaluationId}`, sk: 'EVAL', level: 2 },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        openTicketItem(
          ticketInput({ evaluationId, regionCode, caseId: `${regionCode}:C-${evaluationId}` }),
          settings(),
        ),
      ],
    }),
  );

async function move(evaluationId: string, request: TransitionRequest, at: string): Promise<Ticket> {
  const ticket = await store.get(evaluationId);
  if (!ticket) throw new Error('no ticket');
  const outcome = applyTransition(ticket, request, {
    by: 'region-330000',
    at,
    correlationId: 'corr-int',
    settings: defaultDeadlineSettings,
  });
  if (!outcome.ok) throw new Error('refused');
  const saved = await store.save(outcome.ticket, ticket.version);
  if (!saved) throw new Error('stale');
  await flushOutbox(store, publish, saved);
  return saved;
}

async function dueIds(beforeDay: string): Promise<string[]> {
  const ids: string[] = [];
  for (let shard = 0; shard < DUE_INDEX_SHARDS; shard += 1) {
    ids.push(...(await store.queryDue(shard, beforeDay)).evaluationIds);
  }
  return ids;
}

describe('tickets table', () => {
  it('opens a ticket exactly once, in the evaluation transaction', async () => {
    await storeBadReview('once-1');
    await expect(storeBadReview('once-1')).rejects.toMatchObject({ name: 'TransactionCanceledException' });
    const ticket = await store.get('once-1');
    expect(ticket).toMatchObject({ status: 'open', version: 1, outbox: [], transitions: [] });
  });

  it('open → verified → rectified → revisited: events published, outbox emptied, out of the due index', async () => {
    await storeBadReview('life-1');
    expect(await dueIds('2026-11-18')).toContain('life-1');
    await move('life-1', { to: 'verified' }, '2026-11-17T10:00:00+08:00');
    await move('life-1', { to: 'rectified', note: '窗口已整改' }, '2026-11-20T10:00:00+08:00');
    const done = await move(
      'life-1',
      { to: 'revisited', reached: true, satisfaction: 'satisfied' },
      '2026-11-23T10:00:00+08:00',
    );
    expect(done.status).toBe('revisited');
    const stored = await store.get('life-1');
    expect(stored?.outbox).toEqual([]);
    expect(stored?.transitions.map((t) => t.to)).toEqual(['verified', 'rectified', 'revisited']);
    const mine = published.filter((e) => e.detail.evaluationId === 'life-1');
    expect(mine.map((e) => [e.detailType, e.detail.version, 'to' in e.detail && e.detail.to])).toEqual([
      ['RectificationTransitioned', 1, 'verified'],
      ['RectificationTransitioned', 1, 'rectified'],
      ['RectificationTransitioned', 1, 'revisited'],
    ]);
    expect(await dueIds('2030-01-01')).not.toContain('life-1');
  });

  it('appealed → dismissed keeps the decision and leaves the due index', async () => {
    await storeBadReview('appeal-1');
    await move('appeal-1', { to: 'appealed', note: '评价人误操作' }, '2026-11-16T15:00:00+08:00');
    await move('appeal-1', { to: 'dismissed', finding: 'mistaken' }, '2026-11-17T09:00:00+08:00');
    expect(await store.get('appeal-1')).toMatchObject({
      status: 'dismissed',
      dismissal: { finding: 'mistaken', by: 'region-330000', at: '2026-11-17T09:00:00+08:00' },
    });
    expect(await dueIds('2030-01-01')).not.toContain('appeal-1');
  });

  it('concurrent writes of one version: one wins, the other is stale', async () => {
    await storeBadReview('race-1');
    const ticket = await store.get('race-1');
    if (!ticket) throw new Error('no ticket');
    const at = '2026-11-17T10:00:00+08:00';
    const ctx = { by: 'region-330000', at, correlationId: 'c', settings: defaultDeadlineSettings };
    const verify = applyTransition(ticket, { to: 'verified' }, ctx);
    const appeal = applyTransition(ticket, { to: 'appealed' }, ctx);
    if (!verify.ok || !appeal.ok) throw new Error('refused');
    const results = await Promise.all([store.save(verify.ticket, 1), store.save(appeal.ticket, 1)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await store.get('race-1'))?.version).toBe(2);
  });

  it('a failed publication leaves the events in the outbox', async () => {
    await storeBadReview('fail-1');
    const failing = async () => {
      throw new Error('bus down');
    };
    const ticket = await store.get('fail-1');
    if (!ticket) throw new Error('no ticket');
    const outcome = applyTransition(
      ticket,
      { to: 'verified' },
      {
        by: 'region-330000',
        at: '2026-11-17T10:00:00+08:00',
        correlationId: 'c',
        settings: defaultDeadlineSettings,
      },
    );
    if (!outcome.ok) throw new Error('refused');
    const saved = await store.save(outcome.ticket, ticket.version);
    if (!saved) throw new Error('stale');
    await expect(flushOutbox(store, failing, saved)).rejects.toThrow('bus down');
    expect((await store.get('fail-1'))?.outbox.map((e) => e.key)).toEqual(['fail-1#1']);
    // Filed under the day of the event: the next day's sweep finds it.
    expect(await dueIds('2026-11-18')).toContain('fail-1');
  });

  it('spreads the due index over its shards', () => {
    const shards = new Set(Array.from({ length: 64 }, (_, i) => dueShardOf(`ev-${i}`)));
    expect(shards.size).toBe(DUE_INDEX_SHARDS);
  });
});

describe('listing', () => {
  let listStore: TicketStore;
  beforeAll(async () => {
    const listTable = await createTicketsTable(client);
    listStore = createTicketStore({ doc, tableName: listTable });
    const open = (evaluationId: string, regionCode: string) =>
      doc.send(
        new PutCommand(
          openTicketItem(ticketInput({ evaluationId, regionCode, caseId: `${regionCode}:${evaluationId}` }), {
            tableName: listTable,
            deadlines: defaultDeadlineSettings,
          }).Put,
        ),
      );
    await Promise.all([
      ...['330106', '330106', '330200', '330100', '330382'].map((region, i) => open(`zj-${i}`, region)),
      open('gd-0', '440106'),
      open('bj-0', '110105'),
    ]);
  });

  it('reads a province partition, filtered by region prefix', async () => {
    const all = await listStore.list({ provinces: ['330000'], limit: 50 });
    expect(all.tickets.map((t) => t.evaluationId).sort()).toEqual(['zj-0', 'zj-1', 'zj-2', 'zj-3', 'zj-4']);
    expect(all.cursor).toBeUndefined();
    const hangzhou = await listStore.list({ provinces: ['330000'], region: '330100', limit: 50 });
    expect(hangzhou.tickets.map((t) => t.regionCode).sort()).toEqual(['330100', '330106', '330106']);
    expect((await listStore.list({ provinces: ['330000'], status: 'verified', limit: 50 })).tickets).toEqual(
      [],
    );
    expect((await listStore.list({ provinces: ['330000'], overdue: true, limit: 50 })).tickets).toEqual([]);
  });

  it('pages across province partitions with a cursor, and refuses a cursor for another partition', async () => {
    const provinces = ['110000', '330000', '440000'];
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listStore.list({ provinces, limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.tickets.map((t) => t.evaluationId));
      cursor = page.cursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(seen.sort()).toEqual(['bj-0', 'gd-0', 'zj-0', 'zj-1', 'zj-2', 'zj-3', 'zj-4']);

    const first = await listStore.list({ provinces: ['330000'], limit: 1 });
    expect(first.cursor).toBeDefined();
    // A Zhejiang cursor replayed against a Guangdong-only listing.
    await expect(listStore.list({ provinces: ['440000'], limit: 1, cursor: first.cursor })).rejects.toThrow(
      CursorError,
    );
    await expect(listStore.list({ provinces: ['330000'], limit: 1, cursor: 'not-a-cursor' })).rejects.toThrow(
      CursorError,
    );
  });
});
