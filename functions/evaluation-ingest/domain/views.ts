import type { AcceptedEvaluation } from './announcements';
import { EVALUATION_LEVELS } from './levels';
import type { RejectedEvaluation } from './rules';

/**
 * What the query routes show of stored items. Nothing here leaves more than its reader may see: an evaluator sees
 * the masked id, never the idHmac, the subject or the abuse flags (they judge the pushing platform, not the
 * person); a platform sees its rejections without evaluator or comment, which rejections never store anyway.
 */
const levelNameOf = (level: number): string =>
  EVALUATION_LEVELS.find((entry) => entry.level === level)?.nameZh ?? String(level);

/** One of the person's own evaluations in the user space (`GET /v1/me/evaluations`). */
export interface OwnEvaluationView {
  evaluationId: string;
  /** Present for a review: a later opinion on the same evaluation, kept but never counted. */
  reviewId?: string;
  isReview: boolean;
  caseId: string;
  regionCode: string;
  departmentCode: string;
  itemCode: string;
  level: number;
  levelName: string;
  channel: AcceptedEvaluation['channel'];
  stage: AcceptedEvaluation['stage'];
  dimensions?: AcceptedEvaluation['dimensions'];
  /** The person's own words, shown back to the person only. */
  comment?: string;
  evaluatedAt: string;
  acceptedAt: string;
  evaluator: { type: AcceptedEvaluation['evaluator']['type']; maskedId?: string };
}

export function ownEvaluationView(evaluation: AcceptedEvaluation): OwnEvaluationView {
  const { evaluator } = evaluation;
  return {
    evaluationId: evaluation.evaluationId,
    ...(evaluation.isReview ? { reviewId: evaluation.submissionId } : {}),
    isReview: evaluation.isReview,
    caseId: evaluation.caseId,
    regionCode: evaluation.regionCode,
    departmentCode: evaluation.departmentCode,
    itemCode: evaluation.itemCode,
    level: evaluation.level,
    levelName: levelNameOf(evaluation.level),
    channel: evaluation.channel,
    stage: evaluation.stage,
    ...(evaluation.dimensions === undefined ? {} : { dimensions: evaluation.dimensions }),
    ...(evaluation.comment === undefined ? {} : { comment: evaluation.comment }),
    evaluatedAt: evaluation.evaluatedAt,
    acceptedAt: evaluation.acceptedAt,
    evaluator: {
      type: evaluator.type,
      ...(evaluator.maskedId === undefined ? {} : { maskedId: evaluator.maskedId }),
    },
  };
}

/** A rejected submission as its pushing platform reads it (`GET /v1/evaluations/rejections`). */
export interface RejectionView {
  evaluationId: string;
  submissionId: string;
  batchId: string;
  batchIndex?: number;
  caseId: string;
  level: number;
  channel: RejectedEvaluation['channel'];
  stage: RejectedEvaluation['stage'];
  evaluatedAt: string;
  receivedAt: string;
  rejectedAt: string;
  reason: RejectedEvaluation['reason'];
}

export const rejectionView = (rejection: RejectedEvaluation): RejectionView => ({
  evaluationId: rejection.evaluationId,
  submissionId: rejection.submissionId,
  batchId: rejection.batchId,
  ...(rejection.batchIndex === undefined ? {} : { batchIndex: rejection.batchIndex }),
  caseId: rejection.caseId,
  level: rejection.level,
  channel: rejection.channel,
  stage: rejection.stage,
  evaluatedAt: rejection.evaluatedAt,
  receivedAt: rejection.receivedAt,
  rejectedAt: rejection.rejectedAt,
  reason: rejection.reason,
});
