import type { FieldError } from '../../../shared/problem';
import { type IngestClient, mayAccessRegion } from '../../case-aggregate/domain/ingest';
import {
  type EvaluationMessage,
  evaluationRecordSchema,
  type MaskedEvaluator,
  type MessageContext,
  toMessage,
  type ValidEvaluationRecord,
  validateRecord,
} from './evaluation';

/**
 * Triage of a pushed batch: each record is judged on its own, so one bad record never costs the others their
 * place. A region client writes only its own province's evaluations, a ministry any (DESIGN.md §3) — the same
 * rule as for cases, so the same function decides.
 */
export type IngestRejectReason =
  /** The record fails its schema; `errors` says where (never with the value). */
  | 'invalid_record'
  /** A region client sent an evaluation of another province's case. */
  | 'out_of_scope'
  /** Valid, but the queue did not take it: the client may send it again. */
  | 'enqueue_failed';

export interface RejectedEvaluationRecord {
  index: number;
  reason: IngestRejectReason;
  errors?: FieldError[];
}

/** Replaces the evaluator's ID number by its keyed hash, masked form and subject. */
export type PseudonymiseEvaluator = (evaluator: ValidEvaluationRecord['evaluator']) => MaskedEvaluator;

export interface IndexedEvaluation {
  index: number;
  message: EvaluationMessage;
}

export interface EvaluationTriage {
  messages: IndexedEvaluation[];
  rejected: RejectedEvaluationRecord[];
}

export function triageEvaluations(
  records: readonly unknown[],
  context: Omit<MessageContext, 'clientId'> & { client: IngestClient; pseudonymise: PseudonymiseEvaluator },
): EvaluationTriage {
  const messages: IndexedEvaluation[] = [];
  const rejected: RejectedEvaluationRecord[] = [];
  const messageContext: MessageContext = { ...context, clientId: context.client.clientId };
  records.forEach((input, index) => {
    const validation = validateRecord(evaluationRecordSchema, input, context.receivedAt);
    if (!validation.ok) {
      rejected.push({ index, reason: 'invalid_record', errors: validation.errors });
    } else if (!mayAccessRegion(context.client, validation.record.regionCode)) {
      rejected.push({ index, reason: 'out_of_scope' });
    } else {
      const evaluator = context.pseudonymise(validation.record.evaluator);
      const message = toMessage(validation.record, evaluator, messageContext);
      messages.push({ index, message: { ...message, batchIndex: index } });
    }
  });
  return { messages, rejected };
}
