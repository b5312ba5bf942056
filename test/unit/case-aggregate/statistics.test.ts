import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyChange, type CaseRecord } from '../../../functions/case-aggregate/domain/case';
import type { CaseChange } from '../../../functions/case-aggregate/domain/change';
import { withDueDate } from '../../../functions/case-aggregate/domain/due';
import { closedBy, countedOverdueDay, markOverdue } from '../../../functions/case-aggregate/domain/overdue';
import {
  type Contribution,
  contribution,
  difference,
  defaultStatisticsOptions as options,
  shardOf,
  storedCounters,
  sumContributions,
} from '../../../functions/case-aggregate/domain/statistics';
import type { CaseStatus } from '../../../functions/case-aggregate/domain/status';
import { configuredCalendar, weekendsOffCalendar } from '../../../shared/calendar';
import { changeOf, DEPARTMENT, ITEM, OTHER_ITEM } from './fixtures';

const NOW = '2026-11-21T03:00:00.000Z';

function build(changes: CaseChange[]): CaseRecord {
  let record: CaseRecord | undefined;
  for (const change of changes) record = applyChange(record, change, NOW).record;
  if (!record) throw new Error('no record');
  return record;
}

/** Contribution as plain `{ "pk|sk": counters }` for readable expectations. */
const plain = (c: Contribution) => Object.fromEntries([...c].map(([id, { counters }]) => [id, counters]));

const shard = shardOf('330106:ZJ-2026-0001', options.shards);
const bucket = (day: string, item = ITEM) => `STATS#330000#${day}#${shard}|330106#${DEPARTMENT}#${item}`;

describe('contribution', () => {
  it('counts a case as received on the Shanghai day of its earliest status, with its channel flags', () => {
    const record = build([
      changeOf({ status: 'submitted', statusAt: '2026-11-19T16:30:00Z', channel: 'mobile' }),
    ]);
    expect(plain(contribution(record, options))).toEqual({
      [bucket('2026-11-20')]: { received: 1, online: 1, fullyOnline: 1 },
    });
  });

  it('does not count a window case without full online handling as online', () => {
    const record = build([
      changeOf({
        status: 'accepted',
        statusAt: '2026-11-20T10:00:00+08:00',
        channel: 'window',
        fullyOnline: false,
      }),
    ]);
    expect(plain(contribution(record, options))).toEqual({
      [bucket('2026-11-20')]: { received: 1, accepted: 1 },
    });
  });

  it('counts each status on its own day, completion on time and processing hours', () => {
    const record = build([
      changeOf({ status: 'accepted', statusAt: '2026-11-20T09:00:00+08:00', promisedDays: 1 }),
      changeOf({ status: 'in_progress', statusAt: '2026-11-20T11:00:00+08:00', promisedDays: 1 }),
      // Friday + 1 working day = Monday 23rd: on time, 72 h 20 min later.
      changeOf({ status: 'completed', statusAt: '2026-11-23T09:20:00+08:00', promisedDays: 1 }),
    ]);
    expect(plain(contribution(record, options))).toEqual({
      [bucket('2026-11-20')]: { received: 1, online: 1, fullyOnline: 1, accepted: 1 },
      [bucket('2026-11-23')]: { completed: 1, completedOnTime: 1, processingCentihours: 7233 },
    });
  });

  it('counts a completion after the promised working days as not on time', () => {
    const record = build([
      changeOf({ status: 'accepted', statusAt: '2026-11-20T09:00:00+08:00', promisedDays: 1 }),
      changeOf({ status: 'completed', statusAt: '2026-11-24T09:00:00+08:00', promisedDays: 1 }),
    ]);
    expect(plain(contribution(record, options))[bucket('2026-11-24')]).toEqual({
      completed: 1,
      processingCentihours: 9600,
    });
  });

  it('measures the time limit from the earliest status when acceptance is unknown, and then gives no hours', () => {
    const record = build([
      changeOf({ status: 'submitted', statusAt: '2026-11-16T09:00:00+08:00', promisedDays: 2 }),
      changeOf({ status: 'completed', statusAt: '2026-11-18T18:00:00+08:00', promisedDays: 2 }),
    ]);
    expect(plain(contribution(record, options))[bucket('2026-11-18')]).toEqual({
      completed: 1,
      completedOnTime: 1,
    });
  });

  it('counts rejected and terminated cases on their days', () => {
    const rejected = build([changeOf({ status: 'rejected', statusAt: '2026-11-20T09:00:00+08:00' })]);
    const terminated = build([
      changeOf({ status: 'accepted', statusAt: '2026-11-20T09:00:00+08:00' }),
      changeOf({ status: 'terminated', statusAt: '2026-11-25T09:00:00+08:00' }),
    ]);
    expect(plain(contribution(rejected, options))[bucket('2026-11-20')]).toMatchObject({
      received: 1,
      rejected: 1,
    });
    expect(plain(contribution(terminated, options))[bucket('2026-11-25')]).toEqual({ terminated: 1 });
  });

  it('moves received to the day of a late earlier status', () => {
    const accepted = changeOf({ status: 'accepted', statusAt: '2026-11-20T09:00:00+08:00' });
    const submitted = changeOf({ status: 'submitted', statusAt: '2026-11-18T09:00:00+08:00' });
    const before = build([accepted]);
    const after = applyChange(before, submitted, NOW).record;
    expect(plain(difference(contribution(after, options), contribution(before, options)))).toEqual({
      [bucket('2026-11-18')]: { received: 1, online: 1, fullyOnline: 1 },
      [bucket('2026-11-20')]: { received: -1, online: -1, fullyOnline: -1 },
    });
  });

  it('moves every counter when a further status corrects the item', () => {
    const before = build([changeOf({ status: 'accepted', statusAt: '2026-11-20T09:00:00+08:00' })]);
    const after = applyChange(
      before,
      changeOf({ status: 'completed', statusAt: '2026-11-20T10:00:00+08:00', itemCode: OTHER_ITEM }),
      NOW,
    ).record;
    const delta = plain(difference(contribution(after, options), contribution(before, options)));
    expect(delta[bucket('2026-11-20')]).toEqual({ received: -1, online: -1, fullyOnline: -1, accepted: -1 });
    expect(delta[bucket('2026-11-20', OTHER_ITEM)]).toMatchObject({ received: 1, accepted: 1, completed: 1 });
  });

  it('spreads cases over shards stably', () => {
    expect(shardOf('330106:ZJ-2026-0001', 8)).toBe(shardOf('330106:ZJ-2026-0001', 8));
    const used = new Set(Array.from({ length: 200 }, (_, i) => shardOf(`330106:CASE-${i}`, 8)));
    expect(used.size).toBe(8);
  });

  it('stores processing time as hours with two decimals', () => {
    expect(storedCounters({ completed: 1, processingCentihours: 7233 })).toEqual({
      completed: 1,
      processingHours: 72.33,
    });
  });
});

