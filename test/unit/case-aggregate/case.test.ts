import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyChange,
  applyChanges,
  type CaseRecord,
  currentStatus,
  MAX_CONFLICTS,
} from '../../../functions/case-aggregate/domain/case';
import type { CaseChange } from '../../../functions/case-aggregate/domain/change';
import {
  CASE_STATUSES,
  type CaseStatus,
  canCoexist,
  comesBefore,
  stageOf,
} from '../../../functions/case-aggregate/domain/status';
import { changeOf, OTHER_ITEM } from './fixtures';

const NOW = '2026-11-21T03:00:00.000Z';

function build(changes: CaseChange[]): CaseRecord {
  const result = applyChanges(undefined, changes, NOW);
  if (!result.record) throw new Error('no record');
  return result.record;
}

describe('state machine', () => {
  it('orders the lifecycle as the design card draws it', () => {
    expect(comesBefore('submitted', 'accepted')).toBe(true);
    expect(comesBefore('submitted', 'rejected')).toBe(true);
    expect(comesBefore('accepted', 'completed')).toBe(true);
    expect(comesBefore('accepted', 'in_progress')).toBe(true);
    expect(comesBefore('in_progress', 'terminated')).toBe(true);
    expect(comesBefore('submitted', 'completed')).toBe(true);
    expect(comesBefore('completed', 'accepted')).toBe(false);
    expect(comesBefore('rejected', 'in_progress')).toBe(false);
    expect(CASE_STATUSES.map(stageOf)).toEqual([0, 1, 1, 2, 3, 3]);
  });

  it.each([
    ['accepted', 'rejected'],
    ['rejected', 'in_progress'],
    ['rejected', 'completed'],
    ['rejected', 'terminated'],
    ['completed', 'terminated'],
  ] as [CaseStatus, CaseStatus][])('%s and %s never share a timeline', (a, b) => {
    expect(canCoexist(a, b)).toBe(false);
    expect(canCoexist(b, a)).toBe(false);
  });

  it('lets every status share a timeline with submitted', () => {
    for (const status of CASE_STATUSES) expect(canCoexist('submitted', status)).toBe(true);
  });
});

describe('applyChange', () => {
  it('creates a case from its first change, whatever the status', () => {
    const result = applyChange(
      undefined,
      changeOf({ status: 'completed', statusAt: '2026-11-20T10:00:00+08:00' }),
      NOW,
    );
    expect(result.changed).toBe(true);
    expect(result.record).toMatchObject({
      caseId: '330106:ZJ-2026-0001',
      version: 0,
      timeline: [
        { status: 'completed', at: '2026-11-20T02:00:00.000Z', changeId: '330106:ZJ-2026-0001#completed' },
      ],
      firstSeenAt: NOW,
    });
    expect(result.outcomes[0]).toMatchObject({
      kind: 'applied',
      createsCase: true,
      currentStatus: 'completed',
    });
  });

  it('orders the timeline by lifecycle and reports the furthest status as current', () => {
    const record = build([
      changeOf({ status: 'completed', statusAt: '2026-11-22T10:00:00+08:00' }),
      changeOf({ status: 'submitted', statusAt: '2026-11-20T09:00:00+08:00' }),
      changeOf({ status: 'accepted', statusAt: '2026-11-20T10:00:00+08:00' }),
    ]);
    expect(record.timeline.map((e) => e.status)).toEqual(['submitted', 'accepted', 'completed']);
    expect(currentStatus(record)).toBe('completed');
  });

  it('treats the same status at the same instant as a duplicate that changes nothing', () => {
    const record = build([changeOf({ status: 'accepted', statusAt: '2026-11-20T10:00:00+08:00' })]);
    const again = changeOf({ status: 'accepted', statusAt: '2026-11-20T02:00:00Z', batchId: 'batch-2' });
    const result = applyChange(record, again, '2026-11-22T00:00:00.000Z');
    expect(result.changed).toBe(false);
    expect(result.record).toBe(record);
    expect(result.outcomes[0]).toMatchObject({
      kind: 'duplicate',
      createsCase: true,
      entry: record.timeline[0],
    });
  });

  it('marks only the duplicate of the creating change as re-announcing the case', () => {
    const record = build([
      changeOf({ status: 'submitted', statusAt: '2026-11-20T09:00:00+08:00' }),
      changeOf({ status: 'accepted', statusAt: '2026-11-20T10:00:00+08:00' }),
    ]);
    const dupAccepted = applyChange(
      record,
      changeOf({ status: 'accepted', statusAt: '2026-11-20T10:00:00+08:00' }),
      NOW,
    );
    const dupSubmitted = applyChange(
      record,
      changeOf({ status: 'submitted', statusAt: '2026-11-20T09:00:00+08:00' }),
      NOW,
    );
    expect(dupAccepted.outcomes[0]).toMatchObject({ kind: 'duplicate', createsCase: false });
    expect(dupSubmitted.outcomes[0]).toMatchObject({ kind: 'duplicate', createsCase: true });
  });

  it.each([
    ['accepted', 'rejected', '2026-11-20T11:00:00+08:00', 'incompatible_status'],
    ['rejected', 'accepted', '2026-11-20T11:00:00+08:00', 'incompatible_status'],
    ['terminated', 'completed', '2026-11-20T11:00:00+08:00', 'incompatible_status'],
    ['accepted', 'completed', '2026-11-20T09:00:00+08:00', 'status_time_out_of_order'],
    ['accepted', 'submitted', '2026-11-20T11:00:00+08:00', 'status_time_out_of_order'],
    ['accepted', 'accepted', '2026-11-20T11:00:00+08:00', 'status_time_differs'],
  ] as [CaseStatus, CaseStatus, string, string][])(
    'records %s then %s at %s as a conflict (%s) without applying it',
    (first, second, secondAt, reason) => {
      const record = build([changeOf({ status: first, statusAt: '2026-11-20T10:00:00+08:00' })]);
      const result = applyChange(
        record,
        changeOf({ status: second, statusAt: secondAt, batchId: 'batch-9' }),
        NOW,
      );
      expect(result.changed).toBe(true);
      expect(result.record?.timeline).toEqual(record.timeline);
      expect(result.record?.conflicts).toEqual([
        expect.objectContaining({
          status: second,
          reason,
          conflictsWith: first,
          batchId: 'batch-9',
          detectedAt: NOW,
        }),
      ]);
      expect(result.outcomes[0]).toMatchObject({ kind: 'conflict', recorded: true });
    },
  );

  it('records a redelivered conflicting change once', () => {
    const record = build([changeOf({ status: 'accepted', statusAt: '2026-11-20T10:00:00+08:00' })]);
    const rejected = changeOf({ status: 'rejected', statusAt: '2026-11-20T11:00:00+08:00' });
    const first = applyChange(record, rejected, NOW);
    const second = applyChange(first.record, rejected, NOW);
    expect(second.changed).toBe(false);
    expect(second.record?.conflicts).toHaveLength(1);
    expect(second.outcomes[0]).toMatchObject({ kind: 'conflict', recorded: false });
  });

  it(`keeps at most ${MAX_CONFLICTS} conflicts, the most recent`, () => {
    let record = build([changeOf({ status: 'accepted', statusAt: '2026-11-20T10:00:00+08:00' })]);
    for (let minute = 0; minute < MAX_CONFLICTS + 5; minute += 1) {
      const at = new Date(Date.parse('2026-11-20T03:00:00Z') + minute * 60_000).toISOString();
      record = applyChange(record, changeOf({ status: 'rejected', statusAt: at }), NOW).record as CaseRecord;
    }
    expect(record.conflicts).toHaveLength(MAX_CONFLICTS);
    expect(record.conflicts.at(-1)?.at).toBe('2026-11-20T03:24:00.000Z');
    expect(record.conflicts[0]?.at).toBe('2026-11-20T03:05:00.000Z');
  });

  it('takes the attributes of the furthest status, whatever arrives first', () => {
    const early = changeOf({
      status: 'accepted',
      statusAt: '2026-11-20T10:00:00+08:00',
      itemName: 'old name',
    });
    const late = changeOf({
      status: 'completed',
      statusAt: '2026-11-21T10:00:00+08:00',
      itemName: 'corrected name',
      itemCode: OTHER_ITEM,
      channel: 'window',
    });
    for (const order of [
      [early, late],
      [late, early],
    ]) {
      expect(build(order)).toMatchObject({
        itemName: 'corrected name',
        itemCode: OTHER_ITEM,
        channel: 'window',
      });
    }
  });
});

