import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createRemoteJWKSet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTokenClaims, type TokenSigner } from '../../../functions/auth-verify/domain/tokens';
import { createLocalTokenSigner, ensureLocalSigningKey } from '../../../functions/auth-verify/signing-key';
import { createCaseApi } from '../../../functions/case-aggregate/api';
import { processChanges } from '../../../functions/case-aggregate/change-processor';
import { defaultStatisticsOptions } from '../../../functions/case-aggregate/domain/statistics';
import { APPLICANT_INDEX, caseKey, createCaseStore } from '../../../functions/case-aggregate/store';
import { listenOnLoopback } from '../../../infra/local/engines/ports';
import { ClientRegistry } from '../../../shared/client-registry';
import { generateCitizenId, seededRandom } from '../../../shared/identifiers/generate';
import { NonceStore } from '../../../shared/nonce-store';
import { createBearerVerifier } from '../../../shared/user-token';
import { lambdaContext, signedApiEvent } from '../../support/api-gateway';
import { localDynamo, scratchTables } from '../../support/dynamo';
import { CITIZEN_ID, changeOf, subjectOfId } from '../../unit/case-aggregate/fixtures';
import { caseTableIndexes } from './case-table';

/**
 * `GET /v1/me/cases` against DynamoDB Local: cases stored by the real consumer path carry the applicant's subject
 * in the keys-only `applicant` index; the route lists a person's own cases, newest first, paginated, from their
 * access token (signed with a local key, served as a JWKS the way auth-verify publishes it).
 */
const ISSUER = 'https://hub.zwfw.test';
const NOW = new Date('2026-11-21T10:00:00+08:00');
const OTHER_ID = generateCitizenId(seededRandom(77), { regionCode: '440106' });
const dynamo = localDynamo();
const tables = scratchTables(dynamo.client);
let registry: ClientRegistry;
let casesTable: string;
let folder: string;
let signer: TokenSigner;
let strangerSigner: TokenSigner;
let jwksServer: Server;
let api: ReturnType<typeof createCaseApi>;
let store: ReturnType<typeof createCaseStore>;

beforeAll(async () => {
  registry = ClientRegistry.parse(
    await readFile(join(import.meta.dirname, '../../../infra/local/clients.dev.json'), 'utf8'),
  );
  folder = await mkdtemp(join(tmpdir(), 'me-cases-'));
  await ensureLocalSigningKey(join(folder, 'hub.jwk'));
  await ensureLocalSigningKey(join(folder, 'stranger.jwk'));
  signer = createLocalTokenSigner(join(folder, 'hub.jwk'));
  strangerSigner = createLocalTokenSigner(join(folder, 'stranger.jwk'));
  const jwks = JSON.stringify(await signer.publicJwks());
  jwksServer = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
  });
  const port = await listenOnLoopback(jwksServer, 0);

  const [nonces, idempotency, stats] = await Promise.all([
    tables.create('nonces'),
    tables.create('idempotency', { keySchema: ['id'] }),
    tables.create('stats'),
  ]);
  // The cases table as CDK declares it: the keys-only applicant and due indexes.
  casesTable = await tables.create('cases', { indexes: caseTableIndexes });
  store = createCaseStore({ doc: dynamo.doc, casesTable, statsTable: stats });
  api = createCaseApi({
    store: () => store,
    queue: () => {
      throw new Error('listing cases enqueues nothing');
    },
    idHmacKey: async () => {
      throw new Error('listing cases needs no identifier key');
    },
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

  // Seven cases of the person, submitted a day apart (one of them with two statuses), two of someone else.
  const mine = Array.from({ length: 7 }, (_, i) =>
    changeOf({
      caseNumber: `MINE-${i}`,
      status: 'submitted',
      statusAt: `2026-11-${String(10 + i).padStart(2, '0')}T09:00:00+08:00`,
    }),
  );
  const accepted = changeOf({
    caseNumber: 'MINE-6',
    status: 'accepted',
    statusAt: '2026-11-16T11:00:00+08:00',
  });
  const theirs = [0, 1].map((i) =>
    changeOf(
      {
        regionCode: '440106',
        caseNumber: `THEIRS-${i}`,
        status: 'submitted',
        statusAt: '2026-11-18T09:00:00+08:00',
      },
      OTHER_ID,
    ),
  );
  const report = await processChanges(
    { store, publish: async () => {}, clock: () => NOW, statistics: defaultStatisticsOptions },
    [...mine, accepted, ...theirs].map((change, i) => ({ messageId: `m-${i}`, change })),
  );
  expect(report.applied).toBe(10);
});