const CHAINS: CaseStatus[][] = [
  ['submitted', 'rejected'],
  ['submitted', 'accepted', 'in_progress', 'completed'],
  ['submitted', 'accepted', 'in_progress', 'terminated'],
];

const caseArb = (caseNumber: string) =>
  fc
    .record({
      chain: fc.constantFrom(...CHAINS),
      keep: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      start: fc.integer({ min: Date.parse('2026-11-01T00:00:00Z'), max: Date.parse('2026-11-30T00:00:00Z') }),
      gapsMinutes: fc.array(fc.integer({ min: 0, max: 4 * 24 * 60 }), { minLength: 4, maxLength: 4 }),
      channel: fc.constantFrom('online' as const, 'window' as const, 'mobile' as const, 'terminal' as const),
      fullyOnline: fc.boolean(),
      promisedDays: fc.integer({ min: 0, max: 5 }),
      item: fc.constantFrom(ITEM, OTHER_ITEM),
    })
    .map(({ chain, keep, start, gapsMinutes, channel, fullyOnline, promisedDays, item }) => {
      const kept = chain.filter((_, i) => keep[i]);
      let at = start;
      return (kept.length > 0 ? kept : ['completed' as const]).map((status, i) => {
        at += (gapsMinutes[i] ?? 0) * 60_000;
        return changeOf({
          caseNumber,
          status,
          statusAt: new Date(at).toISOString(),
          channel,
          fullyOnline,
          promisedDays,
          itemCode: item,
        });
      });
    });

