import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processEvaluations } from '../../../functions/evaluation-ingest/consumer';
import { burstKeysOf } from '../../../functions/evaluation-ingest/domain/abuse';
import type { EvaluationMessage } from '../../../functions/evaluation-ingest/domain/evaluation';
import { createEvaluationStore, voteKey } from '../../../functions/evaluation-ingest/evaluation-store';
import { localDynamo, scratchTables } from '../../support/dynamo';
import {
  deliveries,
  EVALUATOR_IDS,
  inMemoryBus,
  messageOf,
  observation,
  processorDeps,
  ticketOpener,
} from '../../unit/evaluation-ingest/ingest-fixtures';

const dynamo = localDynamo();
const tables = scratchTables(dynamo.client);
let evaluationsTable: string;
let ticketsTable: string;
const bus = inMemoryBus();
const abuse = { windowSeconds: 600, threshold: 20 };

beforeAll(async () => {
  [evaluationsTable, ticketsTable] = await Promise.all([
    tables.create('evaluations'),
    tables.create('tickets'),
  ]);
  const store = createEvaluationStore({ doc: dynamo.doc, evaluationsTable });
  await store.recordCaseStatus(observation('completed', '2026-11-19T16:00:00+08:00'), new Date());
  await store.recordCaseStatus(observation('completed', '2026-11-19T16:00:00+08:00', 'CMT-1'), new Date());
});

afterAll(() => tables.dropAll());

const deps = () =>
  processorDeps({
    store: createEvaluationStore({ doc: dynamo.doc, evaluationsTable }),
    publish: bus.publish,
    openTicket: ticketOpener(ticketsTable),
    clock: () => new Date('2026-11-20T03:06:00Z'),
    abuse,
  });

/** One evaluator each, all from one source within one window. */
const burst = (count: number, spec: Parameters<typeof messageOf>[0] = {}, offset = 0): EvaluationMessage[] =>
  EVALUATOR_IDS.slice(offset, offset + count).map((evaluatorId, i) =>
    messageOf({ evaluatorId, level: 5, receivedAt: `2026-11-20T03:0${i % 10}:00.000Z`, ...spec }),
  );

async function storedFlags(evaluationId: string): Promise<string[]> {
  const { Item } = await dynamo.doc.send(
    new GetCommand({ TableName: evaluationsTable, Key: voteKey(evaluationId), ConsistentRead: true }),
  );
  if (!Item) throw new Error(`vote ${evaluationId} not stored`);
  return Item.flags instanceof Set ? [...Item.flags].sort() : [];
}

/** The union of the flags announced for each evaluation id (subscribers keep the union). */
function announcedFlags(): Map<string, Set<string>> {
  const flags = new Map<string, Set<string>>();
  for (const detail of bus.received()) {
    const known = flags.get(detail.evaluationId) ?? new Set();
    for (const flag of detail.flags) known.add(flag);
    flags.set(detail.evaluationId, known);
  }
  return flags;
}

describe('bursts of identical top ratings', () => {
  it('flags all 50 identical 5-star ratings of one source, earlier ones included, and counts each once', async () => {
    const messages = burst(50, { clientId: 'region-330000' });
    // Two consumers at once, as Lambda would run them on two batches.
    const reports = await Promise.all([
      processEvaluations(deps(), deliveries(messages.slice(0, 25), 'a')),
      processEvaluations(deps(), deliveries(messages.slice(25), 'b')),
    ]);
    expect(reports.flatMap((r) => [...r.outcomes.values()]).every((o) => o === undefined)).toBe(true);
    expect(reports.reduce((sum, r) => sum + r.dispositions.vote, 0)).toBe(50);
    expect(reports.flatMap((r) => r.bursts)).toEqual([
      { source: 'region-330000', flag: 'burst_identical_top' },
    ]);

    for (const m of messages) expect(await storedFlags(m.evaluationId)).toEqual(['burst_identical_top']);
    const announced = announcedFlags();
    for (const m of messages)
      expect([...(announced.get(m.evaluationId) ?? [])]).toEqual(['burst_identical_top']);

    // The counter holds the evaluation ids up to the threshold, never the ratings' content.
    const [key] = burstKeysOf(messages[0] as EvaluationMessage, abuse);
    const { Items = [] } = await dynamo.doc.send(
      new QueryCommand({
        TableName: evaluationsTable,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `BURST#${key?.source}` },
      }),
    );
    expect(Items).toHaveLength(1);
    expect((Items[0]?.members as Set<string> | undefined)?.size).toBe(20);
  });

  it('changes nothing when the burst is delivered again', async () => {
    const messages = burst(50, { clientId: 'region-330000' });
    const before = bus.events.length;
    const report = await processEvaluations(deps(), deliveries(messages, 'replay'));
    expect(report.dispositions).toMatchObject({ vote: 0, duplicate: 50 });
    for (const m of messages) expect(await storedFlags(m.evaluationId)).toEqual(['burst_identical_top']);
    // Re-announced with the same flags: subscribers deduplicate on the evaluation id.
    const again = bus.received().slice(before);
    expect(new Set(again.map((d) => d.evaluationId))).toEqual(new Set(messages.map((m) => m.evaluationId)));
    expect(again.every((d) => d.flags.includes('burst_identical_top'))).toBe(true);
  });

  it('leaves ratings below the threshold, other sources, other windows and different comments unflagged', async () => {
    const otherSource = burst(19, { clientId: 'ministry-mps', stage: 'accepted' });
    const varied = burst(25, { stage: 'accepted' }, 50).map((m, i) => ({ ...m, comment: `第${i}次满意` }));
    // 19 more identical top ratings of the flagged source, in the next window.
    const nextWindow = burst(19, { stage: 'accepted' }, 19).map((m) => ({
      ...m,
      receivedAt: '2026-11-20T03:15:00.000Z',
    }));
    const all = [...otherSource, ...varied, ...nextWindow];
    const report = await processEvaluations(deps(), deliveries(all, 'mixed'));
    expect(report.dispositions.vote).toBe(all.length);
    expect(report.flagged).toBe(0);
    expect(report.bursts).toEqual([]);
    for (const m of all) expect(await storedFlags(m.evaluationId)).toEqual([]);
  });

  it('flags identical comments at any level as burst_identical_comment', async () => {
    const messages = burst(20, { level: 3, caseNumber: 'CMT-1', clientId: 'region-110000' }).map((m, i) => ({
      ...m,
      comment: i % 2 ? 'good' : '  GOOD ',
    }));
    const report = await processEvaluations(deps(), deliveries(messages, 'comments'));
    expect(report.dispositions.vote).toBe(20);
    for (const m of messages) expect(await storedFlags(m.evaluationId)).toEqual(['burst_identical_comment']);
  });
});
