import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createRemoteJWKSet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTokenClaims, type TokenSigner } from '../../../functions/auth-verify/domain/tokens';
import { createLocalTokenSigner, ensureLocalSigningKey } from '../../../functions/auth-verify/signing-key';
import { createEvaluationApi, createEvaluationQueue } from '../../../functions/evaluation-ingest/api';
import { processEvaluations } from '../../../functions/evaluation-ingest/consumer';
import {
  type EvaluationMessage,
  evaluationMessageSchema,
} from '../../../functions/evaluation-ingest/domain/evaluation';
import { createEvaluationStore, voteKey } from '../../../functions/evaluation-ingest/evaluation-store';
import { ticketKey } from '../../../functions/evaluation-ingest/ticket-store';
import type { RunningEngine } from '../../../infra/local/engines/dynamodb';
import { listenOnLoopback } from '../../../infra/local/engines/ports';
import { ClientRegistry } from '../../../shared/client-registry';
import { NonceStore } from '../../../shared/nonce-store';
import { createBearerVerifier } from '../../../shared/user-token';
import { lambdaContext, signedApiEvent } from '../../support/api-gateway';
import { localDynamo, scratchTables } from '../../support/dynamo';
import { startLocalSqs, stopLocalSqs } from '../../support/sqs';
import {
  CASE_ID,
  deliveries,
  EVALUATOR_ID,
  EVALUATOR_IDS,
  inMemoryBus,
  observation,
  processorDeps,
  pseudonymise,
  rawEvaluation,
  TEST_HMAC_KEY,
  ticketOpener,
} from '../../unit/evaluation-ingest/ingest-fixtures';

const ISSUER = 'https://hub.zwfw.test';
const NOW = new Date('2026-11-21T10:00:00+08:00');
const dynamo = localDynamo();
const tables = scratchTables(dynamo.client);
const bus = inMemoryBus();
let engine: RunningEngine;
let sqs: SQSClient;
let queueUrl: string;
let registry: ClientRegistry;
let evaluationsTable: string;
let ticketsTable: string;
let folder: string;
let signer: TokenSigner;
let strangerSigner: TokenSigner;
let jwksServer: Server;
let api: ReturnType<typeof createEvaluationApi>;

beforeAll(async () => {
  ({ engine, sqs } = await startLocalSqs());
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'evaluations' }))).QueueUrl as string;
  registry = ClientRegistry.parse(
    await readFile(join(import.meta.dirname, '../../../infra/local/clients.dev.json'), 'utf8'),
  );
  folder = await mkdtemp(join(tmpdir(), 'evaluation-api-'));
  await ensureLocalSigningKey(join(folder, 'hub.jwk'));
  await ensureLocalSigningKey(join(folder, 'stranger.jwk'));
  signer = createLocalTokenSigner(join(folder, 'hub.jwk'));
  strangerSigner = createLocalTokenSigner(join(folder, 'stranger.jwk'));
  // The hub's JWKS, served as auth-verify serves it.
  const jwks = JSON.stringify(await signer.publicJwks());
  jwksServer = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
  });
  const port = await listenOnLoopback(jwksServer, 0);

  const [nonces, idempotency] = await Promise.all([
    tables.create('nonces'),
    tables.create('idempotency', { keySchema: ['id'] }),
  ]);
  [evaluationsTable, ticketsTable] = await Promise.all([
    tables.create('evaluations'),
    tables.create('tickets'),
  ]);
  api = createEvaluationApi({
    queue: () => createEvaluationQueue(sqs, queueUrl),
    idHmacKey: async () => Buffer.from(TEST_HMAC_KEY),
    verifyBearer: () =>
      createBearerVerifier({
        keys: createRemoteJWKSet(new URL(`http://127.0.0.1:${port}/.well-known/jwks.json`)),
        issuer: ISSUER,
        clock: () => NOW,
      }),
    clock: () => NOW,
    http: {
      clientRegistry: async () => registry,
      nonces: new NonceStore(dynamo.doc, nonces, () => NOW),
      idempotency: new DynamoDBPersistenceLayer({ tableName: idempotency, awsSdkV3Client: dynamo.client }),
      clock: () => NOW,
    },
  });
  await createEvaluationStore({ doc: dynamo.doc, evaluationsTable }).recordCaseStatus(
    observation('completed', '2026-11-19T16:00:00+08:00'),
    NOW,
  );
});

