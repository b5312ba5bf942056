import { changeIdOf } from '../../../events/case-status-changed.v1';
import type { Day } from '../../../shared/calendar';
import type { CaseChange, Channel, MaskedApplicant } from './change';
import type { DueDate } from './due';
import { type CaseStatus, canCoexist, comesBefore, stageOf } from './status';

/** Conflicts kept per case: enough to diagnose a misbehaving platform, bounded so an item stays small. */
export const MAX_CONFLICTS = 20;

export interface TimelineEntry {
  status: CaseStatus;
  /** UTC ISO instant. */
  at: string;
  /** `{caseId}#{status}`, deterministic: event subscribers deduplicate on it. */
  changeId: string;
  receivedAt: string;
  clientId: string;
  batchId: string;
  correlationId: string;
}

export type ConflictReason =
  /** The status cannot share a timeline with one already recorded (rejected after accepted, …). */
  | 'incompatible_status'
  /** The status would sit before a status it must follow, or after one it must precede. */
  | 'status_time_out_of_order'
  /** The status is recorded already, at another time. */
  | 'status_time_differs';

export interface CaseConflict {
  status: CaseStatus;
  at: string;
  reason: ConflictReason;
  conflictsWith: CaseStatus;
  detectedAt: string;
  clientId: string;
  batchId: string;
}

/** What a case says about itself, as opposed to its lifecycle. */
export interface CaseAttributes {
  itemCode: string;
  itemName: string;
  departmentCode: string;
  applicant: MaskedApplicant;
  channel: Channel;
  fullyOnline: boolean;
  promisedDays: number;
  statutoryDays: number;
}

export interface CaseRecord extends CaseAttributes {
  caseId: string;
  regionCode: string;
  caseNumber: string;
  /** Each status at most once, in lifecycle order. */
  timeline: TimelineEntry[];
  /** Most recent last, at most MAX_CONFLICTS. */
  conflicts: CaseConflict[];
  /** Optimistic-locking counter, owned by the store. */
  version: number;
  /** The change that first created the case: its redelivery re-announces CaseReceived. */
  createdByChangeId: string;
  firstSeenAt: string;
  lastChangeAt: string;
  /**
   * The due day and its basis, fixed by the consumer (domain/due.ts). Absent on a record straight out of
   * applyChange, which knows no calendar, and on cases stored before due days existed.
   */
  due?: DueDate;
  /**
   * Set by the overdue sweep: the day the case was counted overdue in (its due day + 1). Kept when the due
   * day later moves, so the count can be withdrawn and the case swept again (domain/overdue.ts).
   */
  overdueDay?: Day;
}

export type ChangeOutcome =
  | {
      kind: 'applied' | 'duplicate';
      change: CaseChange;
      /** The timeline entry: the new one, or for a duplicate the one already recorded. */
      entry: TimelineEntry;
      /** The case's furthest status once this change is applied. */
      currentStatus: CaseStatus;
      /** Whether this is the change that created the case. */
      createsCase: boolean;
    }
  | { kind: 'conflict'; change: CaseChange; conflict: CaseConflict; recorded: boolean };

export interface ApplyResult {
  /** undefined only when nothing was ever applied to a case that did not exist. */
  record: CaseRecord | undefined;
  outcomes: ChangeOutcome[];
  /** Whether the record differs from the one passed in and must be written. */
  changed: boolean;
}

const toUtcIso = (instant: string): string => new Date(Date.parse(instant)).toISOString();
const sameInstant = (a: string, b: string) => Date.parse(a) === Date.parse(b);

export const currentStatus = (record: CaseRecord): CaseStatus | undefined => record.timeline.at(-1)?.status;

/** The earliest status time known for the case: the day it is counted as received. */
export function earliestStatusAt(record: CaseRecord): string | undefined {
  let earliest: string | undefined;
  for (const entry of record.timeline) {
    if (earliest === undefined || Date.parse(entry.at) < Date.parse(earliest)) earliest = entry.at;
  }
  return earliest;
}

function entryOf(change: CaseChange): TimelineEntry {
  return {
    status: change.status,
    at: toUtcIso(change.statusAt),
    changeId: changeIdOf(change.caseId, change.status),
    receivedAt: change.receivedAt,
    clientId: change.clientId,
    batchId: change.batchId,
    correlationId: change.correlationId,
  };
}

function attributesOf(change: CaseChange): CaseAttributes {
  const { itemCode, itemName, departmentCode, applicant, channel, fullyOnline, promisedDays, statutoryDays } =
    change;
  return { itemCode, itemName, departmentCode, applicant, channel, fullyOnline, promisedDays, statutoryDays };
}

