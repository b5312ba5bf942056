import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChangeProcessorDependencies,
  processChanges,
} from '../../../functions/case-aggregate/change-processor';
import type { ReceivedChange } from '../../../functions/case-aggregate/domain/batching';
import { applyChanges } from '../../../functions/case-aggregate/domain/case';
import type { CaseChange } from '../../../functions/case-aggregate/domain/change';
import type { CaseEvent } from '../../../functions/case-aggregate/domain/events';
import {
  contribution,
  defaultStatisticsOptions,
  difference,
} from '../../../functions/case-aggregate/domain/statistics';
import type { CaseStatus } from '../../../functions/case-aggregate/domain/status';
import { type CaseStore, createCaseStore } from '../../../functions/case-aggregate/store';
import { localDynamo, scratchTables } from '../../support/dynamo';
import { changeOf, ITEM, OTHER_ITEM, type Random, seededRandom } from '../../unit/case-aggregate/fixtures';
import { caseTableIndexes } from './case-table';

const { client, doc } = localDynamo();
const tables = scratchTables(client);
const SHARDS = 2;
const statistics = { ...defaultStatisticsOptions, shards: SHARDS };

/** A fresh pair of tables per scenario, so ground truths never mix. */
async function freshStore(): Promise<{ store: CaseStore; statsTable: string; casesTable: string }> {
  const casesTable = await tables.create('cases', { indexes: caseTableIndexes });
  const statsTable = await tables.create('stats');
  return { store: createCaseStore({ doc, casesTable, statsTable }), casesTable, statsTable };
}

afterAll(async () => {
  await tables.dropAll();
});

class RecordingPublisher {
  readonly events: CaseEvent[] = [];
  failNextCalls = 0;
  readonly publish = async (events: CaseEvent[]) => {
    if (this.failNextCalls > 0) {
      this.failNextCalls -= 1;
      throw new Error('bus unavailable');
    }
    this.events.push(...events);
  };
}

function processor(store: CaseStore, publisher: RecordingPublisher): ChangeProcessorDependencies {
  return {
    store,
    publish: publisher.publish,
    clock: () => new Date('2026-12-01T00:00:00Z'),
    statistics,
    sleep: async () => {},
    maxCommitAttempts: 4,
  };
}

let messageCounter = 0;
const nextMessageId = () => {
  messageCounter += 1;
  return `msg-${messageCounter}`;
};
const asMessages = (changes: CaseChange[]): ReceivedChange[] =>
  changes.map((change) => ({ messageId: nextMessageId(), change }));

/**
 * SQS in miniature: batches of up to 50, failed messages delivered again until none is left.
 * Returns how many deliveries it took.
 */
async function drain(deps: ChangeProcessorDependencies, messages: ReceivedChange[]): Promise<number> {
  let queue = messages;
  let rounds = 0;
  while (queue.length > 0) {
    rounds += 1;
    if (rounds > 30) throw new Error('messages keep failing');
    const failed: ReceivedChange[] = [];
    for (let i = 0; i < queue.length; i += 50) {
      const batch = queue.slice(i, i + 50);
      const report = await processChanges(deps, batch);
      failed.push(...batch.filter((m) => report.outcomes.get(m.messageId) !== undefined));
    }
    queue = failed;
  }
  return rounds;
}

// ---------------------------------------------------------------------------------------------------------------
// Ground truth, written independently of domain/statistics.ts: its own time zone handling (the Intl database),
// its own working-day count, and it compares sums over shards so it needs no knowledge of the shard hash.

interface GeneratedCase {
  caseNumber: string;
  regionCode: string;
  item: string;
  channel: CaseChange['channel'];
  fullyOnline: boolean;
  promisedDays: number;
  timeline: { status: CaseStatus; at: number }[];
}

const shanghai = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' });
const dayOf = (ms: number) => shanghai.format(ms);

function completedOnTime(startMs: number, completedMs: number, promisedDays: number): boolean {
  let day = new Date(`${dayOf(startMs)}T00:00:00Z`);
  let counted = 0;
  while (counted < promisedDays) {
    day = new Date(day.getTime() + 86_400_000);
    if (day.getUTCDay() !== 0 && day.getUTCDay() !== 6) counted += 1;
  }
  return dayOf(completedMs) <= day.toISOString().slice(0, 10);
}

type Totals = Map<string, Record<string, number>>;

