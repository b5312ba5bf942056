import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RevocationCache } from '../../../functions/auth-verify/domain/revocations';
import { ticketIdOf } from '../../../functions/auth-verify/domain/tickets';
import { createTokenVerifier, type TokenSigner } from '../../../functions/auth-verify/domain/tokens';
import { DEMO_PERSONS, seedDemoRegistry } from '../../../functions/auth-verify/registry-seed';
import { createRegistryStore } from '../../../functions/auth-verify/registry-store';
import { createLocalTokenSigner, ensureLocalSigningKey } from '../../../functions/auth-verify/signing-key';
import { createTokenStore } from '../../../functions/auth-verify/token-store';
import { createTokensApi, EVENT_SOURCE, type TokensApi } from '../../../functions/auth-verify/tokens-api';
import { ClientRegistry } from '../../../shared/client-registry';
import { type PublishEntry, validatePublishEntry } from '../../../shared/events';
import { NonceStore } from '../../../shared/nonce-store';
import { logger } from '../../../shared/observability';
import { apiGatewayEvent, lambdaContext, signedApiEvent } from '../../support/api-gateway';
import { localDynamo, scratchTables } from '../../support/dynamo';

const ID_KEY = 'integration-test-id-hmac-key-0123456789';
const ISSUER = 'https://hub.zwfw.local/test';
const APP = 'AKDEVAPPCITIZEN';
const REGION = 'AKDEVREGION110000';
const ISSUER_CLIENT = 'AKDEVISSUER330000';
const APP_REDIRECT = 'http://127.0.0.1:5173/callback';
const REGION_REDIRECT = 'https://region-110000.dev.zwfw.local/sso/callback';
const [ZHANG, LI] = DEMO_PERSONS as [{ idNumber: string; name: string }, { idNumber: string; name: string }];

const dynamo = localDynamo();
const tables = scratchTables(dynamo.client);
const published: PublishEntry[] = [];
const output: string[] = [];
let registry: ClientRegistry;
let signer: TokenSigner;
let keyDir: string;
let now = new Date('2026-11-21T02:00:00.000Z').getTime();
const clock = () => new Date(now);
let tokensTable: string;
let makeInstance: (options?: { devSignIn?: boolean }) => TokensApi;
let api: TokensApi;

beforeAll(async () => {
  // Every line the logger and metrics write (kept, not printed), to prove no name or number reaches them.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown) => {
      output.push(String(chunk));
      return true;
    }) as typeof stream.write);
  }
  logger.setLogLevel('DEBUG');
  registry = ClientRegistry.parse(
    await readFile(join(import.meta.dirname, '../../../infra/local/clients.dev.json'), 'utf8'),
  );
  keyDir = await mkdtemp(join(tmpdir(), 'tokens-api-'));
  const keyFile = join(keyDir, 'signing-key.json');
  await ensureLocalSigningKey(keyFile);
  signer = createLocalTokenSigner(keyFile);
  const [nonces, idempotency, tokens, registryTable] = await Promise.all([
    tables.create('nonces'),
    tables.create('idempotency', { keySchema: ['id'] }),
    tables.create('tokens', { gsi1: true }),
    tables.create('registry'),
  ]);
  tokensTable = tokens;
  await seedDemoRegistry({ doc: dynamo.doc, table: registryTable, key: ID_KEY });

  // Each call builds an independent instance (own clients, verifier and revocation set) over the same tables.
  makeInstance = ({ devSignIn = true } = {}) => {
    const doc = localDynamo().doc;
    const store = createTokenStore({ doc, tableName: tokens });
    const registryStore = createRegistryStore({ doc, table: registryTable });
    const verifier = createTokenVerifier({ issuer: ISSUER, jwks: () => signer.publicJwks(), clock });
    const revocations = new RevocationCache({
      feed: store,
      clock,
      refreshIntervalMs: 500,
      lookbackMs: 3_600_000,
    });
    return createTokensApi({
      tokens: () => store,
      registry: () => registryStore,
      signer: () => signer,
      verifier: () => verifier,
      revocations: () => revocations,
      findClient: async (clientId) => registry.findByClientId(clientId),
      idHmacKey: async () => Buffer.from(ID_KEY),
      publish: async (entries) => {
        for (const entry of entries) validatePublishEntry(entry, EVENT_SOURCE);
        published.push(...entries);
      },
      clock,
      settings: { issuer: ISSUER, accessTokenTtlSeconds: 3600, ticketTtlSeconds: 60, devSignIn },
      http: {
        clientRegistry: async () => registry,
        nonces: new NonceStore(doc, nonces, clock),
        idempotency: new DynamoDBPersistenceLayer({ tableName: idempotency, awsSdkV3Client: dynamo.client }),
        clock,
      },
    });
  };
  api = makeInstance();
});

