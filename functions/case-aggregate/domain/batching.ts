import type { CaseRecord } from './case';
import type { CaseChange } from './change';
import { type BucketCounters, type Contribution, sumContributions } from './statistics';

/** DynamoDB's limit of items per TransactWriteItems call. */
export const MAX_TRANSACTION_ITEMS = 100;

export interface ReceivedChange {
  messageId: string;
  change: CaseChange;
}

export interface CaseGroup {
  caseId: string;
  changes: ReceivedChange[];
}

/** A transaction touches each item once, so the changes of one case are applied together. */
export function groupByCase(received: readonly ReceivedChange[]): CaseGroup[] {
  const groups = new Map<string, CaseGroup>();
  for (const item of received) {
    const group = groups.get(item.change.caseId) ?? { caseId: item.change.caseId, changes: [] };
    group.changes.push(item);
    groups.set(item.change.caseId, group);
  }
  return [...groups.values()];
}

/** One case to put (conditioned on the version it was read at) with the statistics it moves. */
export interface CaseWrite {
  caseId: string;
  /** undefined: the case must not exist yet. */
  expectedVersion: number | undefined;
  record: CaseRecord;
  delta: Contribution;
}

export interface TransactionPlan<W extends CaseWrite = CaseWrite> {
  writes: W[];
  /** Deltas of every write merged, one entry per bucket. */
  buckets: BucketCounters[];
}

const itemCount = (writes: number, buckets: number) => writes + buckets;

/**
 * Packs case writes into transactions of at most `maxItems` items: one Put per case plus one Update per
 * distinct bucket. Cases sharing buckets are packed together where possible, which also merges their
 * increments — fewer items, fewer hot-key conflicts.
 */
export function planTransactions<W extends CaseWrite>(
  writes: readonly W[],
  maxItems = MAX_TRANSACTION_ITEMS,
): TransactionPlan<W>[] {
  const plans: TransactionPlan<W>[] = [];
  let pending: W[] = [];
  let pendingBuckets = new Set<string>();

  const flush = () => {
    if (pending.length === 0) return;
    plans.push({ writes: pending, buckets: [...sumContributions(pending.map((w) => w.delta)).values()] });
    pending = [];
    pendingBuckets = new Set();
  };

  for (const write of writes) {
    const ids = [...write.delta.keys()];
    if (itemCount(1, ids.length) > maxItems) throw new Error(`case write needs more than ${maxItems} items`);
    const added = ids.filter((id) => !pendingBuckets.has(id)).length;
    if (itemCount(pending.length + 1, pendingBuckets.size + added) > maxItems) flush();
    pending.push(write);
    for (const id of ids) pendingBuckets.add(id);
  }
  flush();
  return plans;
}
