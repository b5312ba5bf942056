import type { BadReviewOpenedV1 } from '../../../events/bad-review-opened.v1';
import type { EvaluationReceivedV1 } from '../../../events/evaluation-received.v1';
import type { AbuseFlag } from './abuse';
import type { CaseKnowledge } from './case-knowledge';
import type { EvaluationMessage } from './evaluation';
import { isBadReview } from './levels';

/**
 * An accepted evaluation (the vote, or a review) as it is stored, and what is announced of it: the case's
 * region, department and item come from the case; the evaluator and the comment never leave the table.
 */
export interface AcceptedEvaluation extends Omit<EvaluationMessage, 'version' | 'caseNumber'> {
  submissionId: string;
  departmentCode: string;
  itemCode: string;
  isReview: boolean;
  flags: AbuseFlag[];
  acceptedAt: string;
}

export function acceptedEvaluationOf(input: {
  message: EvaluationMessage;
  submissionId: string;
  known: CaseKnowledge;
  isReview: boolean;
  flags: readonly AbuseFlag[];
  now: Date;
}): AcceptedEvaluation {
  const { version: _version, caseNumber: _caseNumber, ...message } = input.message;
  return {
    ...message,
    submissionId: input.submissionId,
    regionCode: input.known.regionCode,
    departmentCode: input.known.departmentCode,
    itemCode: input.known.itemCode,
    isReview: input.isReview,
    flags: [...new Set(input.flags)].sort(),
    acceptedAt: input.now.toISOString(),
  };
}

export type EvaluationEvent =
  | { detailType: 'EvaluationReceived'; detail: EvaluationReceivedV1 }
  | { detailType: 'BadReviewOpened'; detail: BadReviewOpenedV1 };

export function evaluationReceivedOf(evaluation: AcceptedEvaluation, correlationId: string): EvaluationEvent {
  return {
    detailType: 'EvaluationReceived',
    detail: {
      version: 1,
      correlationId,
      evaluationId: evaluation.evaluationId,
      ...(evaluation.isReview ? { reviewId: evaluation.submissionId } : {}),
      caseId: evaluation.caseId,
      regionCode: evaluation.regionCode,
      departmentCode: evaluation.departmentCode,
      itemCode: evaluation.itemCode,
      level: evaluation.level,
      channel: evaluation.channel,
      stage: evaluation.stage,
      flags: [...evaluation.flags],
      isReview: evaluation.isReview,
      evaluatedAt: evaluation.evaluatedAt,
    },
  };
}

/** Only a vote at level 1–2 opens a ticket; a review is never counted, so it opens none. */
export const opensTicket = (evaluation: AcceptedEvaluation): boolean =>
  !evaluation.isReview && isBadReview(evaluation.level);

export function badReviewOpenedOf(evaluation: AcceptedEvaluation, correlationId: string): EvaluationEvent {
  if (!opensTicket(evaluation)) throw new Error('only a bad vote opens a ticket');
  return {
    detailType: 'BadReviewOpened',
    detail: {
      version: 1,
      correlationId,
      evaluationId: evaluation.evaluationId,
      caseId: evaluation.caseId,
      regionCode: evaluation.regionCode,
      departmentCode: evaluation.departmentCode,
      itemCode: evaluation.itemCode,
      level: evaluation.level as 1 | 2,
      channel: evaluation.channel,
      stage: evaluation.stage,
      evaluatedAt: evaluation.evaluatedAt,
      openedAt: evaluation.acceptedAt,
    },
  };
}

/** Everything owed for an accepted evaluation: announced on acceptance, and again on every redelivery. */
export const announcementsOf = (evaluation: AcceptedEvaluation, correlationId: string): EvaluationEvent[] => [
  evaluationReceivedOf(evaluation, correlationId),
  ...(opensTicket(evaluation) ? [badReviewOpenedOf(evaluation, correlationId)] : []),
];
