import {
  type CaseGroup,
  type CaseWrite,
  groupByCase,
  planTransactions,
  type ReceivedChange,
} from './domain/batching';
import { applyChanges, type CaseRecord, type ChangeOutcome } from './domain/case';
import { withDueDate } from './domain/due';
import { type CaseEvent, chunkEvents, eventsFor } from './domain/events';
import { contribution, difference, type StatisticsOptions } from './domain/statistics';
import { mapLimit } from './map-limit';
import type { CaseStore } from './store';

/**
 * Applies one SQS batch of case changes exactly once: load the touched cases, apply the changes in memory,
 * commit cases and merged statistics deltas in few transactions, then announce what was applied.
 * Every message ends either processed or failed (and redelivered by SQS); none is dropped silently.
 */
export interface ChangeProcessorDependencies {
  store: CaseStore;
  /** Puts events on the bus; rejects if any of them is not published. */
  publish: (events: CaseEvent[]) => Promise<unknown>;
  clock: () => Date;
  statistics: StatisticsOptions;
  /** Commit attempts per case before its messages are left to SQS redelivery (default 5). */
  maxCommitAttempts?: number;
  /** Events per publish call (default 10, the PutEvents limit). */
  maxEventsPerPublish?: number;
  /** Publish calls in flight at once (default 8: a batch of 50 changes and its new cases in one wave). */
  publishConcurrency?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface BatchReport {
  /** messageId → undefined when done, or why it must be redelivered. */
  outcomes: Map<string, Error | undefined>;
  applied: number;
  duplicates: number;
  conflicts: { caseId: string; status: string; reason: string }[];
  commitAttempts: number;
}

interface CaseWork extends CaseWrite {
  tagged: TaggedOutcome[];
}

interface TaggedOutcome {
  messageId: string;
  outcome: ChangeOutcome;
}

interface Settled {
  record: CaseRecord;
  tagged: TaggedOutcome[];
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

export async function processChanges(
  deps: ChangeProcessorDependencies,
  received: readonly ReceivedChange[],
): Promise<BatchReport> {
  const maxAttempts = deps.maxCommitAttempts ?? 5;
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const failures = new Map<string, Error>();
  const settled: Settled[] = [];
  const pending = new Map(groupByCase(received).map((group) => [group.caseId, group]));
  const records = await deps.store.loadCases([...pending.keys()]);

  const fail = (messageIds: readonly string[], error: Error) => {
    for (const id of messageIds) failures.set(id, error);
  };
  const failCase = (caseId: string, error: Error) => {
    fail(pending.get(caseId)?.changes.map((c) => c.messageId) ?? [], error);
    pending.delete(caseId);
  };

  /** Re-reads cases another writer changed; their changes are applied again on top. */
  async function reload(caseIds: readonly string[]): Promise<void> {
    if (caseIds.length === 0) return;
    try {
      const fresh = await deps.store.loadCases(caseIds);
      for (const id of caseIds) {
        const record = fresh.get(id);
        if (record) records.set(id, record);
        else records.delete(id);
      }
    } catch (error) {
      for (const id of caseIds) failCase(id, asError(error));
    }
  }

  let attempts = 0;
  for (; pending.size > 0 && attempts < maxAttempts; attempts += 1) {
    const now = deps.clock().toISOString();
    const work: CaseWork[] = [];
    for (const group of pending.values()) {
      const prepared = prepareCase(group, records.get(group.caseId), now, deps.statistics);
      if (prepared.kind === 'write') {
        work.push(prepared.write);
      } else {
        // Nothing to write (duplicates, or a conflict already on record): only events are owed.
        settled.push(prepared.settled);
        pending.delete(group.caseId);
      }
    }

    let contended = false;
    for (const plan of planTransactions(work)) {
      try {
        const result = await deps.store.commit(plan);
        if (result.committed) {
          for (const w of plan.writes) {
            settled.push({
              record: { ...w.record, version: (w.expectedVersion ?? 0) + 1 },
              tagged: w.tagged,
            });
            pending.delete(w.caseId);
          }
          continue;
        }
        contended ||= result.contended;
        await reload(result.staleCaseIds);
      } catch (error) {
        for (const w of plan.writes) failCase(w.caseId, asError(error));
      }
    }
    if (contended && pending.size > 0)
      await sleep(Math.floor(random() * Math.min(1_000, 20 * 2 ** attempts)));
  }
  for (const caseId of [...pending.keys()]) {
    failCase(caseId, new Error(`case not committed after ${maxAttempts} attempts; left to redelivery`));
  }

  await publishEvents(deps, settled, fail);
  return report(received, failures, settled, attempts);
}

/** Applies a case's changes in memory: either a write to commit, or nothing changed at all. */
function prepareCase(
  group: CaseGroup,
  before: CaseRecord | undefined,
  now: string,
  statistics: StatisticsOptions,
): { kind: 'write'; write: CaseWork } | { kind: 'unchanged'; settled: Settled } {
  const result = applyChanges(
    before,
    group.changes.map((c) => c.change),
    now,
  );
  const tagged = result.outcomes.map((outcome, i) => ({
    messageId: group.changes[i]?.messageId ?? '',
    outcome,
  }));
  // A group holds at least one change, so there is always a record after applying.
  if (!result.changed) return { kind: 'unchanged', settled: { record: result.record as CaseRecord, tagged } };
  // Fixed here, with the calendar of this commit, and stored: later commits judge it by the stored day.
  const record = withDueDate(result.record as CaseRecord, statistics.calendar);
  const delta = difference(contribution(record, statistics), contribution(before, statistics));
  return {
    kind: 'write',
    write: { caseId: group.caseId, expectedVersion: before?.version, record, delta, tagged },
  };
}

async function publishEvents(
  deps: ChangeProcessorDependencies,
  settled: readonly Settled[],
  fail: (messageIds: readonly string[], error: Error) => void,
): Promise<void> {
  const events = settled.flatMap((s) => eventsFor(s.record, s.tagged));
  // Several PutEvents in flight: a batch of 50 changes owes 6+ calls (a CaseReceived per new case besides the
  // changes), which one after the other cost the consumer more than its transaction; all in one wave, the batch
  // waits for one call's latency. Subscribers never relied on order (they dedupe by changeId).
  await mapLimit(
    chunkEvents(events, deps.maxEventsPerPublish ?? 10),
    deps.publishConcurrency ?? 8,
    async (chunk) => {
      try {
        await deps.publish(chunk.map((e) => e.event));
      } catch (error) {
        // Committed but not announced: redelivery finds the changes duplicate and announces them again.
        fail(
          chunk.flatMap((e) => e.messageIds),
          asError(error),
        );
      }
    },
  );
}

function report(
  received: readonly ReceivedChange[],
  failures: ReadonlyMap<string, Error>,
  settled: readonly Settled[],
  commitAttempts: number,
): BatchReport {
  const outcomes = new Map<string, Error | undefined>(
    received.map((r) => [r.messageId, failures.get(r.messageId)]),
  );
  const all = settled.flatMap((s) => s.tagged.map((t) => t.outcome));
  return {
    outcomes,
    applied: all.filter((o) => o.kind === 'applied').length,
    duplicates: all.filter((o) => o.kind === 'duplicate').length,
    conflicts: all.flatMap((o) =>
      o.kind === 'conflict'
        ? [{ caseId: o.change.caseId, status: o.change.status, reason: o.conflict.reason }]
        : [],
    ),
    commitAttempts,
  };
}
