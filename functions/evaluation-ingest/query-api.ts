import { z } from 'zod';
import { loadConfig, tableName } from '../../shared/config';
import { routedHandler } from '../../shared/entry';
import { type HttpDependencyOverrides, httpHandler } from '../../shared/http';
import { validationFailed } from '../../shared/problem';
import { type BearerVerifier, bearerVerifierFromEnvironment, personOf } from '../../shared/user-token';
import { ownEvaluationView, rejectionView } from './domain/views';
import { createEvaluationStore, type EvaluationStore, ListCursorError } from './evaluation-store';

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

/** A cursor of another listing is the caller's mistake, answered like any other bad query parameter. */
async function withCursorCheck<T>(list: () => Promise<T>): Promise<T> {
  try {
    return await list();
  } catch (error) {
    if (error instanceof ListCursorError) {
      throw validationFailed([{ path: '/query/cursor', message: error.message }]);
    }
    throw error;
  }
}

export function createEvaluationQueryApi(deps: EvaluationQueryDependencies) {
  const ownEvaluations = httpHandler(
    {
      operation: 'evaluations.listOwn',
      scope: 'me:read',
      query: ownEvaluationsQuerySchema,
      handle: async ({ query, client, event }) => {
        const person = await personOf(event, client, deps.verifyBearer());
        const page = await withCursorCheck(() => deps.store().listByEvaluator(person.sub, query));
        return {
          status: 200,
          body: { items: page.items.map(ownEvaluationView), ...(page.cursor ? { cursor: page.cursor } : {}) },
        };
      },
    },
    deps.http,
  );

  const rejections = httpHandler(
    {
      operation: 'evaluations.listRejections',
      scope: 'evaluations:write',
      query: rejectionsQuerySchema,
      handle: async ({ query, client }) => {
        // A platform reads only what it pushed: the partition is its own client id.
        const page = await withCursorCheck(() => deps.store().listRejections(client.clientId, query));
        return {
          status: 200,
          body: { items: page.items.map(rejectionView), ...(page.cursor ? { cursor: page.cursor } : {}) },
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
  routes: {
    'GET /v1/me/evaluations': 'ownEvaluations',
    'GET /v1/evaluations/rejections': 'rejections',
  },
  // Built on first use, so that importing the module (tests, synth) needs no environment.
  build: async () => {
    const aws = await import('../../shared/aws');
    const store = createEvaluationStore({
      doc: aws.documentClient,
      evaluationsTable: loadConfig(queryEnv).EVALUATIONS_TABLE,
    });
    // The key set is fetched on the first token, not here (jose createRemoteJWKSet).
    const verifier = bearerVerifierFromEnvironment();
    return createEvaluationQueryApi({ store: () => store, verifyBearer: () => verifier });
  },
});
