import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CaseWrite,
  groupByCase,
  planTransactions,
  type ReceivedChange,
} from '../../../functions/case-aggregate/domain/batching';
import type { CaseRecord } from '../../../functions/case-aggregate/domain/case';
import type { BucketKey, Contribution } from '../../../functions/case-aggregate/domain/statistics';
import { changeOf } from './fixtures';

describe('groupByCase', () => {
  it('gathers the changes of a case in arrival order, keeping their messages', () => {
    const received: ReceivedChange[] = [
      {
        messageId: 'm1',
        change: changeOf({ caseNumber: 'A', status: 'accepted', statusAt: '2026-11-20T10:00:00Z' }),
      },
      {
        messageId: 'm2',
        change: changeOf({ caseNumber: 'B', status: 'accepted', statusAt: '2026-11-20T10:00:00Z' }),
      },
      {
        messageId: 'm3',
        change: changeOf({ caseNumber: 'A', status: 'submitted', statusAt: '2026-11-20T09:00:00Z' }),
      },
    ];
    expect(groupByCase(received).map((g) => [g.caseId, g.changes.map((c) => c.messageId)])).toEqual([
      ['330106:A', ['m1', 'm3']],
      ['330106:B', ['m2']],
    ]);
  });
});

const bucketKey = (n: number): BucketKey => ({
  pk: `STATS#330000#2026-11-20#${n % 8}`,
  sk: `330106#D#I${n}`,
  province: '330000',
  day: '2026-11-20',
  shard: n % 8,
  regionCode: '330106',
  departmentCode: 'D',
  itemCode: `I${n}`,
});

function writeOf(caseId: string, buckets: number[]): CaseWrite {
  const delta: Contribution = new Map(
    buckets.map((n) => [
      `${bucketKey(n).pk}|${bucketKey(n).sk}`,
      { bucket: bucketKey(n), counters: { received: 1 } },
    ]),
  );
  return { caseId, expectedVersion: 1, record: { caseId } as CaseRecord, delta };
}

describe('planTransactions', () => {
  it('merges the increments of a bucket shared by several cases into one update', () => {
    const [plan, ...rest] = planTransactions([writeOf('a', [1, 2]), writeOf('b', [2, 3])]);
    expect(rest).toEqual([]);
    expect(plan?.writes.map((w) => w.caseId)).toEqual(['a', 'b']);
    expect(plan?.buckets.map((b) => [b.bucket.itemCode, b.counters.received])).toEqual([
      ['I1', 1],
      ['I2', 2],
      ['I3', 1],
    ]);
  });

  it('never exceeds the item limit, places every write once and every bucket once per transaction', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 0, maxLength: 8 }), {
          minLength: 1,
          maxLength: 120,
        }),
        fc.integer({ min: 9, max: 100 }),
        (bucketLists, maxItems) => {
          const writes = bucketLists.map((buckets, i) => writeOf(`case-${i}`, buckets));
          const plans = planTransactions(writes, maxItems);
          expect(plans.flatMap((p) => p.writes.map((w) => w.caseId))).toEqual(writes.map((w) => w.caseId));
          for (const plan of plans) {
            expect(plan.writes.length + plan.buckets.length).toBeLessThanOrEqual(maxItems);
            const ids = plan.buckets.map((b) => `${b.bucket.pk}|${b.bucket.sk}`);
            expect(new Set(ids).size).toBe(ids.length);
            const increments = plan.buckets.reduce((sum, b) => sum + (b.counters.received ?? 0), 0);
            expect(increments).toBe(plan.writes.reduce((sum, w) => sum + w.delta.size, 0));
          }
        },
      ),
    );
  });

  it('fits 50 changes of distinct cases into few transactions when they share buckets', () => {
    const writes = Array.from({ length: 50 }, (_, i) => writeOf(`case-${i}`, [i % 5, 10 + (i % 3)]));
    const plans = planTransactions(writes);
    expect(plans).toHaveLength(1);
    expect(plans[0]?.buckets).toHaveLength(8);
  });
});