afterAll(async () => {
  vi.restoreAllMocks();
  await tables.dropAll();
  await rm(keyDir, { recursive: true, force: true });
});

const context = lambdaContext;

const apiEvent = (method: string, path: string, body: string, headers: Record<string, string>) =>
  apiGatewayEvent(
    { method, path, body: body === '' ? null : body },
    { 'Content-Type': 'application/json', ...headers },
  );

function signedEvent(accessKeyId: string, method: string, path: string, body: unknown): APIGatewayProxyEvent {
  const text = body === undefined ? '' : JSON.stringify(body);
  return signedApiEvent(registry, accessKeyId, {
    method,
    path,
    body: text === '' ? null : text,
    now: clock(),
  });
}

type Route = keyof TokensApi;
const PATHS: Record<Route, string> = {
  devSignIn: '/v1/dev/sign-in',
  validateTicket: '/v1/tickets/validate',
  introspect: '/v1/tokens/introspect',
  revoke: '/v1/tokens/revoke',
  jwks: '/.well-known/jwks.json',
};
const call = (route: Route, accessKeyId: string, body: unknown, on: TokensApi = api) =>
  on[route](signedEvent(accessKeyId, 'POST', PATHS[route], body), context());
const json = (response: APIGatewayProxyResult) => JSON.parse(response.body);

async function signIn(
  person = ZHANG,
  { clientId = 'app-citizen', redirectUri = APP_REDIRECT }: { clientId?: string; redirectUri?: string } = {},
) {
  const response = await call('devSignIn', APP, { clientId, redirectUri, ...person });
  expect(response.statusCode).toBe(200);
  return json(response) as { ticket: string; redirect: string };
}

async function tokenFor(accessKeyId = APP, redirectUri = APP_REDIRECT, clientId = 'app-citizen') {
  const { ticket } = await signIn(ZHANG, { clientId, redirectUri });
  const response = await call('validateTicket', accessKeyId, { ticket, redirectUri });
  expect(response.statusCode).toBe(200);
  return json(response).accessToken as string;
}

