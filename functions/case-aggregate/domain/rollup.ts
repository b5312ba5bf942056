import { inRegionScope, provinceOf } from '../../../shared/regions';
import { EVALUATION_COUNTERS } from './evaluation-counts';

/**
 * Rolling statistics up, as pure functions over counters: shards and days merge into cells (one region,
 * department and item of a period), cells into departments, regions, provinces and the nation. Everything is
 * a sum of whole numbers — processing time is carried in hundredths of an hour — so totals are exact at
 * every level and the work grows with the number of cells, never with the number of cases.
 */
export const ROLLUP_COUNTERS = [
  'received',
  'accepted',
  'rejected',
  'completed',
  'completedOnTime',
  'overdue',
  'online',
  'fullyOnline',
  'processingCentihours',
  // Evaluation counters (evaluation-counts.ts): counted from the evaluation capability's events.
  ...EVALUATION_COUNTERS,
] as const;
export type RollupCounter = (typeof ROLLUP_COUNTERS)[number];
export type RollupCounters = Record<RollupCounter, number>;

export const zeroCounters = (): RollupCounters =>
  Object.fromEntries(ROLLUP_COUNTERS.map((name) => [name, 0])) as RollupCounters;

export function addInto(total: RollupCounters, part: RollupCounters): RollupCounters {
  for (const name of ROLLUP_COUNTERS) total[name] += part[name];
  return total;
}

export const sumCounters = (parts: Iterable<RollupCounters>): RollupCounters => {
  const total = zeroCounters();
  for (const part of parts) addInto(total, part);
  return total;
};

/**
 * Counters from a stored statistics or rollup item. A counter the item lacks is 0 (`overdue` before the sweep
 * ever touched the bucket, evaluation counters of a bucket without evaluations); `processingHours` is stored with two decimals and read back as whole centihours.
 */
export function countersFromItem(item: Record<string, unknown>): RollupCounters {
  const counters = zeroCounters();
  for (const name of ROLLUP_COUNTERS) {
    if (name === 'processingCentihours') continue;
    counters[name] = numberOf(item[name]);
  }
  counters.processingCentihours = Math.round(numberOf(item.processingHours) * 100);
  return counters;
}

/** The stored form: `processingHours` with two decimals, like the statistics buckets. */
export function countersToItem(counters: RollupCounters): Record<string, number> {
  const { processingCentihours, ...rest } = counters;
  return { ...rest, processingHours: processingCentihours / 100 };
}

const numberOf = (value: unknown): number => {
  const number = typeof value === 'number' ? value : Number(value ?? 0);
  return Number.isFinite(number) ? number : 0;
};

/** One region, department and item of a period: the statistics buckets with shards (and days) merged. */
export interface Cell {
  regionCode: string;
  departmentCode: string;
  itemCode: string;
  counters: RollupCounters;
}

export const cellKey = (cell: Pick<Cell, 'regionCode' | 'departmentCode' | 'itemCode'>) =>
  `${cell.regionCode}#${cell.departmentCode}#${cell.itemCode}`;

/** Merges cells of the same region, department and item (the shards of a day, or the days of a month). */
export function mergeCells(cells: Iterable<Cell>): Cell[] {
  const merged = new Map<string, Cell>();
  for (const cell of cells) {
    const key = cellKey(cell);
    const existing = merged.get(key);
    if (existing) addInto(existing.counters, cell.counters);
    else merged.set(key, { ...cell, counters: { ...cell.counters } });
  }
  return [...merged.values()].sort((a, b) => compare(cellKey(a), cellKey(b)));
}

export type ScopeLevel = 'nation' | 'province' | 'region' | 'department' | 'item';

/**
 * One assessed scope of a period. Its key is also the rollup item's sort key:
 * `nation`, `province#{province}`, `region#{regionCode}`, `dept#{province}#{departmentCode}` — prefixed so a
 * province-level region code (330000 handled by the province itself) never collides with the province total.
 */
export interface ScopeTotals {
  scope: string;
  level: ScopeLevel;
  province?: string;
  regionCode?: string;
  departmentCode?: string;
  itemCode?: string;
  counters: RollupCounters;
}

export const NATION_SCOPE = 'nation';
export const provinceScope = (province: string) => `province#${province}`;
export const regionScope = (regionCode: string) => `region#${regionCode}`;
/** A department is assessed within a province: the same department code may report in several. */
export const departmentScope = (province: string, departmentCode: string) =>
  `dept#${province}#${departmentCode}`;

/**
 * An item is assessed within its province and department: the cities and counties of a province that implement
 * it are summed, as a department's are.
 */
export const itemScope = (province: string, departmentCode: string, itemCode: string) =>
  `item#${province}#${departmentCode}#${itemCode}`;

