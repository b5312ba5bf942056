import * as z from 'zod';
import { baseDetailSchema } from './envelope';
import {
  caseIdField,
  channelField,
  departmentCodeField,
  fullyOnlineField,
  isoDateTimeField,
  itemCodeField,
  regionCodeField,
} from './fields';

/** First sight of a case at the hub. Delivery is at least once: consumers dedupe by `caseId`. */
export const buildCaseReceivedV1 = () =>
  baseDetailSchema
    .extend({
      version: z.literal(1).describe('Detail schema version.'),
      caseId: caseIdField,
      regionCode: regionCodeField,
      departmentCode: departmentCodeField,
      itemCode: itemCodeField,
      channel: channelField,
      fullyOnline: fullyOnlineField,
      receivedAt: isoDateTimeField.describe('When the hub first stored the case, ISO 8601 with offset.'),
    })
    .superRefine((detail, ctx) => {
      if (!detail.caseId.startsWith(`${detail.regionCode}:`)) {
        ctx.addIssue({ code: 'custom', path: ['regionCode'], message: 'regionCode must prefix caseId' });
      }
    })
    .describe('CaseReceived v1: a case seen by the hub for the first time.');

/** Built at import for modules that read it; a bundle that never does drops the call (it is marked pure). */
export const caseReceivedV1 = /* @__PURE__ */ buildCaseReceivedV1();

export type CaseReceivedV1 = z.infer<typeof caseReceivedV1>;
