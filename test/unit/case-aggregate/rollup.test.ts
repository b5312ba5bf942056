import { describe, expect, it } from 'vitest';
import { ratesOf } from '../../../functions/case-aggregate/domain/rates';
import {
  countersFromItem,
  countersToItem,
  groupCells,
  mergeCells,
  rollUp,
  rollUpItems,
  sumCounters,
} from '../../../functions/case-aggregate/domain/rollup';
import {
  cell,
  counters,
  DAY_CELLS,
  DEPT_GUANGZHOU,
  DEPT_HANGZHOU,
  ITEM_A,
  ITEM_B,
  ITEM_C,
  ITEM_CELLS,
  ITEM_D,
} from './rollup-fixtures';

const byScope = (cells = DAY_CELLS) => new Map(rollUp(cells).map((s) => [s.scope, s]));

describe('rollUp', () => {
  it('sums cells into the nation, provinces, regions and departments (hand-computed)', () => {
    const scopes = byScope();
    expect([...scopes.keys()]).toEqual([
      'nation',
      'province#330000',
      'province#440000',
      'region#330102',
      'region#330106',
      'region#440106',
      `dept#330000#${DEPT_HANGZHOU}`,
      `dept#440000#${DEPT_GUANGZHOU}`,
    ]);
    expect(scopes.get('nation')?.counters).toEqual(
      counters({
        received: 6,
        accepted: 3,
        rejected: 1,
        completed: 4,
        completedOnTime: 2,
        overdue: 1,
        online: 3,
        fullyOnline: 2,
        processingCentihours: 4475,
      }),
    );
    expect(scopes.get('province#330000')?.counters).toEqual(
      counters({
        received: 6,
        accepted: 3,
        rejected: 1,
        completed: 3,
        completedOnTime: 2,
        online: 3,
        fullyOnline: 2,
        processingCentihours: 3475,
      }),
    );
    expect(scopes.get('region#330106')).toMatchObject({
      level: 'region',
      province: '330000',
      regionCode: '330106',
    });
    expect(scopes.get(`dept#440000#${DEPT_GUANGZHOU}`)).toMatchObject({
      level: 'department',
      province: '440000',
      departmentCode: DEPT_GUANGZHOU,
    });
  });

  it('gives the hand-computed rates, null where nothing was received or completed', () => {
    const scopes = byScope();
    const nation = ratesOf(scopes.get('nation')?.counters ?? counters({}));
    expect(nation.onTimeCompletionRate).toEqual({ numerator: 2, denominator: 4 });
    expect(nation.averageProcessingHours).toEqual({ numerator: 4475, denominator: 400 });
    const guangdong = ratesOf(scopes.get('province#440000')?.counters ?? counters({}));
    expect(guangdong.onlineRate).toBeNull();
    expect(guangdong.fullyOnlineRate).toBeNull();
    expect(guangdong.onTimeCompletionRate).toEqual({ numerator: 0, denominator: 1 });
    const xihu = ratesOf(scopes.get('region#330102')?.counters ?? counters({}));
    expect(xihu.onTimeCompletionRate).toBeNull();
    expect(xihu.averageProcessingHours).toBeNull();
  });

  it('keeps a province-level region apart from its province total', () => {
    const scopes = byScope([
      cell('330000', DEPT_HANGZHOU, ITEM_A, { received: 1 }),
      cell('330106', DEPT_HANGZHOU, ITEM_A, { received: 2 }),
    ]);
    expect(scopes.get('region#330000')?.counters.received).toBe(1);
    expect(scopes.get('province#330000')?.counters.received).toBe(3);
  });

  it('has a nation scope even for a day without any bucket', () => {
    expect(rollUp([])).toEqual([{ scope: 'nation', level: 'nation', counters: counters({}) }]);
  });
});