function groundTruth(cases: GeneratedCase[]): Totals {
  const totals: Totals = new Map();
  const add = (c: GeneratedCase, ms: number, counter: string, value = 1) => {
    if (value === 0) return;
    const key = `${c.regionCode.slice(0, 2)}0000|${dayOf(ms)}|${c.regionCode}#D#${c.item}`;
    const counters = totals.get(key) ?? {};
    counters[counter] = (counters[counter] ?? 0) + value;
    totals.set(key, counters);
  };
  for (const c of cases) {
    const at = (status: CaseStatus) => c.timeline.find((t) => t.status === status)?.at;
    const earliest = Math.min(...c.timeline.map((t) => t.at));
    add(c, earliest, 'received');
    if (c.channel === 'online' || c.channel === 'mobile') add(c, earliest, 'online');
    if (c.fullyOnline) add(c, earliest, 'fullyOnline');
    for (const status of ['accepted', 'rejected', 'completed', 'terminated'] as const) {
      const ms = at(status);
      if (ms !== undefined) add(c, ms, status);
    }
    const completed = at('completed');
    const accepted = at('accepted');
    if (completed !== undefined) {
      if (completedOnTime(accepted ?? earliest, completed, c.promisedDays))
        add(c, completed, 'completedOnTime');
      if (accepted !== undefined)
        add(c, completed, 'processingCentihours', Math.round((completed - accepted) / 36_000));
    }
  }
  return totals;
}

