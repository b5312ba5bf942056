import * as z from 'zod';
import { dynamoDbClients } from '../../shared/aws/dynamodb';
import { loadConfig, tableName } from '../../shared/config';
import { defineRoute, pageOf } from '../../shared/contract';
import { routedHandler } from '../../shared/entry';
import { type HttpDependencyOverrides, httpHandler } from '../../shared/http';
import { pageBody, withCursorCheck } from '../../shared/page-cursor';
import { type BearerVerifier, bearerVerifierFromEnvironment, personOf } from '../../shared/user-token';
import { ownEvaluationView, rejectionView } from './domain/views';
import { createEvaluationStore, type EvaluationStore } from './evaluation-store';

/**
 * Read routes over the evaluations table:
 *   GET /v1/me/evaluations?limit=&cursor=                     scope me:read — the person's own evaluations (用户空间)
 *   GET /v1/evaluations/rejections?batchId=&limit=&cursor=   scope evaluations:write — the calling platform's
 *       rejected submissions (e.g. `case_unknown` after the case wait), which the 202 of its batch could not know yet
 * Both list newest first, at most 100 a page, with an opaque cursor bound to the listing's owner.
 */
export interface EvaluationQueryDependencies {
  store: () => EvaluationStore;
  verifyBearer: () => BearerVerifier;
  http?: HttpDependencyOverrides;
}

export const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 50;

const pageQuery = {
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: z.string().min(1).max(2048).optional(),
};

export const ownEvaluationsQuerySchema = z.object(pageQuery);
export const rejectionsQuerySchema = z.object({ ...pageQuery, batchId: z.uuid().optional() });

const ownEvaluationSchema = z.object({
  evaluationId: z.string(),
  reviewId: z.string().optional().describe('Present for a review: a later opinion, kept but never counted.'),
  isReview: z.boolean(),
  caseId: z.string(),
  regionCode: z.string(),
  departmentCode: z.string(),
  itemCode: z.string(),
  level: z.number().int(),
  levelName: z.string().describe('非常满意 … 非常不满意'),
  channel: z.string(),
  stage: z.string(),
  dimensions: z.partialRecord(z.string(), z.number()).optional().describe('Dimension scores 1–5 by name.'),
  comment: z.string().optional(),
  evaluatedAt: z.string(),
  acceptedAt: z.string(),
  evaluator: z.object({ type: z.string(), maskedId: z.string().optional() }),
});

const rejectionSchema = z.object({
  evaluationId: z.string(),
  submissionId: z.string(),
  batchId: z.string(),
  batchIndex: z.number().int().optional(),
  caseId: z.string(),
  level: z.number().int(),
  channel: z.string(),
  stage: z.string(),
  evaluatedAt: z.string(),
  receivedAt: z.string(),
  rejectedAt: z.string(),
  reason: z.string().describe('case_unknown, case_not_completed, too_late'),
});

/** The query routes; `handler` below serves exactly these. */
export const EVALUATION_QUERY_ROUTES = {
  ownEvaluations: defineRoute({
    operation: 'evaluations.listOwn',
    method: 'GET',
    path: '/v1/me/evaluations',
    tag: 'user space',
    summary: "The signed-in person's own evaluations, newest first.",
    scope: 'me:read',
    authentication: 'signature+bearer',
    query: ownEvaluationsQuerySchema,
    responses: { 200: { description: 'A page of evaluations.', schema: pageOf(ownEvaluationSchema) } },
  }),
  rejections: defineRoute({
    operation: 'evaluations.listRejections',
    method: 'GET',
    path: '/v1/evaluations/rejections',
    tag: 'evaluation ingest',
    summary: "The calling platform's evaluations rejected after their batch's 202 (e.g. case_unknown).",
    scope: 'evaluations:write',
    authentication: 'signature',
    query: rejectionsQuerySchema,
    responses: { 200: { description: 'A page of rejections.', schema: pageOf(rejectionSchema) } },
  }),
};

/** A cursor of another listing is the caller's mistake, answered like any other bad query parameter. */

export function createEvaluationQueryApi(deps: EvaluationQueryDependencies) {
  const ownEvaluations = httpHandler(
    {
      contract: EVALUATION_QUERY_ROUTES.ownEvaluations,
      handle: async ({ query, client, event }) => {
        const person = await personOf(event, client, deps.verifyBearer());
        const page = await withCursorCheck(() => deps.store().listByEvaluator(person.sub, query));
        return {
          status: 200,
          body: pageBody(page.items.map(ownEvaluationView), page.cursor),
        };
      },
    },
    deps.http,
  );

  const rejections = httpHandler(
    {
      contract: EVALUATION_QUERY_ROUTES.rejections,
      handle: async ({ query, client }) => {
        // A platform reads only what it pushed: the partition is its own client id.
        const page = await withCursorCheck(() => deps.store().listRejections(client.clientId, query));
        return {
          status: 200,
          body: pageBody(page.items.map(rejectionView), page.cursor),
        };
      },
    },
    deps.http,
  );

  return { ownEvaluations, rejections };
}

// ---- The Lambda entry point --------------------------------------------------------------------------------

const queryEnv = z.object({ EVALUATIONS_TABLE: tableName });

export const handler = routedHandler({
  name: 'evaluation query API',
  contracts: EVALUATION_QUERY_ROUTES,
  // Built on first use, so that importing the module (tests, synth) needs no environment.
  build: async () => {
    const aws = dynamoDbClients();
    const store = createEvaluationStore({
      doc: aws.documentClient,
      evaluationsTable: loadConfig(queryEnv).EVALUATIONS_TABLE,
    });
    // The key set is fetched on the first token, not here (jose createRemoteJWKSet).
    const verifier = bearerVerifierFromEnvironment();
    return createEvaluationQueryApi({ store: () => store, verifyBearer: () => verifier });
  },
});
