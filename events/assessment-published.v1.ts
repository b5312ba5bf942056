import * as z from 'zod';
import { baseDetailSchema } from './envelope';
import { isoDateTimeField } from './fields';

const DAY = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/**
 * An assessment snapshot (考评快照) of a day or a month was written to S3. Re-running a period overwrites the
 * same objects and sends the event again: consumers dedupe by `period` + `generatedAt` (or simply re-read).
 */
export const buildAssessmentPublishedV1 = () =>
  baseDetailSchema
    .extend({
      version: z.literal(1).describe('Detail schema version.'),
      period: z
        .string()
        .regex(/^\d{4}-\d{2}(-\d{2})?$/)
        .describe('The period assessed: a day `yyyy-mm-dd` or a month `yyyy-mm`, in Asia/Shanghai.'),
      periodType: z.enum(['day', 'month']).describe('Whether `period` is a day or a month.'),
      snapshotKeys: z
        .strictObject({
          json: z
            .string()
            .regex(/^assessments\/\d{4}-\d{2}(-\d{2})?\.json$/)
            .describe('Object key of the JSON snapshot in the assessments bucket.'),
          csv: z
            .string()
            .regex(/^assessments\/\d{4}-\d{2}(-\d{2})?\.csv$/)
            .describe('Object key of the CSV snapshot in the assessments bucket.'),
        })
        .describe('Where the snapshot was written, in the assessments bucket.'),
      scopes: z
        .number()
        .int()
        .positive()
        .describe('Scopes assessed in the snapshot: the nation, provinces, regions and departments.'),
      generatedAt: isoDateTimeField.describe('When the rollup was computed, ISO 8601.'),
    })
    .superRefine((detail, ctx) => {
      const pattern = detail.periodType === 'day' ? DAY : MONTH;
      if (!pattern.test(detail.period)) {
        ctx.addIssue({ code: 'custom', path: ['period'], message: 'period does not match periodType' });
      }
      const { json, csv } = detail.snapshotKeys;
      if (json !== `assessments/${detail.period}.json` || csv !== `assessments/${detail.period}.csv`) {
        ctx.addIssue({
          code: 'custom',
          path: ['snapshotKeys'],
          message: 'snapshot keys must name the period',
        });
      }
    })
    .describe('AssessmentPublished v1: the assessment snapshot of a day or month was written.');

/** Built at import for modules that read it; a bundle that never does drops the call (it is marked pure). */
export const assessmentPublishedV1 = /* @__PURE__ */ buildAssessmentPublishedV1();

export type AssessmentPublishedV1 = z.infer<typeof assessmentPublishedV1>;