describe('POST /v1/dev/sign-in', () => {
  it('signs a registry person in and redirects with a ticket; TicketIssued names only its hash', async () => {
    published.length = 0;
    const { ticket, redirect } = await signIn();
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(redirect).toBe(`${APP_REDIRECT}?ticket=${ticket}`);
    expect(published).toEqual([
      {
        detailType: 'TicketIssued',
        detail: {
          version: 1,
          correlationId: expect.any(String),
          ticketId: ticketIdOf(ticket),
          clientId: 'app-citizen',
          sub: expect.stringMatching(/^u_[A-Za-z0-9_-]{22}$/),
          assuranceLevel: 'L2',
          authMethod: 'dev',
          expiresAt: '2026-11-21T02:01:00.000Z',
        },
      },
    ]);
    expect(JSON.stringify(published)).not.toContain(ticket);
  });

  it('issues for any registered client and redirect, at L3 when a second factor is reported', async () => {
    const response = await call('devSignIn', APP, {
      clientId: 'region-110000',
      redirectUri: REGION_REDIRECT,
      ...LI,
      secondFactor: 'face',
    });
    expect(response.statusCode).toBe(200);
    const validated = await call('validateTicket', REGION, {
      ticket: json(response).ticket,
      redirectUri: REGION_REDIRECT,
    });
    expect(json(validated).identity).toMatchObject({ assuranceLevel: 'L3', maskedName: '李*' });
  });

  it.each([
    [
      'a redirect the client has not registered',
      { redirectUri: `${APP_REDIRECT}/evil` },
      422,
      'redirect-not-registered',
    ],
    ['an unknown client', { clientId: 'nobody' }, 422, 'redirect-not-registered'],
    ['a client without redirects', { clientId: 'issuer-330000-amr' }, 422, 'redirect-not-registered'],
    ['a person not in the registry', { idNumber: '440524188001010014' }, 422, 'sign-in-refused'],
    ['a registered number under another name', { name: '王五' }, 422, 'sign-in-refused'],
    ['a wrong check character', { idNumber: '110105194912310021' }, 422, 'validation-failed'],
    ['an unknown member', { extra: 1 }, 422, 'validation-failed'],
  ])('refuses %s', async (_, patch, status, slug) => {
    const response = await call('devSignIn', APP, {
      clientId: 'app-citizen',
      redirectUri: APP_REDIRECT,
      ...ZHANG,
      ...patch,
    });
    expect(response.statusCode).toBe(status);
    expect(json(response).type).toBe(`urn:zwfw-hub:problem:${slug}`);
    expect(response.body).not.toContain(ZHANG.idNumber);
  });

  it('needs the sso:dev-sign-in scope, and exists only on the dev stage', async () => {
    const body = { clientId: 'app-citizen', redirectUri: APP_REDIRECT, ...ZHANG };
    expect((await call('devSignIn', REGION, body)).statusCode).toBe(403);
    const production = makeInstance({ devSignIn: false });
    expect((await call('devSignIn', APP, body, production)).statusCode).toBe(404);
  });
});

describe('POST /v1/tickets/validate', () => {
  it('answers the masked identity and an ES256 access token for the calling client', async () => {
    const { ticket } = await signIn();
    const response = await call('validateTicket', APP, { ticket, redirectUri: APP_REDIRECT });
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['cache-control']).toBe('no-store');
    const body = json(response);
    expect(body).toEqual({
      identity: {
        sub: expect.stringMatching(/^u_/),
        maskedId: '110105********002X',
        maskedName: '张*',
        assuranceLevel: 'L2',
        authMethod: 'dev',
      },
      accessToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 3600,
    });
    const { payload, protectedHeader } = await jwtVerify(
      body.accessToken,
      createLocalJWKSet(await signer.publicJwks()),
      {
        currentDate: clock(),
      },
    );
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(payload).toMatchObject({
      iss: ISSUER,
      sub: body.identity.sub,
      aud: 'app-citizen',
      iat: now / 1000,
      nbf: now / 1000,
      exp: now / 1000 + 3600,
      assurance_level: 'L2',
      auth_method: 'dev',
    });
  });

  it('gives the same person the same sub on every platform', async () => {
    const first = await call('validateTicket', APP, {
      ticket: (await signIn()).ticket,
      redirectUri: APP_REDIRECT,
    });
    const { ticket } = await signIn(ZHANG, { clientId: 'region-110000', redirectUri: REGION_REDIRECT });
    const second = await call('validateTicket', REGION, { ticket, redirectUri: REGION_REDIRECT });
    expect(json(second).identity.sub).toBe(json(first).identity.sub);
  });

  it('is single use: of 10 concurrent validations exactly one succeeds, the rest are 410', async () => {
    const { ticket } = await signIn();
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => call('validateTicket', APP, { ticket, redirectUri: APP_REDIRECT })),
    );
    expect(responses.filter((r) => r.statusCode === 200)).toHaveLength(1);
    const refused = responses.filter((r) => r.statusCode === 410);
    expect(refused).toHaveLength(9);
    expect(json(refused[0] as APIGatewayProxyResult).type).toBe('urn:zwfw-hub:problem:ticket-invalid');
  });

  it('gives one uniform answer for a used, expired, unknown, misdirected or foreign ticket', async () => {
    const refusals: APIGatewayProxyResult[] = [];
    const used = (await signIn()).ticket;
    await call('validateTicket', APP, { ticket: used, redirectUri: APP_REDIRECT });
    refusals.push(await call('validateTicket', APP, { ticket: used, redirectUri: APP_REDIRECT }));

    const expiring = (await signIn()).ticket;
    now += 60_000;
    refusals.push(await call('validateTicket', APP, { ticket: expiring, redirectUri: APP_REDIRECT }));

    refusals.push(await call('validateTicket', APP, { ticket: 'A'.repeat(43), redirectUri: APP_REDIRECT }));

    const misdirected = (await signIn()).ticket;
    refusals.push(
      await call('validateTicket', APP, { ticket: misdirected, redirectUri: `${APP_REDIRECT}/x` }),
    );
    // A leaked ticket is spent by the failed attempt: the right redirect cannot use it afterwards either.
    refusals.push(await call('validateTicket', APP, { ticket: misdirected, redirectUri: APP_REDIRECT }));

    const foreign = (await signIn()).ticket;
    refusals.push(await call('validateTicket', REGION, { ticket: foreign, redirectUri: APP_REDIRECT }));
    refusals.push(await call('validateTicket', APP, { ticket: foreign, redirectUri: APP_REDIRECT }));

    const bodies = refusals.map((r) => ({ status: r.statusCode, ...json(r), instance: undefined }));
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(bodies[0]).toMatchObject({ status: 410, type: 'urn:zwfw-hub:problem:ticket-invalid' });
  });

  it('never stores or replays an issued token under an Idempotency-Key', async () => {
    const { ticket } = await signIn();
    const withKey = (): APIGatewayProxyEvent => {
      const event = signedEvent(APP, 'POST', PATHS.validateTicket, { ticket, redirectUri: APP_REDIRECT });
      return { ...event, headers: { ...event.headers, 'Idempotency-Key': 'validate-once-1' } };
    };
    expect((await api.validateTicket(withKey(), context())).statusCode).toBe(200);
    const retry = await api.validateTicket(withKey(), context());
    expect(retry.statusCode).toBe(410);
    expect(retry.headers?.['idempotent-replayed']).toBeUndefined();
  });

  it('needs sso:validate and a well-formed ticket', async () => {
    expect(
      (await call('validateTicket', ISSUER_CLIENT, { ticket: 'A'.repeat(43), redirectUri: APP_REDIRECT }))
        .statusCode,
    ).toBe(403);
    const malformed = await call('validateTicket', APP, { ticket: 'short', redirectUri: APP_REDIRECT });
    expect(malformed.statusCode).toBe(422);
    expect(json(malformed).errors).toEqual([{ path: '/body/ticket', message: expect.any(String) }]);
  });
});

