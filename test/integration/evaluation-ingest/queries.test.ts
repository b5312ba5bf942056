import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTokenClaims, type TokenSigner } from '../../../functions/auth-verify/domain/tokens';
import { createLocalTokenSigner, ensureLocalSigningKey } from '../../../functions/auth-verify/signing-key';
import { processEvaluations } from '../../../functions/evaluation-ingest/consumer';
import { type EvaluationMessage, toMessage } from '../../../functions/evaluation-ingest/domain/evaluation';
import { triageEvaluations } from '../../../functions/evaluation-ingest/domain/ingest';
import {
  createEvaluationStore,
  type EvaluationStore,
} from '../../../functions/evaluation-ingest/evaluation-store';
import { createEvaluationQueryApi } from '../../../functions/evaluation-ingest/query-api';
import { ClientRegistry } from '../../../shared/client-registry';
import { NonceStore } from '../../../shared/nonce-store';
import { createBearerVerifier } from '../../../shared/user-token';
import { lambdaContext, signedApiEvent } from '../../support/api-gateway';
import { localDynamo, scratchTables } from '../../support/dynamo';
import {
  deliveries,
  EVALUATOR_IDS,
  inMemoryBus,
  observation,
  processorDeps,
  pseudonymise,
  rawEvaluation,
  ticketOpener,
} from '../../unit/evaluation-ingest/ingest-fixtures';

/**
 * The read routes of evaluation ingest against DynamoDB Local, with items written by the real consumer:
 * `GET /v1/me/evaluations` (a person's own votes and reviews, found by the token's subject whether a platform
 * pushed them with the ID number or the app submitted them with the token) and `GET /v1/evaluations/rejections`
 * (a platform's rejected submissions, by batch).
 */
const ISSUER = 'https://hub.zwfw.test';
const NOW = new Date('2026-11-21T10:00:00+08:00');
const dynamo = localDynamo();
const tables = scratchTables(dynamo.client);
const bus = inMemoryBus();
const [PERSON_A, PERSON_B] = EVALUATOR_IDS.slice(40, 42) as [string, string];
let registry: ClientRegistry;
let store: EvaluationStore;
let ticketsTable: string;
let folder: string;
let signer: TokenSigner;
let api: ReturnType<typeof createEvaluationQueryApi>;

beforeAll(async () => {
  registry = ClientRegistry.parse(
    await readFile(join(import.meta.dirname, '../../../infra/local/clients.dev.json'), 'utf8'),
  );
  folder = await mkdtemp(join(tmpdir(), 'evaluation-queries-'));
  await ensureLocalSigningKey(join(folder, 'hub.jwk'));
  signer = createLocalTokenSigner(join(folder, 'hub.jwk'));
  const keys = createLocalJWKSet((await signer.publicJwks()) as JSONWebKeySet);
  const [nonces, idempotency, evaluationsTable] = await Promise.all([
    tables.create('nonces'),
    tables.create('idempotency', { keySchema: ['id'] }),
    tables.create('evaluations', { gsi1: true }),
  ]);
  ticketsTable = await tables.create('tickets');
  store = createEvaluationStore({ doc: dynamo.doc, evaluationsTable });
  api = createEvaluationQueryApi({
    store: () => store,
    verifyBearer: () => createBearerVerifier({ keys, issuer: ISSUER, clock: () => NOW }),
    http: {
      clientRegistry: async () => registry,
      nonces: new NonceStore(dynamo.doc, nonces, () => NOW),
      idempotency: new DynamoDBPersistenceLayer({ tableName: idempotency, awsSdkV3Client: dynamo.client }),
      clock: () => NOW,
    },
  });
  for (const caseNumber of ['Q-1', 'Q-2', 'Q-3']) {
    await store.recordCaseStatus(observation('completed', '2026-11-19T16:00:00+08:00', caseNumber), NOW);
  }
});

afterAll(async () => {
  await tables.dropAll();
  await rm(folder, { recursive: true, force: true });
});

const json = (response: APIGatewayProxyResult) => JSON.parse(response.body);
const subjectOf = (idNumber: string) => pseudonymise({ type: 'person', idType: 'citizen_id', idNumber }).sub;

const tokenFor = (idNumber: string, audience = 'app-citizen') =>
  signer.sign(
    accessTokenClaims({
      issuer: ISSUER,
      audience,
      person: { sub: subjectOf(idNumber), assuranceLevel: 'L2', authMethod: 'dev' },
      now: NOW,
      ttlSeconds: 3600,
    }),
  );

function get(
  path: string,
  query: Record<string, string>,
  options: { accessKeyId?: string; bearer?: string } = {},
) {
  const event = signedApiEvent(registry, options.accessKeyId ?? 'AKDEVAPPCITIZEN', {
    method: 'GET',
    path,
    query,
    headers: options.bearer ? { Authorization: `Bearer ${options.bearer}` } : {},
    now: NOW,
  });
  return path === '/v1/me/evaluations'
    ? api.ownEvaluations(event, lambdaContext())
    : api.rejections(event, lambdaContext());
}