const LEVEL_ORDER: Record<ScopeLevel, number> = {
  nation: 0,
  province: 1,
  region: 2,
  department: 3,
  item: 4,
};
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Totals of the nation, each province, each region (6-digit code) and each department, in a stable order. */
export function rollUp(cells: Iterable<Cell>): ScopeTotals[] {
  const scopes = new Map<string, ScopeTotals>();
  const addTo = (template: Omit<ScopeTotals, 'counters'>, counters: RollupCounters) => {
    const existing = scopes.get(template.scope);
    if (existing) addInto(existing.counters, counters);
    else scopes.set(template.scope, { ...template, counters: { ...counters } });
  };
  scopes.set(NATION_SCOPE, { scope: NATION_SCOPE, level: 'nation', counters: zeroCounters() });
  for (const { regionCode, departmentCode, counters } of cells) {
    const province = provinceOf(regionCode);
    addTo({ scope: NATION_SCOPE, level: 'nation' }, counters);
    addTo({ scope: provinceScope(province), level: 'province', province }, counters);
    addTo({ scope: regionScope(regionCode), level: 'region', province, regionCode }, counters);
    addTo(
      { scope: departmentScope(province, departmentCode), level: 'department', province, departmentCode },
      counters,
    );
  }
  return [...scopes.values()].sort(
    (a, b) => LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] || compare(a.scope, b.scope),
  );
}

/**
 * The item scopes of each province (province × department × item), sorted by scope. Kept apart from `rollUp`:
 * there are as many as there are items, so they are published per province (snapshot.ts) rather than stored
 * as rollup items or put in the period's snapshot — the cells they are summed from are stored already.
 */
export function rollUpItems(cells: Iterable<Cell>): Map<string, ScopeTotals[]> {
  const items = new Map<string, ScopeTotals>();
  for (const { regionCode, departmentCode, itemCode, counters } of cells) {
    const province = provinceOf(regionCode);
    const scope = itemScope(province, departmentCode, itemCode);
    const existing = items.get(scope);
    if (existing) addInto(existing.counters, counters);
    else
      items.set(scope, {
        scope,
        level: 'item',
        province,
        departmentCode,
        itemCode,
        counters: { ...counters },
      });
  }
  const byProvince = new Map<string, ScopeTotals[]>();
  for (const totals of [...items.values()].sort((a, b) => compare(a.scope, b.scope))) {
    const province = totals.province as string;
    const list = byProvince.get(province);
    if (list) list.push(totals);
    else byProvince.set(province, [totals]);
  }
  return byProvince;
}

/** Cells of one period a statistics query reads: a day (rollup or buckets) or a whole month (its rollup). */
export interface PeriodCells {
  /** `yyyy-mm`; with `day` when the cells are a single day's. */
  month: string;
  day?: string;
  cells: readonly Cell[];
}

export const GROUP_BY = ['day', 'month', 'region', 'province', 'department', 'item'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export interface CellFilter {
  /** A province, city or county code: the cells of every division it covers. */
  region?: string;
  departmentCode?: string;
  itemCode?: string;
}

export interface Grouped {
  total: RollupCounters;
  groups: { key: string; counters: RollupCounters }[];
}

export function matchesFilter(cell: Cell, filter: CellFilter): boolean {
  return (
    (filter.region === undefined || inRegionScope(filter.region, cell.regionCode)) &&
    (filter.departmentCode === undefined || cell.departmentCode === filter.departmentCode) &&
    (filter.itemCode === undefined || cell.itemCode === filter.itemCode)
  );
}

function groupKey(groupBy: GroupBy, period: PeriodCells, cell: Cell): string {
  switch (groupBy) {
    case 'day':
      if (period.day === undefined) throw new Error('grouping by day needs day cells, not a month rollup');
      return period.day;
    case 'month':
      return period.month;
    case 'region':
      return cell.regionCode;
    case 'province':
      return provinceOf(cell.regionCode);
    case 'department':
      return cell.departmentCode;
    case 'item':
      return cell.itemCode;
  }
}

/** Totals of the cells that pass the filter, and per group when asked; groups sorted by key. */
export function groupCells(periods: readonly PeriodCells[], filter: CellFilter, groupBy?: GroupBy): Grouped {
  const total = zeroCounters();
  const groups = new Map<string, RollupCounters>();
  for (const period of periods) {
    for (const cell of period.cells) {
      if (!matchesFilter(cell, filter)) continue;
      addInto(total, cell.counters);
      if (groupBy === undefined) continue;
      const key = groupKey(groupBy, period, cell);
      let counters = groups.get(key);
      if (!counters) {
        counters = zeroCounters();
        groups.set(key, counters);
      }
      addInto(counters, cell.counters);
    }
  }
  return {
    total,
    groups: [...groups.entries()]
      .sort(([a], [b]) => compare(a, b))
      .map(([key, counters]) => ({ key, counters })),
  };
}
