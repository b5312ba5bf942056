import type { Day } from '../../shared/calendar';
import { findProvince } from '../../shared/regions';
import type { PeriodType } from './domain/periods';
import { RATE_DECIMALS, RATES_NOTE, type RenderedRates, ratesOf, renderRates } from './domain/rates';
import { countersToItem, type ScopeLevel, type ScopeTotals } from './domain/rollup';

/**
 * The assessment snapshot of a period as published to S3: JSON for programs, CSV for spreadsheets. Both are
 * rendered from the same rollup, so they always agree; rates are rounded here and nowhere earlier.
 */
export const ROUNDING_NOTE = `Rates are percentages and averageProcessingHours is hours, each rounded half up to ${RATE_DECIMALS} decimals from the exact fraction numerator / denominator given beside it; a null rate has a zero denominator.`;

export interface Coverage {
  /** Days of the period that had been rolled up (a month in progress covers fewer than it has). */
  days: number;
  daysInPeriod: number;
  firstDay?: Day;
  lastDay?: Day;
}

export interface SnapshotInput {
  period: string;
  periodType: PeriodType;
  generatedAt: string;
  coverage: Coverage;
  scopes: readonly ScopeTotals[];
}

export interface SnapshotKeys {
  json: string;
  csv: string;
}

export interface SnapshotScope {
  scope: string;
  level: ScopeLevel;
  province?: string;
  provinceName?: string;
  regionCode?: string;
  departmentCode?: string;
  itemCode?: string;
  counters: Record<string, number>;
  rates: RenderedRates;
}

export interface AssessmentSnapshot {
  period: string;
  periodType: PeriodType;
  generatedAt: string;
  coverage: Coverage;
  rounding: string;
  notes: string[];
  scopes: SnapshotScope[];
}

export const snapshotKeysOf = (period: string): SnapshotKeys => ({
  json: `assessments/${period}.json`,
  csv: `assessments/${period}.csv`,
});

/**
 * A province's item scopes (province × department × item) of a period, beside the period's snapshot and in the
 * same shape. Not in the period's snapshot itself: there are as many as there are items — with the synthetic
 * catalogue (768 items in 32 provinces) they would double it (1.1 → 2.2 MiB of JSON), while a drill-down needs
 * one province's (about 33 KiB). A province without cases in the period has no item snapshot.
 */
export const itemSnapshotKeysOf = (period: string, province: string): SnapshotKeys => ({
  json: `assessments/${period}/items-${province}.json`,
  csv: `assessments/${period}/items-${province}.csv`,
});

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';

export function toSnapshotScope(totals: ScopeTotals): SnapshotScope {
  const provinceName = totals.province && findProvince(totals.province)?.nameZh;
  return {
    scope: totals.scope,
    level: totals.level,
    ...(totals.province ? { province: totals.province } : {}),
    ...(provinceName ? { provinceName } : {}),
    ...(totals.regionCode ? { regionCode: totals.regionCode } : {}),
    ...(totals.departmentCode ? { departmentCode: totals.departmentCode } : {}),
    ...(totals.itemCode ? { itemCode: totals.itemCode } : {}),
    counters: countersToItem(totals.counters),
    rates: renderRates(ratesOf(totals.counters)),
  };
}

export function snapshotOf(input: SnapshotInput): AssessmentSnapshot {
  return {
    period: input.period,
    periodType: input.periodType,
    generatedAt: input.generatedAt,
    coverage: input.coverage,
    rounding: ROUNDING_NOTE,
    notes: [RATES_NOTE],
    scopes: input.scopes.map(toSnapshotScope),
  };
}

export const renderJson = (snapshot: AssessmentSnapshot): string => `${JSON.stringify(snapshot, null, 2)}\n`;

const COUNTER_COLUMNS = [
  'received',
  'accepted',
  'rejected',
  'completed',
  'completedOnTime',
  'overdue',
  'online',
  'fullyOnline',
  'processingHours',
  'evaluations',
  'satisfied',
  'flagged',
  'badReviews',
  'rectified',
  'dismissed',
] as const;
const RATE_COLUMNS = [
  'onTimeCompletionRate',
  'fullyOnlineRate',
  'onlineRate',
  'averageProcessingHours',
  'satisfactionRate',
  'rectificationRate',
] as const;
export const CSV_HEADER = [
  'period',
  'scope',
  'level',
  'province',
  'provinceName',
  'regionCode',
  'departmentCode',
  ...COUNTER_COLUMNS,
  ...RATE_COLUMNS,
  // Last: added with the item snapshots, after the columns readers already address by position.
  'itemCode',
];

/** RFC 4180: a field holding a comma, quote or line break is quoted, its quotes doubled. */
const csvField = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

const fixed = (value: number | undefined) => (value === undefined ? '' : value.toFixed(RATE_DECIMALS));

/**
 * One row per scope, CRLF line ends (RFC 4180), led by a UTF-8 byte order mark so that spreadsheet programs
 * read the Chinese province names as UTF-8. Rates are the rounded values of the JSON; an empty cell is null.
 */
export function renderCsv(snapshot: AssessmentSnapshot): string {
  const rows = snapshot.scopes.map((scope) => [
    snapshot.period,
    scope.scope,
    scope.level,
    scope.province ?? '',
    scope.provinceName ?? '',
    scope.regionCode ?? '',
    scope.departmentCode ?? '',
    ...COUNTER_COLUMNS.map((name) =>
      name === 'processingHours' ? fixed(scope.counters[name]) : String(scope.counters[name] ?? 0),
    ),
    ...RATE_COLUMNS.map((name) => fixed(scope.rates[name]?.value)),
    scope.itemCode ?? '',
  ]);
  const lines = [CSV_HEADER, ...rows].map((fields) => fields.map(csvField).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