/** A pushed batch as the API triages it (batch id, indexes, pseudonymised evaluators), then consumed. */
async function pushAndConsume(
  records: Record<string, unknown>[],
  options: { receivedAt?: Date; clientId?: string } = {},
): Promise<string> {
  const batchId = randomUUID();
  const triage = triageEvaluations(records, {
    client: { clientId: options.clientId ?? 'region-330000', kind: 'region', regionCode: '330000' },
    batchId,
    correlationId: 'corr-queries',
    receivedAt: options.receivedAt ?? NOW,
    pseudonymise,
  });
  expect(triage.rejected).toEqual([]);
  await consume(triage.messages.map((m) => m.message));
  return batchId;
}

const consume = (messages: EvaluationMessage[]) =>
  processEvaluations(
    processorDeps({
      store,
      publish: bus.publish,
      openTicket: ticketOpener(ticketsTable),
      clock: () => NOW,
    }),
    deliveries(messages),
  );

const byPerson = (idNumber: string, overrides: Record<string, unknown>) =>
  rawEvaluation({ evaluator: { type: 'person', idType: 'citizen_id', idNumber }, ...overrides });

describe('GET /v1/me/evaluations', () => {
  beforeAll(async () => {
    await pushAndConsume([
      byPerson(PERSON_A, { caseNumber: 'Q-1', level: 2, evaluatedAt: '2026-11-20T09:00:00+08:00' }),
      // 11:00 in Shanghai written in UTC: the list orders instants, not the text the platform sent.
      byPerson(PERSON_A, { caseNumber: 'Q-2', level: 5, evaluatedAt: '2026-11-20T03:00:00Z' }),
      byPerson(PERSON_B, { caseNumber: 'Q-1', level: 4, evaluatedAt: '2026-11-20T10:00:00+08:00' }),
    ]);
    // A changed mind on Q-1 (a review), and an app submission, whose evaluator is known only by the token's subject.
    await pushAndConsume([
      byPerson(PERSON_A, { caseNumber: 'Q-1', level: 3, evaluatedAt: '2026-11-20T12:00:00+08:00' }),
    ]);
    const { evaluator: _evaluator, ...appRecord } = rawEvaluation({
      caseNumber: 'Q-3',
      level: 4,
      channel: 'app',
      evaluatedAt: '2026-11-20T13:00:00+08:00',
    });
    const appMessage = toMessage(
      appRecord as Parameters<typeof toMessage>[0],
      { type: 'person', sub: subjectOf(PERSON_A) },
      { clientId: 'app-citizen', batchId: randomUUID(), correlationId: 'corr-app', receivedAt: NOW },
    );
    await consume([appMessage]);
  });

  it("lists the person's votes and reviews, newest first, pushed or submitted, with masked data only", async () => {
    const response = await get('/v1/me/evaluations', {}, { bearer: await tokenFor(PERSON_A) });
    expect(response.statusCode).toBe(200);
    const body = json(response);
    expect(
      body.items.map((i: Record<string, unknown>) => [i.caseId, i.level, i.levelName, i.isReview]),
    ).toEqual([
      ['330106:Q-3', 4, '满意', false],
      ['330106:Q-1', 3, '基本满意', true],
      ['330106:Q-2', 5, '非常满意', false],
      ['330106:Q-1', 2, '不满意', false],
    ]);
    expect(body.cursor).toBeUndefined();
    expect(body.items[3]).toMatchObject({
      evaluator: { type: 'person', maskedId: expect.stringMatching(/^\d{6}\*+\w{4}$/) },
      channel: 'app',
      stage: 'completed',
      comment: '办理很快',
    });
    expect(body.items[1].reviewId).toEqual(expect.any(String));
    // Neither the clear number, nor the pseudonyms, nor the platform's abuse flags reach the person's app.
    expect(response.body).not.toContain(PERSON_A);
    expect(response.body).not.toContain(subjectOf(PERSON_A));
    expect(response.body).not.toContain('idHmac');
    expect(response.body).not.toContain('flags');
  });

  it('pages with an opaque cursor that only its owner can use', async () => {
    const tokenA = await tokenFor(PERSON_A);
    const first = json(await get('/v1/me/evaluations', { limit: '3' }, { bearer: tokenA }));
    expect(first.items).toHaveLength(3);
    expect(first.cursor).toEqual(expect.any(String));
    const second = json(
      await get('/v1/me/evaluations', { limit: '3', cursor: first.cursor }, { bearer: tokenA }),
    );
    expect(second.items.map((i: { caseId: string }) => i.caseId)).toEqual(['330106:Q-1']);
    expect(second.cursor).toBeUndefined();

    const tokenB = await tokenFor(PERSON_B);
    const own = json(await get('/v1/me/evaluations', {}, { bearer: tokenB }));
    expect(own.items.map((i: { caseId: string; level: number }) => [i.caseId, i.level])).toEqual([
      ['330106:Q-1', 4],
    ]);
    const stolen = await get('/v1/me/evaluations', { cursor: first.cursor }, { bearer: tokenB });
    expect(stolen.statusCode).toBe(422);
    expect(json(stolen).errors).toEqual([{ path: '/query/cursor', message: expect.any(String) }]);
    const tooMany = await get('/v1/me/evaluations', { limit: '101' }, { bearer: tokenA });
    expect(tooMany.statusCode).toBe(422);
  });

  it('needs the person: no token 401, a token of another platform 401, a platform without me:read 403', async () => {
    const missing = await get('/v1/me/evaluations', {});
    expect([missing.statusCode, json(missing).type]).toEqual([
      401,
      'urn:zwfw-hub:problem:bearer-token-missing',
    ]);
    const foreign = await get(
      '/v1/me/evaluations',
      {},
      { bearer: await tokenFor(PERSON_A, 'region-330000') },
    );
    expect([foreign.statusCode, json(foreign).type]).toEqual([
      401,
      'urn:zwfw-hub:problem:bearer-token-invalid',
    ]);
    const platform = await get(
      '/v1/me/evaluations',
      {},
      { accessKeyId: 'AKDEVREGION330000', bearer: await tokenFor(PERSON_A, 'region-330000') },
    );
    expect(platform.statusCode).toBe(403);
  });
});

