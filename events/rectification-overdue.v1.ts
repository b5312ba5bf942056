import * as z from 'zod';
import { baseDetailSchema } from './envelope';
import { departmentCodeField, itemCodeField, regionCodeField } from './fields';
import { evaluationIdField, rectificationStageField } from './rectification-transitioned.v1';

/** `{evaluationId}#{stage}`: a deadline is missed at most once, so this names it for deduplication. */
export const overdueIdOf = (evaluationId: string, stage: z.infer<typeof rectificationStageField>) =>
  `${evaluationId}#${stage}`;

/**
 * A deadline of a rectification ticket passed without its transition: raised once per ticket and stage by the
 * daily sweep (or by the transition that finally closes the stage late). Delivery is at least once: consumers
 * dedupe by `overdueId`.
 */
export const buildRectificationOverdueV1 = () =>
  baseDetailSchema
    .extend({
      version: z.literal(1).describe('Detail schema version.'),
      overdueId: z
        .string()
        .regex(/^[A-Za-z0-9_.:-]{1,128}#(verify|rectify|revisit)$/)
        .describe('`{evaluationId}#{stage}`: subscribers dedupe on it.'),
      evaluationId: evaluationIdField,
      caseId: z
        .string()
        .regex(/^\d{6}:[A-Za-z0-9_-]{1,64}$/)
        .describe('Case id `{regionCode}:{caseNumber}` of the evaluated case.'),
      stage: rectificationStageField.describe('The deadline that was missed.'),
      dueDay: z
        .string()
        .regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/)
        .describe('Last day (Asia/Shanghai) of the missed deadline, `yyyy-mm-dd`.'),
      regionCode: regionCodeField,
      departmentCode: departmentCodeField,
      itemCode: itemCodeField,
    })
    .superRefine((detail, ctx) => {
      if (detail.overdueId !== overdueIdOf(detail.evaluationId, detail.stage)) {
        ctx.addIssue({
          code: 'custom',
          path: ['overdueId'],
          message: 'overdueId must be `{evaluationId}#{stage}`',
        });
      }
      if (!detail.caseId.startsWith(`${detail.regionCode}:`)) {
        ctx.addIssue({ code: 'custom', path: ['regionCode'], message: 'regionCode must prefix caseId' });
      }
    })
    .describe('RectificationOverdue v1: a rectification deadline was missed.');

/** Built at import for modules that read it; a bundle that never does drops the call (it is marked pure). */
export const rectificationOverdueV1 = /* @__PURE__ */ buildRectificationOverdueV1();

export type RectificationOverdueV1 = z.infer<typeof rectificationOverdueV1>;