function newCase(change: CaseChange, entry: TimelineEntry, now: string): CaseRecord {
  return {
    caseId: change.caseId,
    regionCode: change.regionCode,
    caseNumber: change.caseNumber,
    ...attributesOf(change),
    timeline: [entry],
    conflicts: [],
    version: 0,
    createdByChangeId: entry.changeId,
    firstSeenAt: now,
    lastChangeAt: now,
  };
}

/** Why `entry` cannot join the timeline, if it cannot. Pairwise, hence independent of arrival order. */
function findConflict(
  timeline: readonly TimelineEntry[],
  entry: TimelineEntry,
): Pick<CaseConflict, 'reason' | 'conflictsWith'> | undefined {
  for (const known of timeline) {
    if (known.status === entry.status) {
      return sameInstant(known.at, entry.at)
        ? undefined
        : { reason: 'status_time_differs', conflictsWith: known.status };
    }
    if (!canCoexist(known.status, entry.status))
      return { reason: 'incompatible_status', conflictsWith: known.status };
    const knownFirst = comesBefore(known.status, entry.status);
    const atMs = Date.parse(entry.at);
    const knownMs = Date.parse(known.at);
    if (knownFirst ? knownMs > atMs : atMs > knownMs) {
      return { reason: 'status_time_out_of_order', conflictsWith: known.status };
    }
  }
  return undefined;
}

function withConflict(record: CaseRecord, conflict: CaseConflict): { record: CaseRecord; recorded: boolean } {
  const known = record.conflicts.some((c) => c.status === conflict.status && sameInstant(c.at, conflict.at));
  if (known) return { record, recorded: false };
  const conflicts = [...record.conflicts, conflict].slice(-MAX_CONFLICTS);
  return { record: { ...record, conflicts, lastChangeAt: conflict.detectedAt }, recorded: true };
}

function withEntry(record: CaseRecord, entry: TimelineEntry, change: CaseChange, now: string): CaseRecord {
  const timeline = [...record.timeline, entry].sort((a, b) => stageOf(a.status) - stageOf(b.status));
  // Attributes follow the furthest status, so the final case is the same whatever the arrival order.
  const furthest = currentStatus(record);
  const advances = furthest === undefined || stageOf(entry.status) > stageOf(furthest);
  return { ...record, ...(advances ? attributesOf(change) : {}), timeline, lastChangeAt: now };
}

/** Applies one status change. A duplicate changes nothing; a conflicting change is only recorded. */
export function applyChange(record: CaseRecord | undefined, change: CaseChange, now: string): ApplyResult {
  const entry = entryOf(change);
  if (record === undefined) {
    const created = newCase(change, entry, now);
    const outcome = {
      kind: 'applied',
      change,
      entry,
      currentStatus: entry.status,
      createsCase: true,
    } as const;
    return { record: created, outcomes: [outcome], changed: true };
  }
  const known = record.timeline.find((e) => e.status === entry.status);
  const conflict = findConflict(record.timeline, entry);
  if (known && !conflict) {
    const outcome = {
      kind: 'duplicate',
      change,
      entry: known,
      currentStatus: currentStatus(record) ?? known.status,
      createsCase: known.changeId === record.createdByChangeId,
    } as const;
    return { record, outcomes: [outcome], changed: false };
  }
  if (conflict) {
    const detected: CaseConflict = {
      status: entry.status,
      at: entry.at,
      ...conflict,
      detectedAt: now,
      clientId: change.clientId,
      batchId: change.batchId,
    };
    const result = withConflict(record, detected);
    return {
      record: result.record,
      outcomes: [{ kind: 'conflict', change, conflict: detected, recorded: result.recorded }],
      changed: result.recorded,
    };
  }
  const next = withEntry(record, entry, change, now);
  const outcome = {
    kind: 'applied',
    change,
    entry,
    currentStatus: currentStatus(next) ?? entry.status,
    createsCase: false,
  } as const;
  return { record: next, outcomes: [outcome], changed: true };
}

/** Applies the changes of one case in arrival order; the result does not depend on that order. */
export function applyChanges(
  record: CaseRecord | undefined,
  changes: readonly CaseChange[],
  now: string,
): ApplyResult {
  let current = record;
  let changed = false;
  const outcomes: ChangeOutcome[] = [];
  for (const change of changes) {
    const result = applyChange(current, change, now);
    current = result.record;
    changed ||= result.changed;
    outcomes.push(...result.outcomes);
  }
  return { record: current, outcomes, changed };
}