describe('GET /v1/evaluations/rejections', () => {
  let waitedBatch: string;

  beforeAll(async () => {
    // Received two days ago and its case never learnt: past the 24 h wait, rejected at the first look.
    const twoDaysAgo = { receivedAt: new Date(NOW.getTime() - 2 * 86_400_000) };
    const evaluatedAt = '2026-11-19T09:00:00+08:00';
    waitedBatch = await pushAndConsume(
      [
        byPerson(EVALUATOR_IDS[50] as string, { caseNumber: 'NEVER-1', evaluatedAt }),
        // A known case (at acceptance) in the same batch: a vote, not a rejection.
        byPerson(EVALUATOR_IDS[51] as string, { caseNumber: 'Q-2', stage: 'accepted', evaluatedAt }),
        byPerson(EVALUATOR_IDS[52] as string, { caseNumber: 'NEVER-2', evaluatedAt }),
      ],
      twoDaysAgo,
    );
    await pushAndConsume(
      [byPerson(EVALUATOR_IDS[53] as string, { caseNumber: 'NEVER-3', evaluatedAt })],
      twoDaysAgo,
    );
  });

  it("answers the platform's rejections of a batch with the record's index and the reason", async () => {
    const response = await get(
      '/v1/evaluations/rejections',
      { batchId: waitedBatch },
      { accessKeyId: 'AKDEVREGION330000' },
    );
    expect(response.statusCode).toBe(200);
    const { items } = json(response);
    expect(
      items
        .map((i: Record<string, unknown>) => [i.batchIndex, i.caseId, i.reason, i.batchId])
        .sort((a: number[], b: number[]) => Number(a[0]) - Number(b[0])),
    ).toEqual([
      [0, '330106:NEVER-1', 'case_unknown', waitedBatch],
      [2, '330106:NEVER-2', 'case_unknown', waitedBatch],
    ]);
    expect(response.body).not.toContain(EVALUATOR_IDS[50] as string);
    expect(response.body).not.toContain('evaluator');
    expect(response.body).not.toContain('comment');
  });

  it('lists every batch without a filter, pages through a filter, and shows nothing to another platform', async () => {
    const all = json(await get('/v1/evaluations/rejections', {}, { accessKeyId: 'AKDEVREGION330000' }));
    expect(all.items.map((i: { caseId: string }) => i.caseId).sort()).toEqual([
      '330106:NEVER-1',
      '330106:NEVER-2',
      '330106:NEVER-3',
    ]);
    const first = json(
      await get(
        '/v1/evaluations/rejections',
        { batchId: waitedBatch, limit: '1' },
        { accessKeyId: 'AKDEVREGION330000' },
      ),
    );
    expect(first.items).toHaveLength(1);
    const rest = json(
      await get(
        '/v1/evaluations/rejections',
        { batchId: waitedBatch, limit: '1', cursor: first.cursor },
        { accessKeyId: 'AKDEVREGION330000' },
      ),
    );
    const seen = [...first.items, ...rest.items].map((i: { caseId: string }) => i.caseId).sort();
    expect(seen).toEqual(['330106:NEVER-1', '330106:NEVER-2']);

    const ministry = json(await get('/v1/evaluations/rejections', {}, { accessKeyId: 'AKDEVMINISTRYMPS' }));
    expect(ministry.items).toEqual([]);
    const borrowed = await get(
      '/v1/evaluations/rejections',
      { cursor: first.cursor },
      { accessKeyId: 'AKDEVMINISTRYMPS' },
    );
    expect(borrowed.statusCode).toBe(422);
    const app = await get('/v1/evaluations/rejections', {}, { accessKeyId: 'AKDEVAPPCITIZEN' });
    expect(app.statusCode).toBe(403);
    const badBatch = await get(
      '/v1/evaluations/rejections',
      { batchId: 'not-a-batch' },
      { accessKeyId: 'AKDEVREGION330000' },
    );
    expect(badBatch.statusCode).toBe(422);
  });
});
