/**
 * The case (办件) state machine. A case moves submitted → accepted | rejected;
 * accepted → in_progress | completed | terminated; in_progress → completed | terminated.
 *
 * Platforms push status changes out of order, so the hub never asks "is this the next step?"
 * but "can this status sit in the same timeline as the ones already known?". Because the graph
 * is acyclic, a set of statuses is a valid timeline exactly when every pair is ordered by
 * reachability — a pairwise test, which is what makes applying changes order-independent.
 */
export const CASE_STATUSES = [
  'submitted',
  'accepted',
  'rejected',
  'in_progress',
  'completed',
  'terminated',
] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

const NEXT: Record<CaseStatus, readonly CaseStatus[]> = {
  submitted: ['accepted', 'rejected'],
  accepted: ['in_progress', 'completed', 'terminated'],
  rejected: [],
  in_progress: ['completed', 'terminated'],
  completed: [],
  terminated: [],
};

function reachableFrom(status: CaseStatus): ReadonlySet<CaseStatus> {
  const seen = new Set<CaseStatus>();
  const pending = [...NEXT[status]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (!seen.has(next)) {
      seen.add(next);
      pending.push(...NEXT[next]);
    }
  }
  return seen;
}

const REACHABLE = Object.fromEntries(CASE_STATUSES.map((s) => [s, reachableFrom(s)])) as Record<
  CaseStatus,
  ReadonlySet<CaseStatus>
>;

/** True when `later` can follow `earlier`, directly or through intermediate statuses. */
export function comesBefore(earlier: CaseStatus, later: CaseStatus): boolean {
  return REACHABLE[earlier].has(later);
}

/** Two statuses can belong to one case's timeline only if one leads to the other. */
export function canCoexist(a: CaseStatus, b: CaseStatus): boolean {
  return a === b || comesBefore(a, b) || comesBefore(b, a);
}

/** Number of steps from `submitted`; the current status of a case is its furthest one. */
export function stageOf(status: CaseStatus): number {
  return CASE_STATUSES.filter((s) => comesBefore(s, status)).length;
}

export const isFinalStatus = (status: CaseStatus): boolean => NEXT[status].length === 0;
