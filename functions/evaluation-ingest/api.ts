import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { sqsClients } from '../../shared/aws/sqs';
import { loadIdHmacKey } from '../../shared/client-registry';
import { loadConfig, requiredString } from '../../shared/config';
import { once, routedHandler } from '../../shared/entry';
import { httpHandler } from '../../shared/http';
import { maskIdNumber } from '../../shared/masking';
import { hmacIdentifier } from '../../shared/pii';
import { subjectOf } from '../auth-verify/domain/subject';
import type { CaseChange } from '../case-aggregate/domain/change';
import { createChangeQueue } from '../case-aggregate/queue';
import type { EvaluationMessage } from './domain/evaluation';
import {
  type PseudonymiseEvaluator,
  type RejectedEvaluationRecord,
  triageEvaluations,
} from './domain/ingest';
import {
  type BatchReply,
  createSubmission,
  EVALUATION_ROUTES,
  type EvaluationQueue,
  type SubmissionDependencies,
} from './evaluation-routes';

/**
 * The evaluation API onto the evaluation queue: `POST /v1/evaluations:batch` from platforms and
 * `POST /v1/evaluations` from citizens' apps. The contracts and the submission handler live in
 * evaluation-routes.ts, which the public cloud's public-submit.ts shares without importing this module.
 */
export {
  type BatchReply,
  batchEnvelopeSchema,
  batchReplySchema,
  EVALUATION_ROUTES,
  type EvaluationQueue,
} from './evaluation-routes';

export interface EvaluationApiDependencies extends SubmissionDependencies {
  idHmacKey: () => Promise<Uint8Array>;
}

const pseudonymiseWith =
  (key: Uint8Array): PseudonymiseEvaluator =>
  ({ type, idType, idNumber }) => {
    const idHmac = hmacIdentifier(key, idType, idNumber);
    return { type, idType, idHmac, maskedId: maskIdNumber(idNumber), sub: subjectOf(idHmac, key) };
  };

/** `POST /v1/evaluations:batch`: each record judged on its own, the valid ones queued, evaluators pseudonymised. */
export function createBatchIngestion(deps: Omit<EvaluationApiDependencies, 'verifyBearer'>) {
  return httpHandler(
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
}

/** Both routes over the same dependencies (tests drive them together). */
export function createEvaluationApi(deps: EvaluationApiDependencies) {
  return { ingestBatch: createBatchIngestion(deps), submit: createSubmission(deps) };
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

// ---- Lambda entry points: the batch route, and the citizen route straight onto the queue -----------------------

const batchEnv = z.object({ EVALUATION_QUEUE_URL: requiredString });

const sqsClient = once(async () => sqsClients().sqs);

export const handler = routedHandler({
  name: 'evaluation batch API',
  contracts: { ingestBatch: EVALUATION_ROUTES.ingestBatch },
  // Built on first use, so that importing the module (tests, synth) needs no environment.
  build: async () => {
    const config = loadConfig(batchEnv);
    const queue = createEvaluationQueue(await sqsClient(), config.EVALUATION_QUEUE_URL);
    const ingestBatch = createBatchIngestion({
      queue: () => queue,
      idHmacKey: once(() => loadIdHmacKey()),
      clock: () => new Date(),
    });
    return { ingestBatch };
  },
});
