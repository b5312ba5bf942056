import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { S3EventNotificationEventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/s3';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createRemoteJWKSet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectOf } from '../../../functions/auth-verify/domain/subject';
import { accessTokenClaims, type TokenSigner } from '../../../functions/auth-verify/domain/tokens';
import { createLocalTokenSigner, ensureLocalSigningKey } from '../../../functions/auth-verify/signing-key';
import { recordCaseEvents } from '../../../functions/licence-retrieve/case-events';
import { createFileStore } from '../../../functions/licence-retrieve/file-store';
import { createIssuingApi } from '../../../functions/licence-retrieve/issuing-api';
import { createHolderApi } from '../../../functions/licence-retrieve/me-api';
import { createRetrievalApi } from '../../../functions/licence-retrieve/retrieval-api';
import { createLicenceStore } from '../../../functions/licence-retrieve/store';
import { recordUpload } from '../../../functions/licence-retrieve/upload-events';
import { listenOnLoopback } from '../../../infra/local/engines/ports';
import { type RunningS3, type S3Notification, startS3 } from '../../../infra/local/engines/s3';
import { toEventBridgeEvent } from '../../../infra/local/s3-notifications';
import { ClientRegistry } from '../../../shared/client-registry';
import { type PublishEntry, validatePublishEntry } from '../../../shared/events';
import { NonceStore } from '../../../shared/nonce-store';
import { hmacIdentifier } from '../../../shared/pii';
import { createBearerVerifier } from '../../../shared/user-token';
import { lambdaContext, signedApiEvent } from '../../support/api-gateway';
import { localAwsConfig } from '../../support/aws';
import { localDynamo, scratchTables } from '../../support/dynamo';
import {
  HOLDER_ID,
  issueRequest,
  licenceIdOf,
  OTHER_HOLDER_ID,
  TEST_HMAC_KEY,
} from '../../unit/licence-retrieve/fixtures';

/**
 * Licence retrieval against DynamoDB Local and s3rver: issuing with a presigned PUT, the upload's digest recorded
 * from the S3 event, holder-token and case authorisations, the audit, the user space, verification and revocation.
 */
const ISSUER_KEY = 'AKDEVISSUER330000';
const ZHEJIANG_KEY = 'AKDEVREGION330000';
const BEIJING_KEY = 'AKDEVREGION110000';
const APP_KEY = 'AKDEVAPPCITIZEN';
const ISSUER = 'https://hub.zwfw.test';
const BUCKET = 'licence-files';
const PDF = Buffer.from('%PDF-1.7\n% a licence file for the integration test\n%%EOF\n');

const dynamo = localDynamo();
const tables = scratchTables(dynamo.client);
const published: PublishEntry[] = [];
const landed: S3Notification[] = [];
let registry: ClientRegistry;
let s3Dir: string;
let keyDir: string;
let s3Engine: RunningS3;
let s3: S3Client;
let signer: TokenSigner;
let jwksServer: Server;
let store: ReturnType<typeof createLicenceStore>;
let issuing: ReturnType<typeof createIssuingApi>;
let retrieval: ReturnType<typeof createRetrievalApi>;
let holderApi: ReturnType<typeof createHolderApi>;
let files: ReturnType<typeof createFileStore>;

const key = Buffer.from(TEST_HMAC_KEY);
const subOf = (idNumber: string) => subjectOf(hmacIdentifier(key, 'citizen_id', idNumber), key);

beforeAll(async () => {
  registry = ClientRegistry.parse(
    await readFile(join(import.meta.dirname, '../../../infra/local/clients.dev.json'), 'utf8'),
  );
  s3Dir = await mkdtemp(join(tmpdir(), 'licence-s3-'));
  s3Engine = await startS3({ port: 0, directory: s3Dir });
  s3Engine.onNotification((notification) => void landed.push(notification));
  s3 = new S3Client({
    ...localAwsConfig(s3Engine.endpoint),
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  keyDir = await mkdtemp(join(tmpdir(), 'licence-keys-'));
  await ensureLocalSigningKey(join(keyDir, 'hub.jwk'));
  signer = createLocalTokenSigner(join(keyDir, 'hub.jwk'));
  const jwks = JSON.stringify(await signer.publicJwks());
  jwksServer = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
  });
  const port = await listenOnLoopback(jwksServer, 0);
  const [nonces, idempotency, licences] = await Promise.all([
    tables.create('nonces'),
    tables.create('idempotency', { keySchema: ['id'] }),
    tables.create('licences', { gsi1: true }),
  ]);
  const http = {
    clientRegistry: async () => registry,
    nonces: new NonceStore(dynamo.doc, nonces),
    idempotency: new DynamoDBPersistenceLayer({ tableName: idempotency, awsSdkV3Client: dynamo.client }),
  };
  store = createLicenceStore({ doc: dynamo.doc, table: licences });
  files = createFileStore({ s3, bucket: BUCKET, uploadSeconds: 900, downloadSeconds: 300 });
  const publish = async (entries: PublishEntry[]) => {
    for (const entry of entries) validatePublishEntry(entry, 'zwfw.licence-retrieve');
    published.push(...entries);
  };
  const verifyBearer = createBearerVerifier({
    keys: createRemoteJWKSet(new URL(`http://127.0.0.1:${port}/jwks`)),
    issuer: ISSUER,
  });
  const common = {
    store: () => store,
    files: () => files,
    idHmacKey: async () => key,
    publish,
    clock: () => new Date(),
    http,
  };
  issuing = createIssuingApi({ ...common, maxFileBytes: 1024 * 1024 });
  retrieval = createRetrievalApi({ ...common, verifyBearer: () => verifyBearer, cryptoProfile: 'national' });
  holderApi = createHolderApi({
    store: () => store,
    verifyBearer: () => verifyBearer,
    clock: () => new Date(),
    http,
  });
}, 60_000);

afterAll(async () => {
  await tables.dropAll();
  s3?.destroy();
  await s3Engine?.stop();
  await new Promise((resolve) => jwksServer?.close(resolve));
  await rm(s3Dir, { recursive: true, force: true });
  await rm(keyDir, { recursive: true, force: true });
});

const tokenFor = (idNumber: string, audience: string) =>
  signer.sign(
    accessTokenClaims({
      issuer: ISSUER,
      audience,
      person: { sub: subOf(idNumber), assuranceLevel: 'L2', authMethod: 'dev' },
      now: new Date(),
      ttlSeconds: 600,
    }),
  );

const json = (response: APIGatewayProxyResult) => JSON.parse(response.body);
const call = (
  handler: (typeof issuing)['issue'],
  accessKeyId: string,
  request: {
    method: string;
    path: string;
    resource: string;
    body?: unknown;
    query?: Record<string, string>;
    pathParameters?: Record<string, string>;
    headers?: Record<string, string>;
  },
) =>
  handler(
    signedApiEvent(registry, accessKeyId, {
      method: request.method,
      path: request.path,
      resource: request.resource,
      body: request.body === undefined ? null : JSON.stringify(request.body),
      query: request.query ?? null,
      pathParameters: request.pathParameters ?? null,
      headers: request.headers ?? {},
    }),
    lambdaContext(),
  ) as Promise<APIGatewayProxyResult>;

const issue = (body: unknown, headers: Record<string, string> = {}) =>
  call(issuing.issue, ISSUER_KEY, {
    method: 'POST',
    path: '/v1/licences',
    resource: '/v1/licences',
    body,
    headers,
  });
const getLicence = (
  accessKeyId: string,
  licenceId: string,
  query: Record<string, string>,
  headers: Record<string, string> = {},
) =>
  call(retrieval.get, accessKeyId, {
    method: 'GET',
    path: `/v1/licences/${licenceId}`,
    resource: '/v1/licences/{licenceId}',
    pathParameters: { licenceId },
    query,
    headers,
  });
const verifyDigest = (licenceId: string, body: unknown) =>
  call(retrieval.verification, ZHEJIANG_KEY, {
    method: 'POST',
    path: `/v1/licences/${licenceId}/verification`,
    resource: '/v1/licences/{licenceId}/verification',
    pathParameters: { licenceId },
    body,
  });

/** Records the latest landed object of this licence, as the uploads consumer would. */
async function uploadAndRecordLanded(licenceId: string) {
  const record = landed
    .flatMap((n) => n.Records)
    .filter((r) => r.s3.object.key === `licences/${licenceId}`)
    .at(-1);
  if (!record) throw new Error('s3rver announced no upload');
  const event = S3EventNotificationEventBridgeSchema.parse(toEventBridgeEvent(record));
  return recordUpload({ store, files, cryptoProfile: 'national', clock: () => new Date() }, event, {
    info: () => {},
    warn: () => {},
  });
}

/** Uploads through the presigned request with plain fetch, then lets the S3 event reach the digest recorder. */
async function uploadAndRecord(upload: { url: string; headers: Record<string, string> }, content: Buffer) {
  const before = landed.length;
  const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: content });
  expect(put.status).toBe(200);
  const record = landed.slice(before).flatMap((n) => n.Records)[0];
  if (!record) throw new Error('s3rver announced no upload');
  const event = S3EventNotificationEventBridgeSchema.parse(toEventBridgeEvent(record));
  return recordUpload({ store, files, cryptoProfile: 'national', clock: () => new Date() }, event, {
    info: () => {},
    warn: () => {},
  });
}

