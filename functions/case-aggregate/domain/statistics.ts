import { type Day, shanghaiDay, type WorkingCalendar, weekendsOffCalendar } from '../../../shared/calendar';
import { type CaseRecord, earliestStatusAt, type TimelineEntry } from './case';
import { ONLINE_CHANNELS } from './change';
import { dueDateOf } from './due';
import { countedOverdueDay } from './overdue';
import type { CaseStatus } from './status';

/**
 * Exactly-once statistics without per-change bookkeeping: a case contributes counters to buckets as a
 * pure function of its whole timeline, and every commit adds contribution(after) − contribution(before).
 * Whatever order, duplicates or late earlier statuses arrive in, the buckets end up holding
 * Σ contribution(final timeline) — a late `submitted` simply moves `received` to its own day.
 */
export const COUNTERS = [
  'received',
  'online',
  'fullyOnline',
  'accepted',
  'rejected',
  'completed',
  'terminated',
  'completedOnTime',
  /** Counted by the daily sweep, in the bucket of the due day + 1 (domain/overdue.ts). */
  'overdue',
  /** Hundredths of an hour, kept integral so sums stay exact; stored as `processingHours`. */
  'processingCentihours',
] as const;
export type Counter = (typeof COUNTERS)[number];
export type Counters = Partial<Record<Counter, number>>;

export interface BucketKey {
  pk: string;
  sk: string;
  province: string;
  day: Day;
  shard: number;
  regionCode: string;
  departmentCode: string;
  itemCode: string;
}

export interface BucketCounters {
  bucket: BucketKey;
  counters: Counters;
}

/** Bucket id → counters. */
export type Contribution = Map<string, BucketCounters>;

export interface StatisticsOptions {
  /** Write shards per (province, day); spreads hot buckets over partitions. */
  shards: number;
  /**
   * Only for a case without a stored due day (one not yet fixed by the consumer, or stored before due days
   * existed): a fixed case is judged by its stored due day, whatever the calendar is now (domain/due.ts).
   */
  calendar: WorkingCalendar;
}

export const defaultStatisticsOptions: StatisticsOptions = { shards: 8, calendar: weekendsOffCalendar };

const COUNTED_STATUSES = [
  'accepted',
  'rejected',
  'completed',
  'terminated',
] as const satisfies readonly Counter[];
const MS_PER_CENTIHOUR = 36_000;

export const provinceOf = (regionCode: string) => `${regionCode.slice(0, 2)}0000`;

/** FNV-1a: stable across runtimes and releases, unlike anything keyed by process state. */
export function shardOf(caseId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < caseId.length; i += 1) {
    hash ^= caseId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

export const bucketId = (bucket: Pick<BucketKey, 'pk' | 'sk'>) => `${bucket.pk}|${bucket.sk}`;

export function bucketOf(record: CaseRecord, day: Day, options: StatisticsOptions): BucketKey {
  return statisticsBucket(record, day, options.shards);
}

/** The bucket of a case's dimensions on a day; evaluation counts land in the same buckets as case counts. */
export function statisticsBucket(
  dimensions: Pick<CaseRecord, 'caseId' | 'regionCode' | 'departmentCode' | 'itemCode'>,
  day: Day,
  shards: number,
): BucketKey {
  const province = provinceOf(dimensions.regionCode);
  const shard = shardOf(dimensions.caseId, shards);
  const { regionCode, departmentCode, itemCode } = dimensions;
  return {
    pk: `STATS#${province}#${day}#${shard}`,
    sk: `${regionCode}#${departmentCode}#${itemCode}`,
    province,
    day,
    shard,
    regionCode,
    departmentCode,
    itemCode,
  };
}

function add(contribution: Contribution, bucket: BucketKey, counters: Counters): void {
  const id = bucketId(bucket);
  const existing = contribution.get(id) ?? { bucket, counters: {} };
  for (const [name, value] of Object.entries(counters) as [Counter, number][]) {
    existing.counters[name] = (existing.counters[name] ?? 0) + value;
  }
  contribution.set(id, existing);
}

const entryFor = (record: CaseRecord, status: CaseStatus): TimelineEntry | undefined =>
  record.timeline.find((e) => e.status === status);

function completionCounters(
  record: CaseRecord,
  completed: TimelineEntry,
  options: StatisticsOptions,
): Counters {
  const accepted = entryFor(record, 'accepted');
  // A completed case has a timeline, hence a due date.
  const lastDay = dueDateOf(record, options.calendar)?.day ?? shanghaiDay(completed.at);
  const counters: Counters = { completedOnTime: shanghaiDay(completed.at) <= lastDay ? 1 : 0 };
  if (accepted) {
    const elapsedMs = Date.parse(completed.at) - Date.parse(accepted.at);
    counters.processingCentihours = Math.round(elapsedMs / MS_PER_CENTIHOUR);
  }
  return counters;
}

/** What one case adds to the statistics, given everything known about it. */
export function contribution(record: CaseRecord | undefined, options: StatisticsOptions): Contribution {
  const result: Contribution = new Map();
  const receivedAt = record && earliestStatusAt(record);
  if (!record || receivedAt === undefined) return result;

  add(result, bucketOf(record, shanghaiDay(receivedAt), options), {
    received: 1,
    online: ONLINE_CHANNELS.has(record.channel) ? 1 : 0,
    fullyOnline: record.fullyOnline ? 1 : 0,
  });
  for (const status of COUNTED_STATUSES) {
    const entry = entryFor(record, status);
    if (!entry) continue;
    const counters: Counters = { [status]: 1 };
    if (status === 'completed') Object.assign(counters, completionCounters(record, entry, options));
    add(result, bucketOf(record, shanghaiDay(entry.at), options), counters);
  }
  const overdueDay = countedOverdueDay(record);
  if (overdueDay !== undefined) add(result, bucketOf(record, overdueDay, options), { overdue: 1 });
  return withoutZeros(result);
}

/** Counters to ADD so that buckets holding `before` hold `after`; zero counters and empty buckets left out. */
export function difference(after: Contribution, before: Contribution): Contribution {
  const delta: Contribution = new Map();
  for (const { bucket, counters } of after.values()) add(delta, bucket, counters);
  for (const { bucket, counters } of before.values()) {
    add(delta, bucket, Object.fromEntries(Object.entries(counters).map(([name, value]) => [name, -value])));
  }
  return withoutZeros(delta);
}

/** Sums contributions (of many cases, or deltas of one transaction), dropping what nets out to zero. */
export function sumContributions(parts: Iterable<Contribution>): Contribution {
  const total: Contribution = new Map();
  for (const part of parts) {
    for (const { bucket, counters } of part.values()) add(total, bucket, counters);
  }
  return withoutZeros(total);
}

function withoutZeros(contribution: Contribution): Contribution {
  const result: Contribution = new Map();
  for (const [id, { bucket, counters }] of contribution) {
    const nonZero = Object.entries(counters).filter(([, value]) => value !== 0);
    if (nonZero.length > 0) result.set(id, { bucket, counters: Object.fromEntries(nonZero) });
  }
  return result;
}

/** Counters as stored: processing time in hours with two decimals. */
export function storedCounters(counters: Counters): Record<string, number> {
  const stored: Record<string, number> = {};
  for (const [name, value] of Object.entries(counters) as [Counter, number][]) {
    if (name === 'processingCentihours') stored.processingHours = value / 100;
    else stored[name] = value;
  }
  return stored;
}
