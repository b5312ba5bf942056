import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { sqsClients } from '../../shared/aws/sqs';
import { loadIdHmacKey } from '../../shared/client-registry';
import { loadConfig, requiredString } from '../../shared/config';
import { defineRoute, rejectedRecordSchema } from '../../shared/contract';
import { once, routedHandler } from '../../shared/entry';
import { type HttpDependencyOverrides, httpHandler } from '../../shared/http';
import { maskIdNumber } from '../../shared/masking';
import { hmacIdentifier } from '../../shared/pii';
import { Problem, validationFailed } from '../../shared/problem';
import { type BearerVerifier, personOf } from '../../shared/user-token';
import { subjectOf } from '../auth-verify/domain/subject';
import type { CaseChange } from '../case-aggregate/domain/change';
import { createChangeQueue } from '../case-aggregate/queue';
import {
  type EvaluationMessage,
  evaluationRecordSchema,
  MAX_EVALUATIONS_PER_BATCH,
  submittedEvaluationSchema,
  toMessage,
  validateRecord,
} from './domain/evaluation';
import {
  type IndexedEvaluation,
  type PseudonymiseEvaluator,
  type RejectedEvaluationRecord,
  triageEvaluations,
} from './domain/ingest';

/**
 * The evaluation API. `POST /v1/evaluations:batch` (scope evaluations:write): platforms push up to 500
 * evaluations; each record is judged on its own and the valid ones are queued with the evaluator pseudonymised.
 * `POST /v1/evaluations` (scope evaluations:submit): a citizen app submits one evaluation with the person's hub
 * access token (`Authorization: Bearer`); the evaluator is the token's subject. Both answer 202: the rules that
 * need the case (domain/rules.ts) run in the consumer.
 */
export interface EvaluationQueue {
  /** Resolves with the indexes SQS did not take after every attempt. */
  enqueue(messages: readonly IndexedEvaluation[]): Promise<number[]>;
}

export interface EvaluationApiDependencies {
  queue: () => EvaluationQueue;
  idHmacKey: () => Promise<Uint8Array>;
  verifyBearer: () => BearerVerifier;
  clock: () => Date;
  http?: HttpDependencyOverrides;
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

/** The evaluation ingest routes; the two handlers below serve one each. */
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

const pseudonymiseWith =
  (key: Uint8Array): PseudonymiseEvaluator =>
  ({ type, idType, idNumber }) => {
    const idHmac = hmacIdentifier(key, idType, idNumber);
    return { type, idType, idHmac, maskedId: maskIdNumber(idNumber), sub: subjectOf(idHmac, key) };
  };

const unavailable = (slug: string, detail: string) =>
  new Problem({ status: 503, slug, title: 'Service unavailable', detail, headers: { 'retry-after': '5' } });

export function createEvaluationApi(deps: EvaluationApiDependencies) {
  const ingestBatch = httpHandler(
    {
      contract: EVALUATION_ROUTES.ingestBatch,
      handle: async ({ body, client, correlationId, metrics }) => {
        const batchId = randomUUID();
        const triage = triageEvaluations(body.records, {
          client,
          batchId,
          correlationId,
          receivedAt: deps.clock(),
          pseudonymise: pseudonymiseWith(await deps.idHmacKey()),
        });
        const notEnqueued = await deps.queue().enqueue(triage.messages);
        const rejected = [
          ...triage.rejected,
          ...notEnqueued.map((index): RejectedEvaluationRecord => ({ index, reason: 'enqueue_failed' })),
        ].sort((a, b) => a.index - b.index);
        const accepted = triage.messages.length - notEnqueued.length;
        metrics.addMetric('EvaluationRecordsAccepted', MetricUnit.Count, accepted);
        metrics.addMetric('EvaluationRecordsRejected', MetricUnit.Count, rejected.length);
        const reply: BatchReply = { batchId, accepted, rejected };
        return { status: 202, body: reply };
      },
    },
    deps.http,
  );

  const submit = httpHandler(
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

  return { ingestBatch, submit };
}

/**
 * The case ingest's queue sender is generic in all but its type: it sends `change` as the body with its
 * correlationId as a message attribute. Reused here rather than copied.
 */
export function createEvaluationQueue(sqs: SQSClient, queueUrl: string): EvaluationQueue {
  const queue = createChangeQueue({ sqs, queueUrl });
  return {
    enqueue: (messages) =>
      queue.enqueue(messages.map(({ index, message }) => ({ index, change: asQueued(message) }))),
  };
}
const asQueued = (message: EvaluationMessage) => message as unknown as CaseChange;

// ---- Lambda entry point of the batch route (the citizen route's, in the public cloud, is public-submit.ts) ----

const batchEnv = z.object({ EVALUATION_QUEUE_URL: requiredString });

const sqsClient = once(async () => sqsClients().sqs);
const refuseBearer: BearerVerifier = async () => {
  throw new Error('the batch route verifies no bearer tokens');
};

export const handler = routedHandler({
  name: 'evaluation batch API',
  contracts: { ingestBatch: EVALUATION_ROUTES.ingestBatch },
  // Built on first use, so that importing the module (tests, synth) needs no environment.
  build: async () => {
    const config = loadConfig(batchEnv);
    const queue = createEvaluationQueue(await sqsClient(), config.EVALUATION_QUEUE_URL);
    const { ingestBatch } = createEvaluationApi({
      queue: () => queue,
      idHmacKey: once(() => loadIdHmacKey()),
      verifyBearer: () => refuseBearer,
      clock: () => new Date(),
    });
    return { ingestBatch };
  },
});
