import * as z from 'zod';
import { baseDetailSchema, envelopeOf } from './envelope';
import {
  applicantField,
  caseIdField,
  caseStatusField,
  channelField,
  departmentCodeField,
  fullyOnlineField,
  isoDateTimeField,
  itemCodeField,
  regionCodeField,
} from './fields';

/** `{caseId}#{status}`: a case reaches each status at most once, so this names the change for deduplication. */
export const changeIdOf = (caseId: string, status: z.infer<typeof caseStatusField>) => `${caseId}#${status}`;

/** A status change applied to a case. Delivery is at least once: consumers dedupe by `changeId`. */
export const buildCaseStatusChangedV1 = () => {
  const statuses = caseStatusField.options.join('|');
  return baseDetailSchema
    .extend({
      version: z.literal(1).describe('Detail schema version.'),
      changeId: z
        .string()
        .regex(new RegExp(`^\\d{6}:[A-Za-z0-9_-]{1,64}#(${statuses})$`))
        .describe('Deterministic id of this change, `{caseId}#{status}`: subscribers dedupe on it.'),
      caseId: caseIdField,
      regionCode: regionCodeField,
      departmentCode: departmentCodeField,
      itemCode: itemCodeField,
      status: caseStatusField.describe('The status this change applied.'),
      currentStatus: caseStatusField.describe("The case's furthest status after applying this change."),
      statusAt: isoDateTimeField.describe(
        'When the case reached `status`, as reported by the platform (ISO 8601).',
      ),
      applicant: applicantField,
      channel: channelField,
      fullyOnline: fullyOnlineField,
    })
    .superRefine((detail, ctx) => {
      if (detail.changeId !== changeIdOf(detail.caseId, detail.status)) {
        ctx.addIssue({ code: 'custom', path: ['changeId'], message: 'changeId must be `{caseId}#{status}`' });
      }
      if (!detail.caseId.startsWith(`${detail.regionCode}:`)) {
        ctx.addIssue({ code: 'custom', path: ['regionCode'], message: 'regionCode must prefix caseId' });
      }
    })
    .describe('CaseStatusChanged v1: a status change applied to a case, at most once per case and status.');
};

/** Built at import for modules that read it; a bundle that never does drops the call (it is marked pure). */
export const caseStatusChangedV1 = /* @__PURE__ */ buildCaseStatusChangedV1();

export type CaseStatusChangedV1 = z.infer<typeof caseStatusChangedV1>;

/** The EventBridge envelope of a CaseStatusChanged v1 as subscribers' queues receive it (one per message). */
export const caseStatusChangedEnvelopeV1 = /* @__PURE__ */ envelopeOf(
  'CaseStatusChanged',
  caseStatusChangedV1,
  'zwfw.case-aggregate',
);
