import type { CaseStatusChangedV1 } from '../../../events/case-status-changed.v1';

/**
 * What evaluation ingest knows of a case, learnt only from `CaseStatusChanged` events (never from the cases
 * table): where it was handled and whether and when it was completed. Events arrive at least once and in any
 * order, so the stored form is commutative — the set of statuses seen, and the completion time, which a case has
 * at most once — and everything else is derived from it here.
 */
export type KnownStatus = CaseStatusChangedV1['status'];

export interface CaseKnowledge {
  caseId: string;
  regionCode: string;
  departmentCode: string;
  itemCode: string;
  statuses: KnownStatus[];
  /** When the case was completed (ISO), once its `completed` change has been seen. */
  completedAt?: string;
}

/** One event's contribution; the store merges it into the case's item without reading it first. */
export interface CaseStatusObservation {
  caseId: string;
  regionCode: string;
  departmentCode: string;
  itemCode: string;
  status: KnownStatus;
  statusAt: string;
}

export const observationOf = (detail: CaseStatusChangedV1): CaseStatusObservation => ({
  caseId: detail.caseId,
  regionCode: detail.regionCode,
  departmentCode: detail.departmentCode,
  itemCode: detail.itemCode,
  status: detail.status,
  statusAt: detail.statusAt,
});

/** Ended without completion: no completion will ever come, so an evaluation at completion cannot wait for one. */
export const endedWithoutCompletion = (known: CaseKnowledge): boolean =>
  known.completedAt === undefined &&
  (known.statuses.includes('terminated') || known.statuses.includes('rejected'));