afterAll(async () => {
  await tables.dropAll();
  await stopLocalSqs({ engine, sqs });
  await new Promise((resolve) => jwksServer?.close(resolve));
  await rm(folder, { recursive: true, force: true });
});

const context = lambdaContext;

function signed(accessKeyId: string, path: string, body: string, extraHeaders: Record<string, string> = {}) {
  return signedApiEvent(registry, accessKeyId, {
    method: 'POST',
    path,
    body,
    headers: extraHeaders,
    now: NOW,
  });
}

const postBatch = (accessKeyId: string, records: unknown) =>
  api.ingestBatch(signed(accessKeyId, '/v1/evaluations:batch', JSON.stringify({ records })), context());
const submit = (body: unknown, authorization?: string, accessKeyId = 'AKDEVAPPCITIZEN') =>
  api.submit(
    signed(
      accessKeyId,
      '/v1/evaluations',
      JSON.stringify(body),
      authorization ? { Authorization: authorization } : {},
    ),
    context(),
  );
const json = (response: APIGatewayProxyResult) => JSON.parse(response.body);

async function drainQueue(): Promise<{ messageId: string; message: EvaluationMessage; raw: string }[]> {
  const received: { messageId: string; message: EvaluationMessage; raw: string }[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return received;
    for (const m of Messages) {
      const raw = m.Body as string;
      received.push({
        messageId: m.MessageId as string,
        message: evaluationMessageSchema.parse(JSON.parse(raw)),
        raw,
      });
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

const consumerDeps = () =>
  processorDeps({
    store: createEvaluationStore({ doc: dynamo.doc, evaluationsTable }),
    publish: bus.publish,
    openTicket: ticketOpener(ticketsTable),
    clock: () => NOW,
  });

async function itemsOf(evaluationId: string) {
  const { Items = [] } = await dynamo.doc.send(
    new QueryCommand({
      TableName: evaluationsTable,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `EVAL#${evaluationId}` },
    }),
  );
  return Items;
}

const personToken = (
  idNumber: string,
  overrides: { audience?: string; signWith?: TokenSigner; now?: Date } = {},
) => {
  const { sub } = pseudonymise({ type: 'person', idType: 'citizen_id', idNumber });
  const claims = accessTokenClaims({
    issuer: ISSUER,
    audience: overrides.audience ?? 'app-citizen',
    person: { sub, assuranceLevel: 'L2', authMethod: 'dev' },
    now: overrides.now ?? NOW,
    ttlSeconds: 3600,
  });
  return (overrides.signWith ?? signer).sign(claims);
};

describe('POST /v1/evaluations:batch', () => {
  it('queues valid records without ID numbers and answers each bad one with its reason', async () => {
    const response = await postBatch('AKDEVREGION330000', [
      rawEvaluation({ level: 2, comment: '等了很久' }),
      rawEvaluation({ level: 0 }),
      rawEvaluation({ channel: 'fax' }),
      rawEvaluation({ channel: 'hotline', dimensions: { efficiency: 3 } }),
      rawEvaluation({ evaluator: { type: 'person', idType: 'citizen_id', idNumber: '110105194912310021' } }),
      rawEvaluation({ regionCode: '440106' }),
      rawEvaluation({
        evaluator: { type: 'person', idType: 'citizen_id', idNumber: EVALUATOR_IDS[1] },
        level: 5,
      }),
    ]);
    expect(response.statusCode).toBe(202);
    expect(json(response)).toEqual({
      batchId: expect.any(String),
      accepted: 2,
      rejected: [
        { index: 1, reason: 'invalid_record', errors: [{ path: '/level', message: expect.any(String) }] },
        { index: 2, reason: 'invalid_record', errors: [{ path: '/channel', message: expect.any(String) }] },
        {
          index: 3,
          reason: 'invalid_record',
          errors: [{ path: '/dimensions/efficiency', message: expect.any(String) }],
        },
        {
          index: 4,
          reason: 'invalid_record',
          errors: [{ path: '/evaluator/idNumber', message: expect.any(String) }],
        },
        { index: 5, reason: 'out_of_scope' },
      ],
    });
    expect(response.body).not.toContain('110105194912310021');

    const queued = await drainQueue();
    expect(queued).toHaveLength(2);
    for (const { raw } of queued) {
      expect(raw).not.toContain(EVALUATOR_ID);
      expect(raw).not.toContain(EVALUATOR_IDS[1]);
    }

    const report = await processEvaluations(consumerDeps(), queued);
    expect(report.dispositions).toMatchObject({ vote: 2 });
    const [bad] = queued.filter((q) => q.message.level === 2).map((q) => q.message);
    if (!bad) throw new Error('the level-2 evaluation was not queued');
    expect(bus.badReviews()).toEqual([
      expect.objectContaining({
        evaluationId: bad.evaluationId,
        caseId: CASE_ID,
        level: 2,
        stage: 'completed',
      }),
    ]);
    const ticket = await dynamo.doc.send(
      new GetCommand({ TableName: ticketsTable, Key: ticketKey(bad.evaluationId) }),
    );
    expect(ticket.Item).toMatchObject({ evaluationId: bad.evaluationId, status: 'open', level: 2 });
    // What leaves the capability carries neither the evaluator nor the comment.
    const published = JSON.stringify(bus.events);
    expect(published).not.toContain('等了很久');
    expect(published).not.toContain(bad.evaluator.idHmac as string);
    expect(published).not.toContain(bad.evaluator.sub);
  });

  it('changes nothing on a redelivery or a re-pushed batch, and keeps a changed mind as a review', async () => {
    const vote = (await itemsOf(evaluationIdOfFirst())).find((i) => i.sk === 'VOTE');
    const ticketsBefore = await dynamo.doc.send(
      new QueryCommand({
        TableName: ticketsTable,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `TICKET#${evaluationIdOfFirst()}` },
      }),
    );
    // The platform pushes the same batch again, and SQS delivers each message twice.
    await postBatch('AKDEVREGION330000', [rawEvaluation({ level: 2, comment: '等了很久' })]);
    const again = await drainQueue();
    const report = await processEvaluations(consumerDeps(), [
      ...again,
      ...deliveries(again.map((a) => a.message)),
    ]);
    expect(report.dispositions).toMatchObject({ vote: 0, review: 0, duplicate: 2 });
    expect((await itemsOf(evaluationIdOfFirst())).find((i) => i.sk === 'VOTE')).toEqual(vote);
    const ticketsAfter = await dynamo.doc.send(
      new QueryCommand({
        TableName: ticketsTable,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `TICKET#${evaluationIdOfFirst()}` },
      }),
    );
    expect(ticketsAfter.Items).toEqual(ticketsBefore.Items);

    // The same evaluator, same case and stage, another opinion: appended as a review, never a second vote.
    const badReviewsBefore = bus.badReviews().length;
    await postBatch('AKDEVREGION330000', [rawEvaluation({ level: 1, comment: '更差了' })]);
    const review = await processEvaluations(consumerDeps(), await drainQueue());
    expect(review.dispositions).toMatchObject({ vote: 0, review: 1 });
    expect(bus.received().at(-1)).toMatchObject({
      evaluationId: evaluationIdOfFirst(),
      isReview: true,
      level: 1,
    });
    expect(bus.badReviews()).toHaveLength(badReviewsBefore);
    expect((await itemsOf(evaluationIdOfFirst())).map((i) => i.sk).sort()).toEqual([
      expect.stringMatching(/^REVIEW#/),
      'VOTE',
    ]);
  });

  it('refuses clients without the scope and a bad envelope', async () => {
    expect((await postBatch('AKDEVAPPCITIZEN', [rawEvaluation()])).statusCode).toBe(403);
    expect((await postBatch('AKDEVREGION330000', [])).statusCode).toBe(422);
    expect(
      (await postBatch('AKDEVREGION330000', Array.from({ length: 501 }, rawEvaluation))).statusCode,
    ).toBe(422);
  });
});

/** The level-2 vote the first test stores and announces. */
function evaluationIdOfFirst(): string {
  const id = bus.badReviews()[0]?.evaluationId;
  if (!id) throw new Error('the first test stores the bad review');
  return id;
}

describe('POST /v1/evaluations (citizen app, bearer token)', () => {
  const body = (overrides: Record<string, unknown> = {}) => {
    const { evaluator: _evaluator, ...record } = rawEvaluation({
      channel: 'mini_program',
      level: 5,
      ...overrides,
    });
    return record;
  };

  it("takes the evaluator from the token's subject, one evaluator across app and platform", async () => {
    const token = await personToken(EVALUATOR_IDS[2] as string);
    const response = await submit(body({ comment: undefined }), `Bearer ${token}`);
    expect(response.statusCode).toBe(202);
    const { evaluationId } = json(response);
    const [queued] = await drainQueue();
    expect(queued?.message).toMatchObject({
      evaluationId,
      clientId: 'app-citizen',
      evaluator: { type: 'person' },
    });
    expect(queued?.message.evaluator.idHmac).toBeUndefined();
    expect((await processEvaluations(consumerDeps(), queued ? [queued] : [])).dispositions.vote).toBe(1);

    // The same person's platform push for the same case and stage is the same evaluation: a review, not a vote.
    await postBatch('AKDEVREGION330000', [
      rawEvaluation({
        evaluator: { type: 'person', idType: 'citizen_id', idNumber: EVALUATOR_IDS[2] },
        level: 3,
      }),
    ]);
    const fromPlatform = await drainQueue();
    expect(fromPlatform[0]?.message.evaluationId).toBe(evaluationId);
    expect((await processEvaluations(consumerDeps(), fromPlatform)).dispositions.review).toBe(1);
  });

  it('answers 401 for a missing, malformed, foreign, expired or misaddressed token, before reading the record', async () => {
    const refusals = [
      await submit(body()),
      await submit(body(), 'Basic abc'),
      await submit(body(), 'Bearer not-a-jwt'),
      await submit(body(), `Bearer ${await personToken(EVALUATOR_ID, { signWith: strangerSigner })}`),
      await submit(
        body(),
        `Bearer ${await personToken(EVALUATOR_ID, { now: new Date(NOW.getTime() - 7_200_000) })}`,
      ),
      await submit(body(), `Bearer ${await personToken(EVALUATOR_ID, { audience: 'region-330000' })}`),
      await submit({ level: 0 }, 'Bearer x.y.z'),
    ];
    expect(refusals.map((r) => r.statusCode)).toEqual([401, 401, 401, 401, 401, 401, 401]);
    expect(refusals.map((r) => json(r).type)).toEqual([
      'urn:zwfw-hub:problem:bearer-token-missing',
      'urn:zwfw-hub:problem:bearer-token-missing',
      ...Array.from({ length: 5 }, () => 'urn:zwfw-hub:problem:bearer-token-invalid'),
    ]);
    expect(refusals[0]?.headers?.['www-authenticate']).toMatch(/^Bearer/);
    expect(await drainQueue()).toEqual([]);
  });

  it('answers 422 with the field for a bad record under a good token, and 403 to a platform client', async () => {
    const token = await personToken(EVALUATOR_ID);
    const bad = await submit(
      body({ level: 6, channel: 'window', dimensions: { guideAccuracy: 2 } }),
      `Bearer ${token}`,
    );
    expect(bad.statusCode).toBe(422);
    expect(
      json(bad)
        .errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(['/body/dimensions/guideAccuracy', '/body/level']);
    expect((await submit(body(), `Bearer ${token}`, 'AKDEVREGION330000')).statusCode).toBe(403);
  });
});

it('keeps each stored vote free of the clear ID number', async () => {
  const { Item } = await dynamo.doc.send(
    new GetCommand({ TableName: evaluationsTable, Key: voteKey(evaluationIdOfFirst()) }),
  );
  expect(JSON.stringify(Item)).not.toContain(EVALUATOR_ID);
  expect(Item).toMatchObject({
    evaluator: { maskedId: expect.stringContaining('*'), idHmac: expect.any(String) },
  });
});
