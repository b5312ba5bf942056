import type { FieldError } from '../../../shared/problem';
import { provinceOf } from '../../../shared/regions';
import { type CaseChange, caseIdOf, type MaskedApplicant } from './change';
import { type ValidCaseRecord, validateCaseRecord } from './record';

/** The part of a registered client that decides what it may write. */
export interface IngestClient {
  clientId: string;
  kind: 'region' | 'ministry' | 'issuer' | 'app';
  regionCode?: string;
}

export type RejectReason =
  /** The record fails its schema; `errors` says where. */
  | 'invalid_record'
  /** A region client sent a case of another province. */
  | 'out_of_scope'
  /** Valid, but the queue did not take it: the client may send it again. */
  | 'enqueue_failed';

export interface RejectedCaseRecord {
  index: number;
  reason: RejectReason;
  errors?: FieldError[];
}

/** Replaces the applicant's ID number and name by their keyed hash and masked forms. */
export type Pseudonymise = (applicant: ValidCaseRecord['applicant']) => MaskedApplicant;

export interface IngestContext {
  client: IngestClient;
  batchId: string;
  correlationId: string;
  now: Date;
  pseudonymise: Pseudonymise;
}

export interface IndexedChange {
  index: number;
  change: CaseChange;
}

export interface Triage {
  changes: IndexedChange[];
  rejected: RejectedCaseRecord[];
}

/**
 * Ministries report and read nationwide; a provincial platform its own province (cities and counties included).
 * Other kinds of client have no business with cases.
 */
export function mayAccessRegion(client: IngestClient, regionCode: string): boolean {
  if (client.kind === 'ministry') return true;
  if (client.kind !== 'region' || client.regionCode === undefined) return false;
  return provinceOf(client.regionCode) === provinceOf(regionCode);
}

export function toChange(record: ValidCaseRecord, context: IngestContext): CaseChange {
  const { applicant, ...rest } = record;
  return {
    version: 1,
    caseId: caseIdOf(record.regionCode, record.caseNumber),
    ...rest,
    applicant: context.pseudonymise(applicant),
    clientId: context.client.clientId,
    batchId: context.batchId,
    correlationId: context.correlationId,
    receivedAt: context.now.toISOString(),
  };
}

/** Each record is judged on its own: one bad record never costs the others their place. */
export function triageRecords(records: readonly unknown[], context: IngestContext): Triage {
  const changes: IndexedChange[] = [];
  const rejected: RejectedCaseRecord[] = [];
  records.forEach((input, index) => {
    const validation = validateCaseRecord(input, context.now);
    if (!validation.ok) {
      rejected.push({ index, reason: 'invalid_record', errors: validation.errors });
    } else if (!mayAccessRegion(context.client, validation.record.regionCode)) {
      rejected.push({ index, reason: 'out_of_scope' });
    } else {
      changes.push({ index, change: toChange(validation.record, context) });
    }
  });
  return { changes, rejected };
}