describe('issuing and the recorded file', () => {
  const licenceId = licenceIdOf('INT0001');
  let token: string;

  it('registers a licence, uploads through the presigned PUT and records SHA-256 and SM3 of the bytes', async () => {
    const response = await issue(
      issueRequest({ licenceId, file: { mediaType: 'application/pdf', size: PDF.length } }),
      { 'Idempotency-Key': 'issue-int-0001' },
    );
    expect(response.statusCode).toBe(201);
    const body = json(response);
    expect(body).toMatchObject({
      licenceId,
      status: 'valid',
      fileState: 'awaiting_upload',
      qrPayload: `ZWFWLIC:1:${licenceId}`,
    });
    expect(body.upload).toMatchObject({
      method: 'PUT',
      headers: { 'content-type': 'application/pdf', 'content-length': String(PDF.length) },
    });
    expect(await uploadAndRecord(body.upload, PDF)).toBe('recorded');
    const stored = await store.getLicence(licenceId);
    expect(stored?.file).toMatchObject({
      state: 'recorded',
      size: PDF.length,
      digests: {
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        sm3: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    });
    expect(JSON.stringify(stored)).not.toContain(HOLDER_ID);
    const issued = published.find((e) => e.detailType === 'LicenceIssued');
    expect(issued?.detail).toMatchObject({ licenceId, holder: { maskedId: '110105********002X' } });
    expect(JSON.stringify(published)).not.toContain(HOLDER_ID);
  });

  it('the presigned PUT signs type and size (S3 refuses others; s3rver checks no V4 signature, so the recorder does too)', async () => {
    const id = licenceIdOf('INT0002');
    const { upload } = json(
      await issue(issueRequest({ licenceId: id, file: { mediaType: 'application/pdf', size: 10 } })),
    );
    const query = new URL(upload.url).searchParams;
    expect(query.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host');
    expect(Number(query.get('X-Amz-Expires'))).toBe(900);
    // No checksum of an empty body baked into the URL: S3 would refuse every real upload.
    expect([...query.keys()].filter((name) => name.toLowerCase().startsWith('x-amz-checksum'))).toEqual([]);
    const put = await fetch(upload.url, {
      method: 'PUT',
      headers: { 'content-type': 'application/pdf' },
      body: Buffer.from('%PDF-1.7 eleven+'),
    });
    expect(put.status).toBe(200);
    expect(await uploadAndRecordLanded(id)).toBe('rejected');
    expect((await store.getLicence(id))?.file).toMatchObject({ state: 'rejected', reason: 'size_mismatch' });
  });

  it('a file that is not what was declared is recorded as rejected, and a retry of the request gives a new URL', async () => {
    const id = licenceIdOf('INT0003');
    const request = issueRequest({ licenceId: id, file: { mediaType: 'application/pdf', size: 8 } });
    const { upload } = json(await issue(request));
    expect(await uploadAndRecord(upload, Buffer.from('GIF89a!!'))).toBe('rejected');
    expect((await store.getLicence(id))?.file).toMatchObject({
      state: 'rejected',
      reason: 'media_type_mismatch',
    });
    const again = await issue(request);
    expect(again.statusCode).toBe(201);
    expect(await uploadAndRecord(json(again).upload, Buffer.from('%PDF-1.x'))).toBe('recorded');
  });

  it('refuses another authority (403), a reused identifier (409) and a malformed identifier (422)', async () => {
    const foreign = licenceIdOf('INT0004', '91350100M000100Y43');
    expect((await issue(issueRequest({ licenceId: foreign }))).statusCode).toBe(403);
    const taken = await issue(issueRequest({ licenceId, name: 'another name' }));
    expect([taken.statusCode, json(taken).type]).toEqual([409, 'urn:zwfw-hub:problem:licence-exists']);
    const malformed = await issue(issueRequest({ licenceId: `${licenceId.slice(0, -1)}0` }));
    expect(json(malformed)).toMatchObject({ status: 422, errors: [{ path: '/body/licenceId' }] });
  });

  it("the holder's token, sent by the platform it was issued to, retrieves the licence and a working download URL", async () => {
    token = await tokenFor(HOLDER_ID, 'region-330000');
    const response = await getLicence(
      ZHEJIANG_KEY,
      licenceId,
      { reason: '办理企业变更登记' },
      { Authorization: `Bearer ${token}` },
    );
    expect(response.statusCode).toBe(200);
    const view = json(response);
    expect(view).toMatchObject({
      licenceId,
      status: 'valid',
      holder: { maskedId: '110105********002X', holderCodeType: '111' },
    });
    expect(view.surface).toMatchObject({ 名称: '杭州某某科技有限公司' });
    const download = await fetch(view.download.url);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(PDF);
    expect(Date.parse(view.download.expiresAt) - Date.now()).toBeLessThanOrEqual(300_000);
    const uses = await store.listUses(subOf(HOLDER_ID), { limit: 10 });
    expect(uses.items.map((u) => u.operation).sort()).toEqual(['download_url', 'fetch']);
    expect(uses.items[0]).toMatchObject({
      clientId: 'region-330000',
      reason: '办理企业变更登记',
      authorisation: { kind: 'holder_token' },
    });
  });

  it("refuses without a reason, without an authorisation, and with another holder's token (403 each)", async () => {
    const slug = async (r: Promise<APIGatewayProxyResult>) =>
      json(await r).type.replace('urn:zwfw-hub:problem:', '');
    expect(await slug(getLicence(ZHEJIANG_KEY, licenceId, {}, { Authorization: `Bearer ${token}` }))).toBe(
      'use-reason-missing',
    );
    expect(await slug(getLicence(ZHEJIANG_KEY, licenceId, { reason: 'r' }))).toBe(
      'licence-authorisation-missing',
    );
    const stranger = await tokenFor(OTHER_HOLDER_ID, 'region-330000');
    expect(
      await slug(
        getLicence(ZHEJIANG_KEY, licenceId, { reason: 'r' }, { Authorization: `Bearer ${stranger}` }),
      ),
    ).toBe('licence-use-refused');
    // A token issued to another platform is not a token for this one: 401.
    expect(
      (await getLicence(BEIJING_KEY, licenceId, { reason: 'r' }, { Authorization: `Bearer ${token}` }))
        .statusCode,
    ).toBe(401);
  });

  it("a case of the calling platform in which the holder applied authorises; another platform's does not", async () => {
    const idHmac = hmacIdentifier(key, 'citizen_id', HOLDER_ID);
    await recordCaseEvents({ store, clock: () => new Date() }, [
      {
        messageId: 'm1',
        observation: {
          caseId: '330106:INT-CASE-1',
          regionCode: '330106',
          departmentCode: '11330000002593947X',
          applicantIdHmac: idHmac,
          status: 'accepted',
        },
      },
    ]);
    const ok = await getLicence(ZHEJIANG_KEY, licenceId, { reason: '审批', caseId: '330106:INT-CASE-1' });
    expect(ok.statusCode).toBe(200);
    const refused = await getLicence(BEIJING_KEY, licenceId, { reason: '审批', caseId: '330106:INT-CASE-1' });
    expect(json(refused)).toMatchObject({ status: 403, type: 'urn:zwfw-hub:problem:licence-use-refused' });
    const list = await call(retrieval.list, ZHEJIANG_KEY, {
      method: 'GET',
      path: '/v1/licences',
      resource: '/v1/licences',
      query: { holder: HOLDER_ID, reason: '审批', caseId: '330106:INT-CASE-1' },
    });
    expect(list.statusCode).toBe(200);
    expect(json(list).items.map((l: { licenceId: string }) => l.licenceId)).toContain(licenceId);
  });

  it("the holder's user space lists their licences and every use, newest first", async () => {
    const appToken = await tokenFor(HOLDER_ID, 'app-citizen');
    const me = (handler: (typeof holderApi)['ownUses'], path: string) =>
      call(handler, APP_KEY, {
        method: 'GET',
        path,
        resource: path,
        headers: { Authorization: `Bearer ${appToken}` },
      });
    const own = json(await me(holderApi.ownLicences, '/v1/me/licences'));
    expect(own.items.map((l: { licenceId: string }) => l.licenceId)).toContain(licenceId);
    const uses = json(await me(holderApi.ownUses, '/v1/me/licence-uses')).items as {
      operation: string;
      accessedAt: string;
      authorisation: { kind: string };
    }[];
    expect(uses.map((u) => u.authorisation.kind)).toEqual(expect.arrayContaining(['holder_token', 'case']));
    expect(uses.map((u) => u.accessedAt)).toEqual([...uses.map((u) => u.accessedAt)].sort().reverse());
    // One use per licence the case listing showed: the holder has three (INT0001–INT0003).
    expect(uses.filter((u) => u.operation === 'list')).toHaveLength(3);
  });

  it('verification: authentic, tampered; after revocation, revoked — and retrieval says so, without a download', async () => {
    const stored = await store.getLicence(licenceId);
    const sha256 = stored?.file.state === 'recorded' ? stored.file.digests.sha256 : '';
    expect(
      json(await verifyDigest(licenceId, { digest: { algorithm: 'sha256', value: sha256 } })).result,
    ).toBe('authentic');
    expect(json(await verifyDigest(licenceId, { content: PDF.toString('base64') })).result).toBe('authentic');
    expect(
      json(await verifyDigest(licenceId, { content: Buffer.from('%PDF-forged').toString('base64') })).result,
    ).toBe('tampered');
    expect(
      json(await verifyDigest(licenceIdOf('NOSUCH1'), { digest: { algorithm: 'sha256', value: sha256 } }))
        .result,
    ).toBe('unknown');
    const revoked = await call(issuing.revoke, ISSUER_KEY, {
      method: 'POST',
      path: `/v1/licences/${licenceId}/revocation`,
      resource: '/v1/licences/{licenceId}/revocation',
      pathParameters: { licenceId },
      body: { reason: '企业注销' },
    });
    expect(json(revoked)).toMatchObject({ licenceId, status: 'revoked' });
    expect(
      json(await verifyDigest(licenceId, { digest: { algorithm: 'sha256', value: sha256 } })).result,
    ).toBe('revoked');
    const view = json(
      await getLicence(ZHEJIANG_KEY, licenceId, { reason: 'r' }, { Authorization: `Bearer ${token}` }),
    );
    expect(view.status).toBe('revoked');
    expect(view).not.toHaveProperty('download');
    expect(published.find((e) => e.detailType === 'LicenceRevoked')?.detail).toMatchObject({
      licenceId,
      revokedBy: 'issuer-330000-amr',
    });
  });
});
