import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { dynamoDbClients } from '../../shared/aws/dynamodb';
import { sqsClients } from '../../shared/aws/sqs';
import { loadIdHmacKey } from '../../shared/client-registry';
import { loadConfig, requiredString, tableName } from '../../shared/config';
import { defineRoute, pageOf } from '../../shared/contract';
import { once, routedHandler } from '../../shared/entry';
import { type HttpDependencyOverrides, httpHandler } from '../../shared/http';
import { maskIdNumber, maskName } from '../../shared/masking';
import { hmacIdentifier } from '../../shared/pii';
import { forbidden, notFound, validationFailed } from '../../shared/problem';
import { type BearerVerifier, bearerVerifierFromEnvironment, personOf } from '../../shared/user-token';
import { subjectOf } from '../auth-verify/domain/subject';
import { APPLICANT_TYPES, CHANNELS, ID_TYPES, parseCaseId } from './domain/change';
import { mayAccessRegion, type Pseudonymise, type RejectedCaseRecord, triageRecords } from './domain/ingest';
import { caseRecordSchema, MAX_RECORDS_PER_BATCH } from './domain/record';
import { CASE_STATUSES } from './domain/status';
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

const fieldErrorSchema = z.object({ path: z.string(), message: z.string() });

export const ingestReplySchema = z.object({
  batchId: z.uuid(),
  accepted: z.number().int().min(0).describe('Records queued for applying.'),
  rejected: z.array(
    z.object({
      index: z.number().int().min(0),
      reason: z.string().describe('invalid_record, region_out_of_scope, enqueue_failed, …'),
      errors: z.array(fieldErrorSchema).optional(),
    }),
  ),
});

const caseStatusSchema = z.enum(CASE_STATUSES);
const shownApplicantSchema = z.object({
  type: z.enum(APPLICANT_TYPES),
  idType: z.enum(ID_TYPES),
  maskedId: z.string().describe('First 6 and last 4 characters, the rest `*`.'),
  maskedName: z.string(),
});

export const caseViewSchema = z.object({
  caseId: z.string(),
  regionCode: z.string(),
  caseNumber: z.string(),
  itemCode: z.string(),
  itemName: z.string(),
  departmentCode: z.string(),
  applicant: shownApplicantSchema,
  channel: z.enum(CHANNELS),
  fullyOnline: z.boolean(),
  promisedDays: z.number(),
  statutoryDays: z.number(),
  status: caseStatusSchema.optional(),
  dueDay: z.string().nullable().describe('Last day of the promised limit (working days, Asia/Shanghai).'),
  overdueDay: z.string().nullable(),
  timeline: z.array(
    z.object({ status: caseStatusSchema, at: z.string(), changeId: z.string(), receivedAt: z.string() }),
  ),
  conflicts: z.array(
    z.object({
      status: caseStatusSchema,
      at: z.string(),
      reason: z.string(),
      conflictsWith: caseStatusSchema,
      detectedAt: z.string(),
    }),
  ),
  firstSeenAt: z.string(),
  lastChangeAt: z.string(),
  version: z.number().int(),
});

export const applicantCaseViewSchema = z.object({
  caseId: z.string(),
  regionCode: z.string(),
  caseNumber: z.string(),
  itemCode: z.string(),
  itemName: z.string(),
  departmentCode: z.string(),
  applicant: shownApplicantSchema,
  channel: z.enum(CHANNELS),
  fullyOnline: z.boolean(),
  promisedDays: z.number(),
  status: caseStatusSchema.optional(),
  submittedAt: z.string(),
  dueDay: z.string().nullable(),
  timeline: z.array(z.object({ status: caseStatusSchema, at: z.string() })),
  lastChangeAt: z.string(),
});

const EXAMPLE_CASE_RECORD = {
  regionCode: '330000',
  caseNumber: '330000202611210001',
  itemCode: '11330000002593947X4000117051000',
  itemName: '个体工商户设立登记',
  departmentCode: '11330000002593947X',
  applicant: { type: 'person', idType: 'citizen_id', idNumber: '11010519491231002X', name: '张三' },
  channel: 'online',
  fullyOnline: true,
  promisedDays: 5,
  statutoryDays: 20,
  status: 'accepted',
  statusAt: '2026-11-21T10:00:00+08:00',
};

/** The case API's routes; `handler` below serves exactly these. */
export const CASE_ROUTES = {
  ingest: defineRoute({
    operation: 'cases.ingestBatch',
    method: 'POST',
    path: '/v1/cases:batch',
    tag: 'case aggregation',
    summary: 'Push up to 500 case status records; each is judged on its own and queued for applying.',
    description:
      'Answers 202 with the records accepted and, by index, those rejected with their reason. Applying is ' +
      'asynchronous, exactly once and in state-machine order; the records are documented by `records[]`.',
    scope: 'cases:write',
    authentication: 'signature',
    body: ingestEnvelopeSchema,
    documentedBody: z.object({ records: z.array(caseRecordSchema).min(1).max(MAX_RECORDS_PER_BATCH) }),
    idempotent: true,
    requestExample: { records: [EXAMPLE_CASE_RECORD] },
    responses: {
      202: {
        description: 'The batch was judged: accepted records are queued, rejected ones listed.',
        schema: ingestReplySchema,
        example: { batchId: '0b8e9d2c-3f41-4a77-9a55-0d6f0e6f5b11', accepted: 1, rejected: [] },
      },
    },
  }),
  getCase: defineRoute({
    operation: 'cases.get',
    method: 'GET',
    path: '/v1/cases/{caseId}',
    tag: 'case aggregation',
    summary: "Read a case of the caller's province: its status, timeline and conflicts.",
    scope: 'cases:read',
    authentication: 'signature',
    params: caseIdPathSchema,
    responses: { 200: { description: 'The case, applicant masked.', schema: caseViewSchema } },
    problems: [
      { status: 403, slug: 'case-out-of-scope', when: "The case is of another province than the caller's." },
      { status: 404, slug: 'case-not-found', when: 'No case with this id has been received.' },
    ],
  }),
  myCases: defineRoute({
    operation: 'me.cases.list',
    method: 'GET',
    path: '/v1/me/cases',
    tag: 'user space',
    summary: "The signed-in person's own cases (用户空间), newest first, a page at a time.",
    scope: 'me:read',
    authentication: 'signature+bearer',
    query: myCasesQuerySchema,
    responses: {
      200: { description: "A page of the person's cases.", schema: pageOf(applicantCaseViewSchema) },
    },
  }),
};
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
      contract: CASE_ROUTES.ingest,
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
      contract: CASE_ROUTES.getCase,
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
      contract: CASE_ROUTES.myCases,
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
  contracts: CASE_ROUTES,
  // Built on first use, so that importing the module (tests, synth) needs no environment.
  build: async () => {
    const aws = { ...dynamoDbClients(), ...sqsClients() };
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
