import * as z from 'zod';
import { baseDetailSchema } from './envelope';
import { evaluationChannelField, evaluationIdField, evaluationStageField } from './evaluation-received.v1';
import { caseIdField, departmentCodeField, isoDateTimeField, itemCodeField, regionCodeField } from './fields';

/**
 * A bad review (差评, level 1 or 2) was counted and its rectification ticket opened, in the same transaction as the
 * vote: exactly one per evaluation. Delivery is at least once: dedupe on `evaluationId`.
 */
export const buildBadReviewOpenedV1 = () =>
  baseDetailSchema
    .extend({
      version: z.literal(1).describe('Detail schema version.'),
      evaluationId: evaluationIdField.describe(
        'The bad review, and the key of its rectification ticket. Dedupe key.',
      ),
      caseId: caseIdField,
      regionCode: regionCodeField,
      departmentCode: departmentCodeField.describe('The department responsible for the rectification.'),
      itemCode: itemCodeField,
      level: z
        .union([z.literal(1), z.literal(2)])
        .describe('1 非常不满意 (very dissatisfied) or 2 不满意 (dissatisfied).'),
      channel: evaluationChannelField,
      stage: evaluationStageField,
      evaluatedAt: isoDateTimeField.describe('When the evaluator gave it, ISO 8601.'),
      openedAt: isoDateTimeField.describe('When the hub counted it and opened the ticket, ISO 8601.'),
    })
    .superRefine((detail, ctx) => {
      if (!detail.caseId.startsWith(`${detail.regionCode}:`)) {
        ctx.addIssue({ code: 'custom', path: ['regionCode'], message: 'regionCode must prefix caseId' });
      }
    })
    .describe('BadReviewOpened v1: a bad review opened a rectification ticket. No evaluator id, no comment.');

/** Built at import for modules that read it; a bundle that never does drops the call (it is marked pure). */
export const badReviewOpenedV1 = /* @__PURE__ */ buildBadReviewOpenedV1();

export type BadReviewOpenedV1 = z.infer<typeof badReviewOpenedV1>;