/** Three cases, each change delivered 1–3 times, everything shuffled. */
const deliveryArb = fc.tuple(caseArb('C1'), caseArb('C2'), caseArb('C3')).chain((cases) => {
  const all = cases.flat();
  return fc
    .array(fc.integer({ min: 1, max: 3 }), { minLength: all.length, maxLength: all.length })
    .chain((copies) => {
      const expanded = all.flatMap((change, i) => Array.from({ length: copies[i] ?? 1 }, () => change));
      return fc.tuple(fc.constant(cases), fc.shuffledSubarray(expanded, { minLength: expanded.length }));
    });
});

describe('exactly-once statistics', () => {
  it('sum of committed deltas equals the contribution of the final timelines, for any delivery', () => {
    fc.assert(
      fc.property(deliveryArb, ([cases, delivery]) => {
        const records = new Map<string, CaseRecord>();
        const committed: Contribution[] = [];
        for (const change of delivery) {
          const before = records.get(change.caseId);
          const { record: after, changed } = applyChange(before, change, NOW);
          if (!changed || !after) continue;
          committed.push(difference(contribution(after, options), contribution(before, options)));
          records.set(change.caseId, after);
        }

        const inOrder = cases.map((changes) => build(changes));
        const expected = sumContributions(inOrder.map((record) => contribution(record, options)));
        expect(plain(sumContributions(committed))).toEqual(plain(expected));
        for (const record of inOrder) {
          expect(records.get(record.caseId)?.timeline.map((e) => [e.status, e.at])).toEqual(
            record.timeline.map((e) => [e.status, e.at]),
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  // Made-up holidays and a make-up Saturday in the property's month, not an official calendar.
  const holidays = configuredCalendar({
    holidays: ['2026-11-09', '2026-11-10', '2026-11-11', '2026-11-18', '2026-11-26'],
    workdays: ['2026-11-14'],
  });
  const sweepDayArb = fc
    .integer({ min: 0, max: 60 })
    .map((offset) =>
      new Date(Date.parse('2026-11-01T00:00:00Z') + offset * 86_400_000).toISOString().slice(0, 10),
    );

  it('stays exact with due days fixed per commit, the calendar changing, and overdue sweeps in between', () => {
    fc.assert(
      fc.property(
        deliveryArb,
        fc.boolean(),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
        fc.array(fc.option(sweepDayArb, { freq: 3 }), { maxLength: 40 }),
        ([cases, delivery], calendarChanges, useHolidays, sweeps) => {
          const records = new Map<string, CaseRecord>();
          const committed: Contribution[] = [];
          const commit = (before: CaseRecord | undefined, after: CaseRecord) => {
            committed.push(difference(contribution(after, options), contribution(before, options)));
            records.set(after.caseId, after);
          };
          const sweep = (day: string) => {
            for (const record of [...records.values()]) {
              const marked = markOverdue(record, day);
              if (marked) commit(record, marked);
            }
          };
          delivery.forEach((change, i) => {
            const calendar =
              calendarChanges && useHolidays[i % useHolidays.length] ? holidays : weekendsOffCalendar;
            const before = records.get(change.caseId);
            const { record: after, changed } = applyChange(before, change, NOW);
            if (changed && after) commit(before, withDueDate(after, calendar));
            const day = sweeps[i];
            if (day) sweep(day);
          });
          sweep('2027-12-31');

          const finals = [...records.values()];
          const expected = plain(sumContributions(finals.map((record) => contribution(record, options))));
          expect(plain(sumContributions(committed))).toEqual(expected);
          // Fixed cases are judged by their stored due days: the calendar in the options no longer matters.
          const withOtherCalendar = { ...options, calendar: holidays };
          expect(plain(sumContributions(finals.map((r) => contribution(r, withOtherCalendar))))).toEqual(
            expected,
          );
          for (const record of finals) {
            const due = record.due?.day as string;
            // Overdue exactly when the case missed its due day, whenever the sweeps ran.
            expect(countedOverdueDay(record) !== undefined).toBe(!closedBy(record, due));
          }
          if (!calendarChanges) {
            // One calendar: the due days do not depend on the arrival order either.
            for (const changes of cases) {
              let inOrder: CaseRecord | undefined;
              for (const change of changes) {
                inOrder = withDueDate(
                  applyChange(inOrder, change, NOW).record as CaseRecord,
                  weekendsOffCalendar,
                );
              }
              expect(records.get(inOrder?.caseId ?? '')?.due).toEqual(inOrder?.due);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