async function storedTotals(statsTable: string): Promise<Totals> {
  const totals: Totals = new Map();
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new ScanCommand({ TableName: statsTable, ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? []) {
      expect(item.shard).toBeGreaterThanOrEqual(0);
      expect(item.shard).toBeLessThan(SHARDS);
      expect(item.pk).toBe(`STATS#${item.province}#${item.day}#${item.shard}`);
      const key = `${item.province}|${item.day}|${item.regionCode}#D#${item.itemCode}`;
      const counters = totals.get(key) ?? {};
      for (const [name, value] of Object.entries(item)) {
        if (typeof value !== 'number' || name === 'shard' || value === 0) continue;
        const counter = name === 'processingHours' ? 'processingCentihours' : name;
        const amount = name === 'processingHours' ? Math.round(value * 100) : value;
        counters[counter] = (counters[counter] ?? 0) + amount;
      }
      totals.set(key, counters);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  // Buckets whose counters all netted to zero (a received count moved to another day) say nothing.
  for (const [key, counters] of totals) {
    for (const [name, value] of Object.entries(counters)) if (value === 0) delete counters[name];
    if (Object.keys(counters).length === 0) totals.delete(key);
  }
  return totals;
}

const CHAINS: CaseStatus[][] = [
  ['submitted', 'rejected'],
  ['submitted', 'accepted', 'in_progress', 'completed'],
  ['submitted', 'accepted', 'in_progress', 'terminated'],
  ['accepted', 'completed'],
];

function generateCases(random: Random, count: number, prefix: string): GeneratedCase[] {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
  return Array.from({ length: count }, (_, i) => {
    const chain = pick(CHAINS);
    const kept = chain.filter(() => random() < 0.8);
    let at = Date.parse('2026-11-02T00:00:00Z') + Math.floor(random() * 20 * 86_400_000);
    return {
      caseNumber: `${prefix}-${i}`,
      regionCode: pick(['330106', '330102', '440106']),
      item: pick([ITEM, OTHER_ITEM]),
      channel: pick(['online', 'window', 'mobile', 'terminal'] as const),
      fullyOnline: random() < 0.5,
      promisedDays: Math.floor(random() * 4),
      timeline: (kept.length > 0 ? kept : chain).map((status) => {
        at += Math.floor(random() * 3 * 86_400_000);
        return { status, at };
      }),
    };
  });
}

function changesOf(c: GeneratedCase): CaseChange[] {
  return c.timeline.map(({ status, at }) =>
    changeOf({
      regionCode: c.regionCode,
      caseNumber: c.caseNumber,
      itemCode: c.item,
      channel: c.channel,
      fullyOnline: c.fullyOnline,
      promisedDays: c.promisedDays,
      status,
      statusAt: new Date(at).toISOString(),
    }),
  );
}

/** Each change 1–3 times, in random order. */
function deliveries(random: Random, cases: GeneratedCase[]): CaseChange[] {
  const copies = cases
    .flatMap(changesOf)
    .flatMap((change) => Array.from({ length: 1 + Math.floor(random() * 3) }, () => change));
  return copies
    .map((change) => ({ change, key: random() }))
    .sort((a, b) => a.key - b.key)
    .map(({ change }) => change);
}

/** Expected totals with the department folded to `D`, as storedTotals keys them. */
function normalise(totals: Totals): Record<string, Record<string, number>> {
  return Object.fromEntries([...totals].sort(([a], [b]) => a.localeCompare(b)));
}

async function storedTotalsNormalised(statsTable: string) {
  const totals = await storedTotals(statsTable);
  return normalise(totals);
}

// ---------------------------------------------------------------------------------------------------------------

describe('case store', () => {
  let store: CaseStore;
  beforeAll(async () => {
    ({ store } = await freshStore());
  });

  it('commits a case with its buckets, then refuses a write based on a stale version', async () => {
    const change = changeOf({
      caseNumber: 'STORE-1',
      status: 'accepted',
      statusAt: '2026-11-20T10:00:00+08:00',
    });
    const first = applyChanges(undefined, [change], '2026-11-21T00:00:00.000Z');
    const record = first.record;
    if (!record) throw new Error('no record');
    const delta = difference(contribution(record, statistics), contribution(undefined, statistics));
    const write = { caseId: record.caseId, expectedVersion: undefined, record, delta };
    const buckets = [...delta.values()];

    expect(await store.commit({ writes: [write], buckets })).toEqual({ committed: true });
    const loaded = await store.getCase(record.caseId);
    expect(loaded).toEqual({ ...record, version: 1 });
    expect((await store.loadCases([record.caseId, '330106:NOPE'])).get(record.caseId)).toEqual(loaded);

    // Someone else created the case meanwhile: the same "create" is now stale and writes nothing.
    expect(await store.commit({ writes: [write], buckets })).toEqual({
      committed: false,
      staleCaseIds: [record.caseId],
      contended: false,
    });
    const stale = { ...write, expectedVersion: 0 };
    expect(await store.commit({ writes: [stale], buckets })).toMatchObject({
      committed: false,
      staleCaseIds: [record.caseId],
    });
    expect((await store.getCase(record.caseId))?.version).toBe(1);
  });

  it('loads more cases than one BatchGetItem call takes', async () => {
    const changes = Array.from({ length: 130 }, (_, i) =>
      changeOf({ caseNumber: `MANY-${i}`, status: 'submitted', statusAt: '2026-11-20T10:00:00+08:00' }),
    );
    const publisher = new RecordingPublisher();
    await drain(processor(store, publisher), asMessages(changes));
    const loaded = await store.loadCases(changes.map((c) => c.caseId));
    expect(loaded.size).toBe(130);
  });
});

describe('change processor on DynamoDB Local', () => {
  it('counts every change once despite duplicates and shuffled delivery', async () => {
    const { store, statsTable } = await freshStore();
    const random = seededRandom(1);
    const cases = generateCases(random, 60, 'SHUF');
    const publisher = new RecordingPublisher();
    await drain(processor(store, publisher), asMessages(deliveries(random, cases)));

    expect(await storedTotalsNormalised(statsTable)).toEqual(normalise(groundTruth(cases)));
    for (const c of cases) {
      const stored = await store.getCase(`${c.regionCode}:${c.caseNumber}`);
      expect(stored?.timeline.map((t) => [t.status, Date.parse(t.at)])).toEqual(
        c.timeline.map((t) => [t.status, t.at]),
      );
      expect(stored?.conflicts).toEqual([]);
    }
    // Every applied change was announced at least once, and the first sight of every case.
    const changeIds = new Set(
      publisher.events.flatMap((e) => (e.detailType === 'CaseStatusChanged' ? [e.detail.changeId] : [])),
    );
    expect(changeIds.size).toBe(cases.reduce((n, c) => n + c.timeline.length, 0));
    const received = new Set(
      publisher.events.flatMap((e) => (e.detailType === 'CaseReceived' ? [e.detail.caseId] : [])),
    );
    expect(received.size).toBe(cases.length);
  });

  it('keeps the statistics exact with two consumers working on overlapping cases at once', async () => {
    const { store, statsTable } = await freshStore();
    const random = seededRandom(2);
    const cases = generateCases(random, 80, 'CONC');
    const first = deliveries(random, cases);
    const second = deliveries(random, cases.slice(20, 60));
    const publisher = new RecordingPublisher();

    await Promise.all([
      drain(processor(store, publisher), asMessages(first)),
      drain(processor(store, publisher), asMessages(second)),
    ]);

    expect(await storedTotalsNormalised(statsTable)).toEqual(normalise(groundTruth(cases)));
    const stored = await store.loadCases(cases.map((c) => `${c.regionCode}:${c.caseNumber}`));
    for (const c of cases) {
      const record = stored.get(`${c.regionCode}:${c.caseNumber}`);
      expect(record?.timeline.map((t) => t.status)).toEqual(c.timeline.map((t) => t.status));
    }
  });

  it('reloads and re-applies a case another consumer changed between read and commit', async () => {
    const { store, statsTable } = await freshStore();
    const publisher = new RecordingPublisher();
    const c: GeneratedCase = {
      caseNumber: 'RACE-1',
      regionCode: '330106',
      item: ITEM,
      channel: 'window',
      fullyOnline: false,
      promisedDays: 1,
      timeline: [
        { status: 'submitted', at: Date.parse('2026-11-19T01:00:00Z') },
        { status: 'accepted', at: Date.parse('2026-11-20T02:00:00Z') },
        { status: 'completed', at: Date.parse('2026-11-24T02:00:00Z') },
      ],
    };
    const [submitted, accepted, completed] = changesOf(c) as [CaseChange, CaseChange, CaseChange];
    await drain(processor(store, publisher), asMessages([accepted]));

    // Consumer B commits `submitted` after consumer A has read the case and before A commits `completed`.
    let raced = false;
    const racingStore: CaseStore = {
      ...store,
      commit: async (plan) => {
        if (!raced) {
          raced = true;
          await drain(processor(store, publisher), asMessages([submitted]));
        }
        return store.commit(plan);
      },
    };
    const report = await processChanges(processor(racingStore, publisher), asMessages([completed, accepted]));

    expect([...report.outcomes.values()]).toEqual([undefined, undefined]);
    expect(report.commitAttempts).toBe(2);
    const stored = await store.getCase('330106:RACE-1');
    expect(stored?.timeline.map((t) => t.status)).toEqual(['submitted', 'accepted', 'completed']);
    expect(stored?.version).toBe(3);
    expect(await storedTotalsNormalised(statsTable)).toEqual(normalise(groundTruth([c])));
  });

  it('records a conflicting change on the case, applies nothing of it and does not retry it', async () => {
    const { store, statsTable } = await freshStore();
    const publisher = new RecordingPublisher();
    const accepted = changeOf({
      caseNumber: 'CONF-1',
      status: 'accepted',
      statusAt: '2026-11-20T10:00:00+08:00',
    });
    const rejected = changeOf({
      caseNumber: 'CONF-1',
      status: 'rejected',
      statusAt: '2026-11-20T11:00:00+08:00',
    });
    await drain(processor(store, publisher), asMessages([accepted]));
    const before = await storedTotals(statsTable);

    const report = await processChanges(processor(store, publisher), asMessages([rejected, rejected]));
    expect([...report.outcomes.values()]).toEqual([undefined, undefined]);
    expect(report.conflicts).toEqual([
      { caseId: '330106:CONF-1', status: 'rejected', reason: 'incompatible_status' },
      { caseId: '330106:CONF-1', status: 'rejected', reason: 'incompatible_status' },
    ]);
    const stored = await store.getCase('330106:CONF-1');
    expect(stored?.timeline.map((t) => t.status)).toEqual(['accepted']);
    expect(stored?.conflicts).toEqual([
      expect.objectContaining({ status: 'rejected', reason: 'incompatible_status' }),
    ]);
    expect(await storedTotals(statsTable)).toEqual(before);
    expect(
      publisher.events.filter((e) => e.detailType === 'CaseStatusChanged' && e.detail.status === 'rejected'),
    ).toEqual([]);
  });

  it('fails the messages whose events were not published, and announces them on redelivery without recounting', async () => {
    const { store, statsTable } = await freshStore();
    const publisher = new RecordingPublisher();
    const c: GeneratedCase = {
      caseNumber: 'PUB-1',
      regionCode: '330106',
      item: ITEM,
      channel: 'online',
      fullyOnline: true,
      promisedDays: 2,
      timeline: [
        { status: 'accepted', at: Date.parse('2026-11-20T02:00:00Z') },
        { status: 'completed', at: Date.parse('2026-11-23T02:00:00Z') },
      ],
    };
    const messages = asMessages(changesOf(c));
    publisher.failNextCalls = 1;

    const report = await processChanges(processor(store, publisher), messages);
    expect([...report.outcomes.values()].every((outcome) => outcome instanceof Error)).toBe(true);
    expect(publisher.events).toEqual([]);
    expect((await store.getCase('330106:PUB-1'))?.timeline).toHaveLength(2);

    const redelivered = await processChanges(processor(store, publisher), messages);
    expect([...redelivered.outcomes.values()]).toEqual([undefined, undefined]);
    expect(redelivered.duplicates).toBe(2);
    expect(publisher.events.map((e) => e.detailType)).toEqual([
      'CaseReceived',
      'CaseStatusChanged',
      'CaseStatusChanged',
    ]);
    expect(await storedTotalsNormalised(statsTable)).toEqual(normalise(groundTruth([c])));
  });
});