/** Valid timelines: a chain of the state machine with increasing times. */
const CHAINS: CaseStatus[][] = [
  ['submitted', 'rejected'],
  ['submitted', 'accepted', 'in_progress', 'completed'],
  ['submitted', 'accepted', 'in_progress', 'terminated'],
];

const timelineArb = fc
  .record({
    chain: fc.constantFrom(...CHAINS),
    keep: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    start: fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2026-12-01T00:00:00Z') }),
    gapsMinutes: fc.array(fc.integer({ min: 0, max: 5 * 24 * 60 }), { minLength: 4, maxLength: 4 }),
  })
  .map(({ chain, keep, start, gapsMinutes }) => {
    const statuses = chain.filter((_, i) => keep[i]);
    const chosen = statuses.length > 0 ? statuses : [chain[chain.length - 1] as CaseStatus];
    let at = start;
    return chosen.map((status, i) => {
      at += (gapsMinutes[i] ?? 0) * 60_000;
      return changeOf({ status, statusAt: new Date(at).toISOString(), itemName: `name at ${status}` });
    });
  });

describe('order independence', () => {
  it('ends with the same case for any delivery order of a valid timeline, duplicates included', () => {
    fc.assert(
      fc.property(
        timelineArb.chain((changes) =>
          fc.tuple(
            fc.constant(changes),
            fc.shuffledSubarray(
              changes.flatMap((c) => [c, c, c]),
              { minLength: changes.length * 3 },
            ),
            fc.array(fc.integer({ min: 1, max: 3 }), {
              minLength: changes.length,
              maxLength: changes.length,
            }),
          ),
        ),
        ([changes, tripled, copies]) => {
          // Each change delivered 1–3 times: drop the surplus copies from the shuffled triple delivery.
          const remaining = new Map(changes.map((c, i) => [c, copies[i] ?? 1]));
          const delivery = tripled.filter((c) => {
            const left = remaining.get(c) ?? 0;
            remaining.set(c, left - 1);
            return left > 0;
          });
          const inOrder = build(changes);
          const shuffled = build(delivery);
          expect(shuffled.timeline.map(({ status, at }) => ({ status, at }))).toEqual(
            inOrder.timeline.map(({ status, at }) => ({ status, at })),
          );
          expect(shuffled.conflicts).toEqual([]);
          expect(shuffled.itemName).toBe(inOrder.itemName);
        },
      ),
    );
  });
});