describe('cells', () => {
  it('merge shards and days of the same region, department and item', () => {
    const merged = mergeCells([
      cell('330106', DEPT_HANGZHOU, ITEM_A, { received: 1, processingCentihours: 5 }),
      cell('440106', DEPT_GUANGZHOU, ITEM_D, { completed: 1 }),
      cell('330106', DEPT_HANGZHOU, ITEM_A, { received: 2, processingCentihours: 7 }),
    ]);
    expect(merged).toEqual([
      cell('330106', DEPT_HANGZHOU, ITEM_A, { received: 3, processingCentihours: 12 }),
      cell('440106', DEPT_GUANGZHOU, ITEM_D, { completed: 1 }),
    ]);
  });

  it('read stored counters: missing ones are 0, processing hours back to whole centihours', () => {
    const read = countersFromItem({ pk: 'x', received: 3, processingHours: 0.1 + 0.2, completed: 1 });
    expect(read).toEqual(counters({ received: 3, completed: 1, processingCentihours: 30 }));
    expect(countersToItem(read)).toMatchObject({ received: 3, processingHours: 0.3, overdue: 0 });
  });

  it('group by any dimension after filtering by region prefix, department and item', () => {
    const periods = [
      { month: '2026-11', day: '2026-11-20', cells: DAY_CELLS },
      {
        month: '2026-11',
        day: '2026-11-21',
        cells: [cell('330106', DEPT_HANGZHOU, ITEM_A, { received: 5 })],
      },
    ];
    const byDay = groupCells(periods, { region: '330000' }, 'day');
    expect(byDay.groups.map((g) => [g.key, g.counters.received])).toEqual([
      ['2026-11-20', 6],
      ['2026-11-21', 5],
    ]);
    expect(byDay.total.received).toBe(11);
    const county = groupCells(periods, { region: '330106', itemCode: ITEM_A }, 'region');
    expect(county.groups).toEqual([
      { key: '330106', counters: counters({ ...DAY_CELLS[0]?.counters, received: 8 }) },
    ]);
    const provinces = groupCells(periods, {}, 'province');
    expect(provinces.groups.map((g) => [g.key, g.counters.completed])).toEqual([
      ['330000', 3],
      ['440000', 1],
    ]);
    expect(groupCells(periods, { departmentCode: DEPT_GUANGZHOU }).groups).toEqual([]);
    expect(groupCells(periods, { departmentCode: DEPT_GUANGZHOU }).total.overdue).toBe(1);
  });

  it('refuse to group a month rollup by day', () => {
    expect(() => groupCells([{ month: '2026-11', cells: DAY_CELLS }], {}, 'day')).toThrow(/day cells/);
  });
});

describe('rollUpItems', () => {
  const items = rollUpItems(ITEM_CELLS);
  const itemOf = (province: string, department: string, item: string) =>
    items.get(province)?.find((s) => s.scope === `item#${province}#${department}#${item}`);

  it('one scope per province × department × item, grouped by province and sorted by scope', () => {
    expect([...items.keys()]).toEqual(['330000', '440000']);
    expect(items.get('330000')?.map((s) => s.scope)).toEqual(
      [ITEM_A, ITEM_B, ITEM_C].map((item) => `item#330000#${DEPT_HANGZHOU}#${item}`).sort(),
    );
    expect(
      items
        .get('440000')
        ?.map((s) => s.scope)
        .sort(),
    ).toEqual([`item#440000#${DEPT_GUANGZHOU}#${ITEM_D}`, `item#440000#${DEPT_HANGZHOU}#${ITEM_A}`].sort());
    expect(itemOf('330000', DEPT_HANGZHOU, ITEM_A)).toMatchObject({
      level: 'item',
      province: '330000',
      departmentCode: DEPT_HANGZHOU,
      itemCode: ITEM_A,
    });
  });

  it('sums the counties of a province into the item, with the hand-computed rates', () => {
    const itemA = itemOf('330000', DEPT_HANGZHOU, ITEM_A);
    expect(itemA?.counters).toEqual(
      counters({
        received: 4,
        accepted: 3,
        rejected: 1,
        completed: 3,
        completedOnTime: 2,
        online: 3,
        fullyOnline: 2,
        processingCentihours: 3250,
        evaluations: 3,
        satisfied: 2,
      }),
    );
    const rates = ratesOf(itemA?.counters ?? counters({}));
    expect(rates.onTimeCompletionRate).toEqual({ numerator: 2, denominator: 3 });
    expect(rates.fullyOnlineRate).toEqual({ numerator: 2, denominator: 4 });
    expect(rates.satisfactionRate).toEqual({ numerator: 2, denominator: 3 });
    const itemB = ratesOf(itemOf('330000', DEPT_HANGZHOU, ITEM_B)?.counters ?? counters({}));
    expect(itemB.onTimeCompletionRate).toEqual({ numerator: 1, denominator: 1 });
    expect(itemB.fullyOnlineRate).toEqual({ numerator: 0, denominator: 1 });
    expect(itemB.satisfactionRate).toBeNull();
    // The same code from another province is that province's item, not added to Zhejiang's.
    expect(itemOf('440000', DEPT_HANGZHOU, ITEM_A)?.counters).toEqual(counters({ received: 2 }));
    expect(ratesOf(counters({ received: 2 })).onTimeCompletionRate).toBeNull();
  });

  it('every item scope sums to its department, and the departments to the province', () => {
    const departments = new Map(
      rollUp(ITEM_CELLS)
        .filter((s) => s.level === 'department')
        .map((s) => [s.scope, s.counters]),
    );
    for (const [province, scopes] of items) {
      const byDepartment = new Map<string, ReturnType<typeof counters>[]>();
      for (const s of scopes) {
        const key = `dept#${province}#${s.departmentCode}`;
        byDepartment.set(key, [...(byDepartment.get(key) ?? []), s.counters]);
      }
      for (const [department, parts] of byDepartment) {
        expect(sumCounters(parts)).toEqual(departments.get(department));
      }
    }
  });
});
