import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createRemoteJWKSet, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from 'jose';
import { z } from 'zod';
import { loadIdHmacKey } from '../../shared/client-registry';
import { loadConfig, requiredString } from '../../shared/config';
import { once, routedHandler } from '../../shared/entry';
import { type HttpDependencyOverrides, httpHandler } from '../../shared/http';
import { maskIdNumber } from '../../shared/masking';
import { hmacIdentifier } from '../../shared/pii';
import { Problem, unauthorized, validationFailed } from '../../shared/problem';
import { subjectOf } from '../auth-verify/domain/subject';
import {
  ACCESS_TOKEN_TYPE,
  type AccessTokenClaims,
  accessTokenClaimsSchema,
  MAX_TOKEN_LENGTH,
  SIGNING_ALGORITHM,
} from '../auth-verify/domain/tokens';
import type { CaseChange } from '../case-aggregate/domain/change';
import { createChangeQueue } from '../case-aggregate/queue';
import {
  type EvaluationMessage,
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

/** A hub access token's claims, or undefined for anything that is not a valid token of this issuer. */
export type BearerVerifier = (token: string) => Promise<AccessTokenClaims | undefined>;

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

const pseudonymiseWith =
  (key: Uint8Array): PseudonymiseEvaluator =>
  ({ type, idType, idNumber }) => {
    const idHmac = hmacIdentifier(key, idType, idNumber);
    return { type, idType, idHmac, maskedId: maskIdNumber(idNumber), sub: subjectOf(idHmac, key) };
  };

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i;

const bearerRefused = (slug: 'bearer-token-missing' | 'bearer-token-invalid', detail: string) =>
  unauthorized(slug, detail, { headers: { 'www-authenticate': 'Bearer realm="zwfw-hub"' } });

const unavailable = (slug: string, detail: string) =>
  new Problem({ status: 503, slug, title: 'Service unavailable', detail, headers: { 'retry-after': '5' } });

export function createEvaluationApi(deps: EvaluationApiDependencies) {
  const ingestBatch = httpHandler(
    {
      operation: 'evaluations.ingestBatch',
      scope: 'evaluations:write',
      body: batchEnvelopeSchema,
      idempotent: true,
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
      operation: 'evaluations.submit',
      scope: 'evaluations:submit',
      // Any JSON object: the person's token is checked before the record, so an anonymous caller learns nothing.
      body: z.record(z.string(), z.unknown()),
      handle: async ({ body, client, correlationId, event, logger }) => {
        const match = BEARER.exec(event.headers?.authorization ?? '');
        if (!match?.[1])
          throw bearerRefused('bearer-token-missing', "Send the person's access token as a Bearer token.");
        const claims = await verifyOrUnavailable(deps.verifyBearer(), match[1]);
        // RFC 9068 §4: a token issued to another platform is not this app's to use.
        if (!claims || claims.aud !== client.clientId) {
          throw bearerRefused('bearer-token-invalid', 'The access token is not valid for this client.');
        }
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

/** Key-set trouble is ours, not the caller's: it is a 503, never a 401 that would make the app sign the person out. */
async function verifyOrUnavailable(
  verify: BearerVerifier,
  token: string,
): Promise<AccessTokenClaims | undefined> {
  try {
    return await verify(token);
  } catch {
    throw unavailable('token-keys-unavailable', 'The token signing keys could not be read; try again.');
  }
}

/** Failures that say nothing about the token: the key set could not be fetched or read. */
const KEY_SET_FAILURES = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID']);

/**
 * Verifies a hub access token against the published key set (jose `createRemoteJWKSet`: fetched on first use,
 * refetched when a token names an unknown `kid`, cached in between). The same checks as auth-verify's own
 * verifier: ES256 only, `typ: at+jwt`, the hub as issuer, `nbf`/`exp`, a `kid`, and the claim shapes.
 * Revocations are not seen here (they live in auth-verify's table): a revoked token stays usable for rating
 * until it expires (`ACCESS_TOKEN_TTL_SECONDS`, 1 h by default).
 */
export function createBearerVerifier(options: {
  keys: JWTVerifyGetKey;
  issuer: string;
  clock?: () => Date;
}): BearerVerifier {
  const clock = options.clock ?? (() => new Date());
  return async (token) => {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return undefined;
    try {
      const { payload, protectedHeader } = await jwtVerify(token, options.keys, {
        algorithms: [SIGNING_ALGORITHM],
        typ: ACCESS_TOKEN_TYPE,
        issuer: options.issuer,
        currentDate: clock(),
        requiredClaims: ['sub', 'aud', 'exp', 'iat', 'nbf', 'jti'],
      });
      if (protectedHeader.kid === undefined) return undefined;
      const claims = accessTokenClaimsSchema.safeParse(payload);
      return claims.success ? claims.data : undefined;
    } catch (error) {
      if (error instanceof joseErrors.JOSEError && !KEY_SET_FAILURES.has(error.code)) return undefined;
      throw error;
    }
  };
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

// ---- Lambda entry points: the batch route (private cloud) and the citizen route (public cloud) -----------------

const batchEnv = z.object({ EVALUATION_QUEUE_URL: requiredString });
const submitEnv = batchEnv.extend({ TOKEN_JWKS_URL: z.url(), TOKEN_ISSUER: z.url() });

const sqsClient = once(async () => (await import('../../shared/aws')).sqs);
const refuseBearer: BearerVerifier = async () => {
  throw new Error('the batch route verifies no bearer tokens');
};

export const handler = routedHandler({
  name: 'evaluation batch API',
  routes: { 'POST /v1/evaluations:batch': 'ingestBatch' },
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

export const submitHandler = routedHandler({
  name: 'evaluation submission API',
  routes: { 'POST /v1/evaluations': 'submit' },
  build: async () => {
    const config = loadConfig(submitEnv);
    const queue = createEvaluationQueue(await sqsClient(), config.EVALUATION_QUEUE_URL);
    const verifier = createBearerVerifier({
      keys: createRemoteJWKSet(new URL(config.TOKEN_JWKS_URL)),
      issuer: config.TOKEN_ISSUER,
    });
    const { submit } = createEvaluationApi({
      queue: () => queue,
      idHmacKey: async () => {
        throw new Error('the citizen route handles no ID numbers');
      },
      verifyBearer: () => verifier,
      clock: () => new Date(),
    });
    return { submit };
  },
});