afterAll(async () => {
  await tables.dropAll();
  await new Promise((resolve) => jwksServer?.close(resolve));
  await rm(folder, { recursive: true, force: true });
});

const tokenOf = (idNumber: string, overrides: { audience?: string; signWith?: TokenSigner } = {}) =>
  (overrides.signWith ?? signer).sign(
    accessTokenClaims({
      issuer: ISSUER,
      audience: overrides.audience ?? 'app-citizen',
      person: { sub: subjectOfId(idNumber), assuranceLevel: 'L2', authMethod: 'dev' },
      now: NOW,
      ttlSeconds: 3600,
    }),
  );

function listMine(
  authorization: string | undefined,
  query: Record<string, string> = {},
  accessKeyId = 'AKDEVAPPCITIZEN',
) {
  return api.myCases(
    signedApiEvent(registry, accessKeyId, {
      method: 'GET',
      path: '/v1/me/cases',
      query,
      now: NOW,
      headers: authorization === undefined ? {} : { Authorization: authorization },
    }),
    lambdaContext(),
  );
}

const json = (response: APIGatewayProxyResult) => JSON.parse(response.body);

describe('GET /v1/me/cases', () => {
  it('stores the applicant subject once, as the index key, and the case without what its key says', async () => {
    const { Item } = await dynamo.doc.send(
      new GetCommand({ TableName: casesTable, Key: caseKey('330106:MINE-6') }),
    );
    expect(Item).toMatchObject({
      [APPLICANT_INDEX.partitionKey]: subjectOfId(CITIZEN_ID),
      // Sorted by the earliest status, so a later status does not move the case in the list.
      [APPLICANT_INDEX.sortKey]: '2026-11-16T01:00:00.000Z',
      createdBy: 'submitted',
      timeline: [
        { status: 'submitted', at: '2026-11-16T01:00:00.000Z' },
        { status: 'accepted', at: '2026-11-16T03:00:00.000Z' },
      ],
    });
    for (const derivable of ['caseId', 'regionCode', 'caseNumber', 'createdByChangeId'])
      expect(Item).not.toHaveProperty(derivable);
    expect(Item?.applicant).not.toHaveProperty('sub');
    expect(Item?.timeline[0]).not.toHaveProperty('changeId');
    expect(JSON.stringify(Item)).not.toContain(CITIZEN_ID);
    // Read back whole: the store restores what it left out.
    const record = await store.getCase('330106:MINE-6');
    expect(record).toMatchObject({
      caseId: '330106:MINE-6',
      regionCode: '330106',
      caseNumber: 'MINE-6',
      createdByChangeId: '330106:MINE-6#submitted',
      applicant: { sub: subjectOfId(CITIZEN_ID) },
      timeline: [{ changeId: '330106:MINE-6#submitted' }, { changeId: '330106:MINE-6#accepted' }],
    });
  });

  it('lists only the person’s own cases, newest first, masked, in pages that join up', async () => {
    const token = `Bearer ${await tokenOf(CITIZEN_ID)}`;
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const response = await listMine(token, { limit: '3', ...(cursor ? { cursor } : {}) });
      expect(response.statusCode).toBe(200);
      const body = json(response) as { items: { caseId: string }[]; cursor?: string };
      expect(body.items.length).toBeLessThanOrEqual(3);
      seen.push(...body.items.map((item) => item.caseId));
      cursor = body.cursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(seen).toEqual([6, 5, 4, 3, 2, 1, 0].map((i) => `330106:MINE-${i}`));
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  it('shows the case as its applicant may see it: status, timeline and masked identity only', async () => {
    const response = await listMine(`Bearer ${await tokenOf(CITIZEN_ID)}`, { limit: '1' });
    const [newest] = json(response).items;
    expect(newest).toEqual({
      caseId: '330106:MINE-6',
      regionCode: '330106',
      caseNumber: 'MINE-6',
      itemCode: expect.any(String),
      itemName: 'Business licence registration',
      departmentCode: expect.any(String),
      applicant: {
        type: 'person',
        idType: 'citizen_id',
        maskedId: `${CITIZEN_ID.slice(0, 6)}********${CITIZEN_ID.slice(-4)}`,
        maskedName: '张**',
      },
      channel: 'online',
      fullyOnline: true,
      promisedDays: 5,
      status: 'accepted',
      submittedAt: '2026-11-16T01:00:00.000Z',
      dueDay: expect.stringMatching(/^2026-11-\d\d$/),
      timeline: [
        { status: 'submitted', at: '2026-11-16T01:00:00.000Z' },
        { status: 'accepted', at: '2026-11-16T03:00:00.000Z' },
      ],
      lastChangeAt: NOW.toISOString(),
    });
    for (const secret of [CITIZEN_ID, 'idHmac', subjectOfId(CITIZEN_ID), 'clientId', 'correlationId'])
      expect(response.body).not.toContain(secret);
  });

  it('gives another person their own cases and a person without cases an empty list', async () => {
    const other = json(await listMine(`Bearer ${await tokenOf(OTHER_ID)}`));
    expect(other.items.map((item: { caseId: string }) => item.caseId).sort()).toEqual([
      '440106:THEIRS-0',
      '440106:THEIRS-1',
    ]);
    const nobody = generateCitizenId(seededRandom(78), { regionCode: '110105' });
    expect(json(await listMine(`Bearer ${await tokenOf(nobody)}`))).toEqual({ items: [] });
  });

  it('refuses a missing token, another app’s token and a token of another issuer with 401', async () => {
    const cases: [string | undefined, string][] = [
      [undefined, 'bearer-token-missing'],
      [`Bearer ${await tokenOf(CITIZEN_ID, { audience: 'region-330000' })}`, 'bearer-token-invalid'],
      [`Bearer ${await tokenOf(CITIZEN_ID, { signWith: strangerSigner })}`, 'bearer-token-invalid'],
      ['Bearer not-a-token', 'bearer-token-invalid'],
    ];
    for (const [authorization, slug] of cases) {
      const response = await listMine(authorization);
      expect(response.statusCode).toBe(401);
      expect(json(response).type).toBe(`urn:zwfw-hub:problem:${slug}`);
    }
  });

  it('refuses a platform without me:read with 403, whatever token it carries', async () => {
    const response = await listMine(`Bearer ${await tokenOf(CITIZEN_ID)}`, {}, 'AKDEVREGION330000');
    expect(response.statusCode).toBe(403);
    expect(json(response).type).toBe('urn:zwfw-hub:problem:scope-missing');
  });

  it('answers 422 for a bad limit or a cursor it did not hand out, and a cursor cannot open another list', async () => {
    const token = `Bearer ${await tokenOf(CITIZEN_ID)}`;
    const queries: Record<string, string>[] = [
      { limit: '0' },
      { limit: '101' },
      { limit: 'many' },
      { cursor: 'bm90LWEtY3Vyc29y' },
    ];
    for (const query of queries) {
      const response = await listMine(token, query);
      expect(response.statusCode).toBe(422);
      expect(response.headers?.['content-type']).toBe('application/problem+json');
    }
    // The other person's cursor, used with this person's token, resumes this person's list, never theirs.
    const theirs = json(await listMine(`Bearer ${await tokenOf(OTHER_ID)}`, { limit: '1' }));
    expect(theirs.cursor).toEqual(expect.any(String));
    const resumed = json(await listMine(token, { cursor: theirs.cursor }));
    for (const item of resumed.items) expect(item.caseId).toMatch(/^330106:MINE-/);
  });
});
