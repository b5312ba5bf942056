import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { defineRoute, rejectedRecordSchema } from '../../shared/contract';
import { type HttpDependencyOverrides, httpHandler } from '../../shared/http';
import { Problem, validationFailed } from '../../shared/problem';
import { type BearerVerifier, personOf } from '../../shared/user-token';
import {
  evaluationRecordSchema,
  MAX_EVALUATIONS_PER_BATCH,
  submittedEvaluationSchema,
  toMessage,
  validateRecord,
} from './domain/evaluation';
import type { IndexedEvaluation, RejectedEvaluationRecord } from './domain/ingest';

/**
 * The evaluation API's contracts, and the citizen submission both clouds serve: `api.ts` (private cloud, onto the
 * evaluation queue) and `public-submit.ts` (public cloud, onto the public bus). Neither an entry point nor a queue
 * client lives here, so the public function bundles none of the private cloud's (SQS, the batch ingestion).
 *
 * `POST /v1/evaluations:batch` (scope evaluations:write): platforms push up to 500 evaluations; each record is
 * judged on its own and the valid ones are queued with the evaluator pseudonymised (api.ts).
 * `POST /v1/evaluations` (scope evaluations:submit): a citizen app submits one evaluation with the person's hub
 * access token (`Authorization: Bearer`); the evaluator is the token's subject. Both answer 202: the rules that
 * need the case (domain/rules.ts) run in the consumer.
 */
export interface EvaluationQueue {
  /** Resolves with the indexes SQS did not take after every attempt. */
  enqueue(messages: readonly IndexedEvaluation[]): Promise<number[]>;
}

/** The envelope only: each record is judged on its own. */
export const batchEnvelopeSchema = z.object({
  records: z.array(z.unknown()).min(1).max(MAX_EVALUATIONS_PER_BATCH),
});

export interface BatchReply {
  batchId: string;
  accepted: number;
  rejected: RejectedEvaluationRecord[];
}

export const batchReplySchema = z.object({
  batchId: z.uuid(),
  accepted: z.number().int().min(0),
  rejected: z.array(
    rejectedRecordSchema.extend({
      errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  ),
});

/** The evaluation ingest routes; api.ts and public-submit.ts serve them. */
export const EVALUATION_ROUTES = {
  ingestBatch: defineRoute({
    operation: 'evaluations.ingestBatch',
    method: 'POST',
    path: '/v1/evaluations:batch',
    tag: 'evaluation ingest',
    summary: 'Push up to 500 evaluations (好差评); each is judged on its own and queued.',
    description:
      'Rules that need the case (known, completed, in time) run in the consumer: their rejections are read ' +
      'later from GET /v1/evaluations/rejections.',
    scope: 'evaluations:write',
    authentication: 'signature',
    body: batchEnvelopeSchema,
    documentedBody: z.object({
      records: z.array(evaluationRecordSchema).min(1).max(MAX_EVALUATIONS_PER_BATCH),
    }),
    idempotent: true,
    requestExample: {
      records: [
        {
          regionCode: '330000',
          caseNumber: '330000202611210001',
          level: 4,
          channel: 'app',
          stage: 'completed',
          evaluator: { type: 'person', idType: 'citizen_id', idNumber: '11010519491231002X' },
          evaluatedAt: '2026-11-21T10:00:00+08:00',
        },
      ],
    },
    responses: {
      202: {
        description: 'The batch was judged: accepted records are queued, rejected ones listed.',
        schema: batchReplySchema,
      },
    },
  }),
  submit: defineRoute({
    operation: 'evaluations.submit',
    method: 'POST',
    path: '/v1/evaluations',
    tag: 'evaluation ingest',
    summary: "A citizen's own evaluation through an app, on the person's access token (public cloud).",
    description: "The evaluator is the token's subject; the person's token is checked before the record.",
    scope: 'evaluations:submit',
    authentication: 'signature+bearer',
    body: z.record(z.string(), z.unknown()),
    documentedBody: submittedEvaluationSchema,
    responses: {
      202: {
        description: 'The evaluation is queued.',
        schema: z.object({ evaluationId: z.string() }),
      },
    },
    problems: [
      { status: 503, slug: 'enqueue-failed', when: 'The evaluation could not be queued; send it again.' },
    ],
  }),
};

export interface SubmissionDependencies {
  queue: () => EvaluationQueue;
  verifyBearer: () => BearerVerifier;
  clock: () => Date;
  http?: HttpDependencyOverrides;
}

const unavailable = (slug: string, detail: string) =>
  new Problem({ status: 503, slug, title: 'Service unavailable', detail, headers: { 'retry-after': '5' } });

/** `POST /v1/evaluations`: one citizen's evaluation, the evaluator being the subject of the person's token. */
export function createSubmission(deps: SubmissionDependencies) {
  return httpHandler(
    {
      // Any JSON object (the contract's body): the person's token is checked before the record, so an anonymous
      // caller learns nothing.
      contract: EVALUATION_ROUTES.submit,
      handle: async ({ body, client, correlationId, event, logger }) => {
        const claims = await personOf(event, client, deps.verifyBearer());
        const now = deps.clock();
        const validation = validateRecord(submittedEvaluationSchema, body, now);
        if (!validation.ok) {
          throw validationFailed(validation.errors.map((e) => ({ ...e, path: `/body${e.path}` })));
        }
        const message = toMessage(
          validation.record,
          { type: 'person', sub: claims.sub },
          { clientId: client.clientId, batchId: randomUUID(), correlationId, receivedAt: now },
        );
        if ((await deps.queue().enqueue([{ index: 0, message }])).length > 0) {
          throw unavailable('enqueue-failed', 'The evaluation could not be queued; send it again.');
        }
        logger.info('evaluation submitted', { evaluationId: message.evaluationId });
        return { status: 202, body: { evaluationId: message.evaluationId } };
      },
    },
    deps.http,
  );
}