describe('POST /v1/tokens/introspect', () => {
  it('answers RFC 7662 members for an active token, to any client holding the scope', async () => {
    const token = await tokenFor();
    const response = await call('introspect', REGION, { token, token_type_hint: 'access_token' });
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['cache-control']).toBe('no-store');
    expect(json(response)).toEqual({
      active: true,
      iss: ISSUER,
      sub: expect.stringMatching(/^u_/),
      aud: 'app-citizen',
      client_id: 'app-citizen',
      exp: now / 1000 + 3600,
      iat: now / 1000,
      nbf: now / 1000,
      jti: expect.any(String),
      token_type: 'Bearer',
      assurance_level: 'L2',
      auth_method: 'dev',
    });
  });

  it('answers { active: false } with 200 for every bad token, and after expiry', async () => {
    const token = await tokenFor();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const tampered = `${header}.${payload.slice(0, -2)}${payload.endsWith('A') ? 'B' : 'A'}${payload.slice(-1)}.${signature}`;
    const none = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${payload}.`;
    for (const bad of [tampered, none, 'garbage', '', `${token}x`]) {
      const response = await call('introspect', APP, { token: bad });
      expect(response.statusCode).toBe(200);
      expect(json(response)).toEqual({ active: false });
    }
    now += 3600_000;
    expect(json(await call('introspect', APP, { token }))).toEqual({ active: false });
  });

  it('needs a token member, the scope and a signature', async () => {
    expect((await call('introspect', APP, {})).statusCode).toBe(422);
    expect((await call('introspect', ISSUER_CLIENT, { token: 'x' })).statusCode).toBe(403);
    const unsigned = apiEvent('POST', PATHS.introspect, '{"token":"x"}', {});
    expect((await api.introspect(unsigned, context())).statusCode).toBe(401);
  });
});

describe('POST /v1/tokens/revoke', () => {
  it('revokes for its audience, announces TokenRevoked, and another instance sees it within one interval', async () => {
    const other = makeInstance();
    const token = await tokenFor();
    expect(json(await call('introspect', APP, { token }, other)).active).toBe(true);
    published.length = 0;

    const response = await call('revoke', APP, { token, token_type_hint: 'access_token' });
    expect(response.statusCode).toBe(200);
    const claims = (
      await jwtVerify(token, createLocalJWKSet(await signer.publicJwks()), { currentDate: clock() })
    ).payload;
    expect(published).toEqual([
      {
        detailType: 'TokenRevoked',
        detail: {
          version: 1,
          correlationId: expect.any(String),
          jti: claims.jti,
          sub: claims.sub,
          clientId: 'app-citizen',
          revokedBy: 'app-citizen',
          expiresAt: new Date((claims.exp as number) * 1000).toISOString(),
        },
      },
    ]);
    expect(json(await call('introspect', APP, { token }))).toEqual({ active: false });
    now += 500;
    expect(json(await call('introspect', APP, { token }, other))).toEqual({ active: false });
    expect(json(await call('introspect', APP, { token }, makeInstance()))).toEqual({ active: false });
  });

  it('is 200 again for a token already revoked, expired or invalid (RFC 7009)', async () => {
    const token = await tokenFor();
    expect((await call('revoke', APP, { token })).statusCode).toBe(200);
    expect((await call('revoke', APP, { token })).statusCode).toBe(200);
    const expiring = await tokenFor();
    published.length = 0;
    expect((await call('revoke', APP, { token: 'garbage' })).statusCode).toBe(200);
    now += 3600_000;
    expect((await call('revoke', APP, { token: expiring })).statusCode).toBe(200);
    expect(published).toEqual([]);
  });

  it("refuses another client's token with 403 and leaves it active", async () => {
    const token = await tokenFor();
    const response = await call('revoke', REGION, { token });
    expect(response.statusCode).toBe(403);
    expect(json(response).type).toBe('urn:zwfw-hub:problem:token-not-yours');
    now += 500;
    expect(json(await call('introspect', APP, { token })).active).toBe(true);
  });
});

describe('GET /.well-known/jwks.json', () => {
  it('is public, cacheable for 5 minutes, and verifies the tokens the hub issues', async () => {
    const response = await api.jwks(apiEvent('GET', PATHS.jwks, '', {}), context());
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['cache-control']).toBe('public, max-age=300');
    const jwks = json(response);
    expect(jwks.keys).toEqual([
      {
        kty: 'EC',
        crv: 'P-256',
        x: expect.any(String),
        y: expect.any(String),
        kid: expect.any(String),
        alg: 'ES256',
        use: 'sig',
      },
    ]);
    const token = await tokenFor();
    const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), { currentDate: clock() });
    expect(protectedHeader.kid).toBe(jwks.keys[0].kid);
  });

  it('ignores signature headers entirely, even invalid ones', async () => {
    const headers = {
      'X-Hub-Key': 'AKUNKNOWN',
      'X-Hub-Timestamp': '0',
      'X-Hub-Nonce': 'x',
      'X-Hub-Signature': 'bad',
    };
    const response = await api.jwks(apiEvent('GET', PATHS.jwks, '', headers), context());
    expect(response.statusCode).toBe(200);
  });
});

describe('personal data', () => {
  it('never reaches logs, events, responses or the tokens table in clear', async () => {
    const { ticket } = await signIn(LI);
    await call('validateTicket', APP, { ticket, redirectUri: APP_REDIRECT });
    const { Items = [] } = await dynamo.doc.send(
      new (await import('@aws-sdk/lib-dynamodb')).ScanCommand({ TableName: tokensTable }),
    );
    const everything = [...output, JSON.stringify(published), JSON.stringify(Items)].join('\n');
    for (const person of [ZHANG, LI]) {
      expect(everything).not.toContain(person.idNumber);
      expect(everything).not.toContain(person.name);
    }
    expect(everything).not.toContain(ticket);
    expect(output.some((line) => line.includes('ticket validated'))).toBe(true);
  });
});
