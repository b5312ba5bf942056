import * as z from 'zod';
import { baseDetailSchema } from './envelope';
import { departmentCodeField, isoDateTimeField, itemCodeField, regionCodeField } from './fields';

/** Evaluation ids are opaque to consumers: a bounded token safe in keys, paths and logs. */
export const evaluationIdField = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,128}$/)
  .describe(
    'Id of the evaluation (好差评) the rectification ticket was opened for; one ticket per evaluation.',
  );

export const rectificationStatusField = z
  .enum(['open', 'verified', 'rectified', 'revisited', 'appealed', 'dismissed'])
  .describe(
    'Ticket status: open → verified → rectified → revisited (closed); open | verified → appealed → dismissed | verified.',
  );

export const rectificationStageField = z
  .enum(['verify', 'rectify', 'revisit'])
  .describe('A deadline of the ticket: verify (核实), rectify (整改), revisit (回访).');

const caseIdField = z
  .string()
  .regex(/^\d{6}:[A-Za-z0-9_-]{1,64}$/)
  .describe('Case id `{regionCode}:{caseNumber}` of the evaluated case.');

/** `{evaluationId}#{sequence}`: the n-th transition of a ticket, for deduplication. */
export const transitionIdOf = (evaluationId: string, sequence: number) => `${evaluationId}#${sequence}`;

/**
 * A rectification ticket (差评整改) moved from one status to another. Carries no evaluator data and never the
 * free-text note. Delivery is at least once: consumers dedupe by `transitionId`.
 */
export const buildRectificationTransitionedV1 = () =>
  baseDetailSchema
    .extend({
      version: z.literal(1).describe('Detail schema version.'),
      transitionId: z
        .string()
        .regex(/^[A-Za-z0-9_.:-]{1,128}#[1-9]\d{0,3}$/)
        .describe('`{evaluationId}#{sequence}` (1 for the first transition): subscribers dedupe on it.'),
      evaluationId: evaluationIdField,
      caseId: caseIdField,
      regionCode: regionCodeField,
      departmentCode: departmentCodeField,
      itemCode: itemCodeField,
      level: z
        .union([z.literal(1), z.literal(2)])
        .describe('Level of the bad review: 2 不满意, 1 非常不满意.'),
      from: rectificationStatusField.describe('Status before the transition.'),
      to: rectificationStatusField.describe('Status after the transition.'),
      by: z.string().min(1).max(128).describe('Client id of the platform that made the transition.'),
      at: isoDateTimeField.describe('When the transition was made (hub clock, ISO 8601).'),
      satisfaction: z
        .enum(['satisfied', 'unsatisfied'])
        .optional()
        .describe(
          'On `revisited` when the evaluator was reached: their satisfaction with the rectification.',
        ),
      reached: z.boolean().optional().describe('On `revisited`: whether the evaluator was reached (回访).'),
      finding: z
        .enum(['mistaken', 'malicious'])
        .optional()
        .describe(
          'On `dismissed`: what the appeal review (申诉复核) found; the review leaves the statistics.',
        ),
      overdue: z
        .strictObject({
          verify: z.boolean().describe('The verify deadline was missed.'),
          rectify: z.boolean().describe('The rectify deadline was missed.'),
          revisit: z.boolean().describe('The revisit deadline was missed.'),
        })
        .describe('Deadlines of the ticket missed so far (as of this transition).'),
    })
    .superRefine((detail, ctx) => {
      if (!detail.transitionId.startsWith(`${detail.evaluationId}#`)) {
        ctx.addIssue({
          code: 'custom',
          path: ['transitionId'],
          message: 'transitionId must be `{evaluationId}#{sequence}`',
        });
      }
      if (!detail.caseId.startsWith(`${detail.regionCode}:`)) {
        ctx.addIssue({ code: 'custom', path: ['regionCode'], message: 'regionCode must prefix caseId' });
      }
    })
    .describe('RectificationTransitioned v1: a rectification ticket changed status.');

/** Built at import for modules that read it; a bundle that never does drops the call (it is marked pure). */
export const rectificationTransitionedV1 = /* @__PURE__ */ buildRectificationTransitionedV1();

export type RectificationTransitionedV1 = z.infer<typeof rectificationTransitionedV1>;
