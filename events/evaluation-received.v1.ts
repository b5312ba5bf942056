import * as z from 'zod';
import { baseDetailSchema } from './envelope';
import { caseIdField, departmentCodeField, isoDateTimeField, itemCodeField, regionCodeField } from './fields';

/** Evaluation ids and submission ids: 32 base64url characters of a SHA-256 (see the evaluation-ingest README). */
export const evaluationIdField = z
  .string()
  .regex(/^[A-Za-z0-9_-]{32}$/)
  .describe('Deterministic id of the evaluation of one case, stage and evaluator: a hash of the three.');

export const evaluationLevelField = z
  .number()
  .int()
  .min(1)
  .max(5)
  .describe('5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意. Levels 1–2 are bad reviews (差评).');

export const evaluationChannelField = z
  .enum(['pc', 'app', 'mini_program', 'window', 'hotline', 'terminal'])
  .describe(
    'Where the evaluation was given: PC, app, mini-program, service window, hotline, self-service terminal.',
  );

export const evaluationStageField = z
  .enum(['accepted', 'completed'])
  .describe('Given at acceptance of the case or at its completion.');

export const abuseFlagField = z
  .enum(['burst_identical_top', 'burst_identical_comment'])
  .describe(
    'Part of a burst from one source within one window: identical top ratings, or identical comments. Counted, never dropped.',
  );

/**
 * An evaluation (好差评) was accepted: the first of its case, stage and evaluator is the vote, a later different one
 * a review that must not be counted again. Delivery is at least once, and a vote is announced again, with more
 * flags, when a burst it belongs to is detected after it was first announced: keep one record per
 * `evaluationId` (reviews: per `reviewId`) and the union of its flags.
 */
export const buildEvaluationReceivedV1 = () =>
  baseDetailSchema
    .extend({
      version: z.literal(1).describe('Detail schema version.'),
      evaluationId: evaluationIdField.describe('Dedupe key of a vote (with `reviewId` for a review).'),
      reviewId: evaluationIdField
        .optional()
        .describe('Present exactly when `isReview`: the id of this review of the evaluation.'),
      caseId: caseIdField,
      regionCode: regionCodeField,
      departmentCode: departmentCodeField,
      itemCode: itemCodeField,
      level: evaluationLevelField,
      channel: evaluationChannelField,
      stage: evaluationStageField,
      flags: z.array(abuseFlagField).describe('Abuse flags; empty for an ordinary evaluation.'),
      isReview: z
        .boolean()
        .describe('A later evaluation by the same evaluator: kept, never counted as a vote.'),
      evaluatedAt: isoDateTimeField.describe('When the evaluator gave it, ISO 8601.'),
    })
    .superRefine((detail, ctx) => {
      if (detail.isReview !== (detail.reviewId !== undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: ['reviewId'],
          message: 'reviewId is present exactly for a review',
        });
      }
      if (!detail.caseId.startsWith(`${detail.regionCode}:`)) {
        ctx.addIssue({ code: 'custom', path: ['regionCode'], message: 'regionCode must prefix caseId' });
      }
    })
    .describe(
      'EvaluationReceived v1: an evaluation (vote or review) was accepted. No evaluator id, no comment.',
    );

/** Built at import for modules that read it; a bundle that never does drops the call (it is marked pure). */
export const evaluationReceivedV1 = /* @__PURE__ */ buildEvaluationReceivedV1();

export type EvaluationReceivedV1 = z.infer<typeof evaluationReceivedV1>;
