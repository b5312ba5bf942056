import * as z from 'zod';
import { evaluationMessageSchema } from '../functions/evaluation-ingest/domain/evaluation';
import { subjectField } from './auth-fields';

/**
 * A citizen rated a case from the hub's app through the public cloud (`POST /v1/evaluations`). It is the one thing
 * the public cloud sends the private cloud (infra/cross-cloud.ts): the private bus delivers its detail, unchanged,
 * to evaluation ingest's queue, so the detail IS the queue message the consumer already reads — one schema, two
 * transports. The evaluator is the person's pseudonymous subject only: the public cloud never sees an ID number,
 * its HMAC or a masked id.
 */
export const buildEvaluationSubmittedV1 = () =>
  z
    .strictObject({
      ...evaluationMessageSchema.shape,
      evaluator: z
        .strictObject({ type: z.literal('person'), sub: subjectField })
        .describe("The person who rated: the access token's subject, nothing else."),
    })
    .describe(
      'EvaluationSubmitted v1: one evaluation from the citizen app, crossing from the public to the private cloud.',
    );

/** Built at import for modules that read it; a bundle that never does drops the call (it is marked pure). */
export const evaluationSubmittedV1 = /* @__PURE__ */ buildEvaluationSubmittedV1();

export type EvaluationSubmittedV1 = z.infer<typeof evaluationSubmittedV1>;
