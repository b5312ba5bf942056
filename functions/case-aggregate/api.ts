import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { loadIdHmacKey } from '../../shared/client-registry';
import { loadConfig, requiredString, tableName } from '../../shared/config';
import { once, routedHandler } from '../../shared/entry';
import { type HttpDependencyOverrides, httpHandler } from '../../shared/http';
import { maskIdNumber, maskName } from '../../shared/masking';
import { hmacIdentifier } from '../../shared/pii';
import { forbidden, notFound, validationFailed } from '../../shared/problem';
import { type BearerVerifier, bearerVerifierFromEnvironment, personOf } from '../../shared/user-token';
import { subjectOf } from '../auth-verify/domain/subject';
import { parseCaseId } from './domain/change';
import { mayAccessRegion, type Pseudonymise, type RejectedCaseRecord, triageRecords } from './domain/ingest';
import { MAX_RECORDS_PER_BATCH } from './domain/record';
import { toApplicantCaseView, toCaseView } from './domain/view';
import { type ChangeQueue, createChangeQueue } from './queue';
import { type CaseStore, CursorError, createCaseStore } from './store';

/**
 * The case API: `POST /v1/cases:batch` (ingest, scope cases:write), `GET /v1/cases/{caseId}` (query, scope
 * cases:read) and `GET /v1/me/cases` (the applicant's own cases, scope me:read with the person's access token).
 * Signature, scope, JSON, envelope validation and Idempotency-Key are the HTTP stack's; the rules are in
 * domain/. One function serves the three routes.
 */
export interface CaseApiDependencies {
  queue: () => ChangeQueue;
  store: () => CaseStore;
  idHmacKey: () => Promise<Uint8Array>;
  /** Verifies a person's hub access token (the user space). */
  verifyBearer: () => BearerVerifier;
  clock: () => Date;
  http?: HttpDependencyOverrides;
}

/** The envelope only: each record is judged on its own, so one bad record does not refuse the batch. */
export const ingestEnvelopeSchema = z.object({
  records: z.array(z.unknown()).min(1).max(MAX_RECORDS_PER_BATCH),
});

const caseIdPathSchema = z.object({
  caseId: z
    .string()
    .refine((id) => parseCaseId(id) !== undefined, 'A case id reads {regionCode}:{caseNumber}.'),
});

export const MAX_MY_CASES_LIMIT = 100;

export const myCasesQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_MY_CASES_LIMIT).default(20),
  cursor: z.string().min(1).max(256).optional(),
});

export interface IngestReply {
  batchId: string;
  accepted: number;
  rejected: RejectedCaseRecord[];
}

const pseudonymiseWith =
  (key: Uint8Array): Pseudonymise =>
  ({ type, idType, idNumber, name }) => {
    const idHmac = hmacIdentifier(key, idType, idNumber);
    return {
      type,
      idType,
      idHmac,
      maskedId: maskIdNumber(idNumber),
      maskedName: maskName(name),
      sub: subjectOf(idHmac, key),
    };
  };

function regionOfCaseId(caseId: string): string {
  const parsed = parseCaseId(caseId);
  if (!parsed) throw new Error('caseId passed validation but does not parse');
  return parsed.regionCode;
}

export function createCaseApi(deps: CaseApiDependencies) {
  const ingest = httpHandler(
    {
      operation: 'cases.ingestBatch',
      scope: 'cases:write',
      body: ingestEnvelopeSchema,
      idempotent: true,
      handle: async ({ body, client, correlationId, metrics }) => {
        const batchId = randomUUID();
        const triage = triageRecords(body.records, {
          client,
          batchId,
          correlationId,
          now: deps.clock(),
          pseudonymise: pseudonymiseWith(await deps.idHmacKey()),
        });
        const notEnqueued = await deps.queue().enqueue(triage.changes);
        const rejected = [
          ...triage.rejected,
          ...notEnqueued.map((index): RejectedCaseRecord => ({ index, reason: 'enqueue_failed' })),
        ].sort((a, b) => a.index - b.index);
        metrics.addMetric(
          'CaseRecordsAccepted',
          MetricUnit.Count,
          triage.changes.length - notEnqueued.length,
        );
        metrics.addMetric('CaseRecordsRejected', MetricUnit.Count, rejected.length);
        const reply: IngestReply = {
          batchId,
          accepted: triage.changes.length - notEnqueued.length,
          rejected,
        };
        return { status: 202, body: reply };
      },
    },
    deps.http,
  );

  const getCase = httpHandler(
    {
      operation: 'cases.get',
      scope: 'cases:read',
      path: caseIdPathSchema,
      handle: async ({ path, client }) => {
        // Decided on the id alone, before any lookup: a refusal must not reveal whether the case exists.
        if (!mayAccessRegion(client, regionOfCaseId(path.caseId))) {
          throw forbidden('case-out-of-scope', "This client may read only its own province's cases.");
        }
        const record = await deps.store().getCase(path.caseId);
        if (!record) throw notFound('case-not-found', 'No case with this id has been received.');
        return { status: 200, body: toCaseView(record) };
      },
    },
    deps.http,
  );

  const myCases = httpHandler(
    {
      operation: 'me.cases.list',
      scope: 'me:read',
      query: myCasesQuerySchema,
      handle: async ({ query, client, event, logger }) => {
        const person = await personOf(event, client, deps.verifyBearer());
        try {
          const page = await deps.store().listApplicantCases(person.sub, query);
          logger.info('own cases listed', { cases: page.cases.length, more: page.cursor !== undefined });
          return {
            status: 200,
            body: {
              items: page.cases.map(toApplicantCaseView),
              ...(page.cursor ? { cursor: page.cursor } : {}),
            },
          };
        } catch (error) {
          if (error instanceof CursorError)
            throw validationFailed([{ path: '/query/cursor', message: error.message }]);
          throw error;
        }
      },
    },
    deps.http,
  );

  return { ingest, getCase, myCases };
}

const apiEnv = z.object({ CASES_TABLE: tableName, STATS_TABLE: tableName, CASE_QUEUE_URL: requiredString });

export const handler = routedHandler({
  name: 'case API',
  routes: {
    'POST /v1/cases:batch': 'ingest',
    'GET /v1/cases/{caseId}': 'getCase',
    'GET /v1/me/cases': 'myCases',
  },
  // Built on first use, so that importing the module (tests, synth) needs no environment.
  build: async () => {
    const aws = await import('../../shared/aws');
    const config = loadConfig(apiEnv);
    const queue = createChangeQueue({ sqs: aws.sqs, queueUrl: config.CASE_QUEUE_URL });
    const store = createCaseStore({
      doc: aws.documentClient,
      casesTable: config.CASES_TABLE,
      statsTable: config.STATS_TABLE,
    });
    let verifier: BearerVerifier | undefined;
    return createCaseApi({
      queue: () => queue,
      store: () => store,
      idHmacKey: once(() => loadIdHmacKey()),
      // Read on first use: ingest and case reads work without the token settings.
      verifyBearer: () => {
        verifier ??= bearerVerifierFromEnvironment();
        return verifier;
      },
      clock: () => new Date(),
    });
  },
});
