import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processChanges } from '../../../functions/case-aggregate/change-processor';
import type { CaseChange } from '../../../functions/case-aggregate/domain/change';
import { DUE_INDEX_SHARDS } from '../../../functions/case-aggregate/domain/overdue';
import { type CaseStore, createCaseStore } from '../../../functions/case-aggregate/store';
import { dayToSweep, sweepOverdue } from '../../../functions/case-aggregate/sweep';
import { weekendsOffCalendar } from '../../../shared/calendar';
import { localDynamo, scratchTables } from '../../support/dynamo';
import { changeOf } from '../../unit/case-aggregate/fixtures';
import { caseTableIndexes } from './case-table';

/** The sweep against DynamoDB Local: the sparse due index, the version-conditioned mark and the ADD, exactly once. */
const { client, doc } = localDynamo();
const tables = scratchTables(client);
const statistics = { shards: 4, calendar: weekendsOffCalendar };
let casesTable: string;
let statsTable: string;
let store: CaseStore;

/** The cases table as CDK declares it: the keys-only applicant and due indexes. */
const createCasesTable = () => tables.create('cases', { indexes: caseTableIndexes });

beforeAll(async () => {
  [casesTable, statsTable] = await Promise.all([createCasesTable(), tables.create('stats')]);
  store = createCaseStore({ doc, casesTable, statsTable });
});

afterAll(async () => {
  await tables.dropAll();
});

let messages = 0;
async function deliver(...changes: CaseChange[]): Promise<void> {
  const report = await processChanges(
    { store, publish: async () => {}, clock: () => new Date('2026-12-10T00:00:00Z'), statistics },
    changes.map((change, i) => ({ messageId: `m-${messages + i}`, change })),
  );
  messages += changes.length;
  expect([...report.outcomes.values()].every((outcome) => outcome === undefined)).toBe(true);
}

const sweep = (day: string, target = store) =>
  sweepOverdue({ store: target, statistics, sleep: async () => {} }, day);

/** Overdue counters summed per day over every shard and dimension: what a rollup would read. */
async function overdueByDay(): Promise<Record<string, number>> {
  const { Items = [] } = await doc.send(new ScanCommand({ TableName: statsTable, ConsistentRead: true }));
  const byDay: Record<string, number> = {};
  for (const item of Items) {
    if (item.overdue) byDay[item.day as string] = (byDay[item.day as string] ?? 0) + (item.overdue as number);
  }
  return byDay;
}

async function indexedCaseIds(throughDay: string): Promise<string[]> {
  const ids: string[] = [];
  for (let shard = 0; shard < DUE_INDEX_SHARDS; shard += 1)
    ids.push(...(await store.queryDue(shard, throughDay)).caseIds);
  return ids.sort();
}

// 2026-11-20 is a Friday: with 1 promised working day, accepted cases are due Monday the 23rd.
const accepted = (caseNumber: string, statusAt = '2026-11-20T09:00:00+08:00', promisedDays = 1) =>
  changeOf({ caseNumber, status: 'accepted', statusAt, promisedDays });
const closing = (caseNumber: string, status: 'completed' | 'terminated', statusAt: string) =>
  changeOf({ caseNumber, status, statusAt, promisedDays: 1 });

describe('overdue sweep', () => {
  it('counts each case past its due day once, reading only those cases, however often it runs', async () => {
    await deliver(
      accepted('OPEN'),
      accepted('LATE'),
      closing('LATE', 'completed', '2026-11-25T10:00:00+08:00'),
      accepted('FUTURE', '2026-11-25T09:00:00+08:00', 5),
      changeOf({
        caseNumber: 'REJECTED',
        status: 'rejected',
        statusAt: '2026-11-20T09:00:00+08:00',
        promisedDays: 1,
      }),
      // Many cases closed in time: stored, but never offered to the sweep.
      ...Array.from({ length: 30 }, (_, i) => [
        accepted(`ON-TIME-${i}`),
        closing(`ON-TIME-${i}`, i % 2 ? 'completed' : 'terminated', '2026-11-23T16:00:00+08:00'),
      ]).flat(),
    );
    expect(await indexedCaseIds('2026-11-26')).toEqual(['330106:LATE', '330106:OPEN']);

    const first = await sweep('2026-11-26');
    expect(first).toEqual({ day: '2026-11-26', examined: 2, counted: 2, skipped: 0, failed: 0 });
    expect(await overdueByDay()).toEqual({ '2026-11-24': 2 });
    expect((await store.getCase('330106:OPEN'))?.overdueDay).toBe('2026-11-24');

    const second = await sweep('2026-11-26');
    expect(second).toEqual({ day: '2026-11-26', examined: 0, counted: 0, skipped: 0, failed: 0 });
    expect(await overdueByDay()).toEqual({ '2026-11-24': 2 });
    expect(await indexedCaseIds('2026-12-31')).toEqual(['330106:FUTURE']);
  });

  it('withdraws a count when the platform reports a completion dated in time after the sweep', async () => {
    await deliver(closing('OPEN', 'completed', '2026-11-23T17:00:00+08:00'));
    expect(await overdueByDay()).toEqual({ '2026-11-24': 1 });
    expect(await indexedCaseIds('2026-12-31')).toEqual(['330106:FUTURE']);
  });

  it('sweeps a case with a longer limit once its own due day has passed', async () => {
    // Accepted Wednesday 25th with 5 working days: due Wednesday 2 December.
    expect((await sweep('2026-12-01')).counted).toBe(0);
    expect((await sweep('2026-12-02')).counted).toBe(1);
    expect(await overdueByDay()).toEqual({ '2026-11-24': 1, '2026-12-03': 1 });
  });

  it('keeps the count exact when a consumer changes a case between the sweep reading and writing it', async () => {
    await deliver(accepted('RACE'));
    let interfered = false;
    const racing: CaseStore = {
      ...store,
      async commit(plan) {
        if (!interfered) {
          interfered = true;
          await deliver(
            changeOf({
              caseNumber: 'RACE',
              status: 'in_progress',
              statusAt: '2026-11-21T09:00:00+08:00',
              promisedDays: 1,
            }),
          );
        }
        return store.commit(plan);
      },
    };
    expect(await sweep('2026-11-30', racing)).toMatchObject({ examined: 1, counted: 1, failed: 0 });
    expect(await overdueByDay()).toEqual({ '2026-11-24': 2, '2026-12-03': 1 });
    const race = await store.getCase('330106:RACE');
    expect(race?.timeline.map((e) => e.status)).toEqual(['accepted', 'in_progress']);
    expect(race?.overdueDay).toBe('2026-11-24');
  });
});

describe('the day to sweep', () => {
  const now = new Date('2026-11-27T01:30:00+08:00');

  it('is yesterday in Asia/Shanghai by default', () => {
    expect(dayToSweep({}, now)).toBe('2026-11-26');
    expect(dayToSweep({}, new Date('2026-11-26T16:30:00Z'))).toBe('2026-11-26');
  });

  it('may be any ended day, and never today or later', () => {
    expect(dayToSweep({ day: '2026-10-01' }, now)).toBe('2026-10-01');
    expect(() => dayToSweep({ day: '2026-11-27' }, now)).toThrow(/only days before 2026-11-27/);
  });
});
