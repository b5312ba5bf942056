import { type Day, deadlineDay, shanghaiDay, type WorkingCalendar } from '../../../shared/calendar';
import { type CaseKnowledge, endedWithoutCompletion } from './case-knowledge';
import type { EvaluationMessage } from './evaluation';

/**
 * The rules an evaluation passes before it counts (DOMAIN.md "Evaluations"): the case must be known, an
 * evaluation at completion needs a completed case, and nothing is accepted later than the late window after
 * completion. One evaluation per case, stage and evaluator: the first accepted submission is the vote, a later
 * different one a review (kept, never counted), and a copy of either changes nothing.
 */
export const REJECT_REASONS = ['case_unknown', 'case_not_completed', 'too_late'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface RuleSettings {
  /** How long an evaluation waits for its case (or for its completion) before it is rejected. */
  caseWaitSeconds: number;
  /** Longest pause between two looks at a waiting evaluation (SQS allows at most 900 s of delay). */
  recheckSeconds: number;
  /** Working days after completion within which an evaluation is accepted. */
  lateWorkingDays: number;
  calendar: WorkingCalendar;
}

export const DEFAULT_CASE_WAIT_SECONDS = 24 * 60 * 60;
export const DEFAULT_RECHECK_SECONDS = 900;
export const MAX_SQS_DELAY_SECONDS = 900;
export const DEFAULT_LATE_EVALUATION_WORKING_DAYS = 5;

/** What is already stored for this evaluation id: the vote, and which submissions have been recorded. */
export interface PriorSubmissions {
  voteSubmissionId?: string;
  /** submissionId → how it was recorded. */
  recorded: ReadonlyMap<string, 'vote' | 'review' | 'rejected'>;
}

export type Judgement =
  | { kind: 'vote' }
  | { kind: 'review' }
  /** Recorded before: nothing changes; a vote or review is announced again (its first announcement may have failed). */
  | { kind: 'duplicate'; as: 'vote' | 'review' | 'rejected' }
  | { kind: 'wait'; recheckInSeconds: number; awaiting: 'case' | 'completion' }
  | { kind: 'reject'; reason: RejectReason };

/** The first look: a submission already recorded is a duplicate, whatever the case says by now. */
export function judgeDuplicate(submissionId: string, prior: PriorSubmissions): Judgement | undefined {
  const recorded = prior.recorded.get(submissionId);
  return recorded === undefined ? undefined : { kind: 'duplicate', as: recorded };
}

/** Judges a submission not recorded before against what is known of its case at `now`. */
export function judge(
  message: EvaluationMessage,
  known: CaseKnowledge | undefined,
  prior: PriorSubmissions,
  now: Date,
  settings: RuleSettings,
): Judgement {
  const waitOr = (awaiting: 'case' | 'completion', reason: RejectReason): Judgement => {
    const remainingSeconds = Math.ceil(
      (Date.parse(message.receivedAt) + settings.caseWaitSeconds * 1000 - now.getTime()) / 1000,
    );
    if (remainingSeconds <= 0) return { kind: 'reject', reason };
    return { kind: 'wait', awaiting, recheckInSeconds: Math.min(settings.recheckSeconds, remainingSeconds) };
  };

  if (!known) return waitOr('case', 'case_unknown');
  if (message.stage === 'completed' && known.completedAt === undefined) {
    return endedWithoutCompletion(known)
      ? { kind: 'reject', reason: 'case_not_completed' }
      : waitOr('completion', 'case_not_completed');
  }
  if (known.completedAt !== undefined) {
    if (message.stage === 'completed' && Date.parse(message.evaluatedAt) < Date.parse(known.completedAt)) {
      return { kind: 'reject', reason: 'case_not_completed' };
    }
    if (shanghaiDay(message.evaluatedAt) > lastEvaluationDay(known.completedAt, settings)) {
      return { kind: 'reject', reason: 'too_late' };
    }
  }
  return prior.voteSubmissionId === undefined ? { kind: 'vote' } : { kind: 'review' };
}

/** The last Asia/Shanghai day an evaluation of a case completed at `completedAt` is accepted. */
export const lastEvaluationDay = (
  completedAt: string,
  settings: Pick<RuleSettings, 'lateWorkingDays' | 'calendar'>,
): Day => deadlineDay(shanghaiDay(completedAt), settings.lateWorkingDays, settings.calendar);

/** A rejected submission, kept (without evaluator or comment) so that it is counted once and can be reported. */
export interface RejectedEvaluation {
  evaluationId: string;
  submissionId: string;
  caseId: string;
  regionCode: string;
  level: number;
  channel: EvaluationMessage['channel'];
  stage: EvaluationMessage['stage'];
  evaluatedAt: string;
  clientId: string;
  batchId: string;
  /** Where the record stood in its batch, so the platform can match the 202's indexes. */
  batchIndex?: number;
  correlationId: string;
  receivedAt: string;
  rejectedAt: string;
  reason: RejectReason;
}

export const rejectionOf = (
  message: EvaluationMessage,
  submissionId: string,
  reason: RejectReason,
  now: Date,
): RejectedEvaluation => ({
  evaluationId: message.evaluationId,
  submissionId,
  caseId: message.caseId,
  regionCode: message.regionCode,
  level: message.level,
  channel: message.channel,
  stage: message.stage,
  evaluatedAt: message.evaluatedAt,
  clientId: message.clientId,
  batchId: message.batchId,
  ...(message.batchIndex === undefined ? {} : { batchIndex: message.batchIndex }),
  correlationId: message.correlationId,
  receivedAt: message.receivedAt,
  rejectedAt: now.toISOString(),
  reason,
});
