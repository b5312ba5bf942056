import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCatalogue } from '../../../functions/case-aggregate/catalogue-seed';
import { type CatalogueStore, createCatalogueStore } from '../../../functions/case-aggregate/catalogue-store';
import { createItemsApi } from '../../../functions/case-aggregate/items-api';
import { ClientRegistry } from '../../../shared/client-registry';
import {
  generateAuthorityCode,
  generateImplementationCode,
  seededRandom,
} from '../../../shared/identifiers/generate';
import { NonceStore } from '../../../shared/nonce-store';
import { lambdaContext, signedApiEvent } from '../../support/api-gateway';
import { localDynamo, scratchTables } from '../../support/dynamo';

/** The catalogue API on the real HTTP stack, signed like API Gateway would pass it, against DynamoDB Local. */
const dynamo = localDynamo();
const tables = scratchTables(dynamo.client);
const NOW = new Date('2026-11-21T10:00:00+08:00');
const MINISTRY_DEPARTMENT = '11100000000013338W';
/** The clients holding items:write in this test's registry, whatever the dev registry grants. */
const WRITERS = new Set(['region-330000', 'region-440000', 'ministry-mps', 'issuer-330000-amr']);

let registry: ClientRegistry;
let api: ReturnType<typeof createItemsApi>;
let store: CatalogueStore;

beforeAll(async () => {
  const dev = JSON.parse(
    await readFile(join(import.meta.dirname, '../../../infra/local/clients.dev.json'), 'utf8'),
  ) as { clients: { clientId: string; scopes: string[] }[] };
  for (const client of dev.clients) {
    client.scopes = client.scopes.filter((scope) => scope !== 'items:write');
    if (WRITERS.has(client.clientId)) client.scopes.push('items:write');
  }
  registry = ClientRegistry.parse(dev);
  const [nonces, idempotency, catalogue] = await Promise.all([
    tables.create('nonces'),
    tables.create('idempotency', { keySchema: ['id'] }),
    tables.create('catalogue'),
  ]);
  store = createCatalogueStore({ doc: dynamo.doc, table: catalogue });
  api = createItemsApi({
    store: () => store,
    clock: () => NOW,
    http: {
      clientRegistry: async () => registry,
      nonces: new NonceStore(dynamo.doc, nonces, () => NOW),
      idempotency: new DynamoDBPersistenceLayer({ tableName: idempotency, awsSdkV3Client: dynamo.client }),
      clock: () => NOW,
    },
  });
});

afterAll(async () => {
  await tables.dropAll();
});

const context = lambdaContext;

function signed(accessKeyId: string, method: string, code: string, body = ''): APIGatewayProxyEvent {
  return signedApiEvent(registry, accessKeyId, {
    method,
    path: `/v1/items/${encodeURIComponent(code)}`,
    resource: '/v1/items/{code}',
    body: body || null,
    pathParameters: { code },
    jsonContentType: Boolean(body),
    now: NOW,
  });
}

const put = (accessKeyId: string, code: string, body: unknown) =>
  api.putItem(signed(accessKeyId, 'PUT', code, JSON.stringify(body)), context());
const get = (accessKeyId: string, code: string) => api.getItem(signed(accessKeyId, 'GET', code), context());
const json = (response: APIGatewayProxyResult) => JSON.parse(response.body);

const random = seededRandom(4);
const ZJ_DEPARTMENT = generateAuthorityCode(random, '330100');
const ZJ_ITEM = generateImplementationCode(random, ZJ_DEPARTMENT);
const MPS_ITEM = generateImplementationCode(random, MINISTRY_DEPARTMENT);
const entry = (overrides: Record<string, unknown> = {}) => ({
  name: '食品经营许可',
  departmentCode: ZJ_DEPARTMENT,
  regionCode: '330100',
  promisedDays: 5,
  statutoryDays: 20,
  fullyOnlineCapable: true,
  ...overrides,
});

describe('item catalogue API', () => {
  it("creates an item for its province's platform, replaces it on a second PUT, and serves it to case readers", async () => {
    const created = await put('AKDEVREGION330000', ZJ_ITEM.toLowerCase(), entry());
    expect(created.statusCode).toBe(201);
    const view = {
      implementationCode: ZJ_ITEM,
      ...entry(),
      updatedAt: NOW.toISOString(),
      updatedBy: 'region-330000',
    };
    expect(json(created)).toEqual(view);

    const replaced = await put('AKDEVREGION330000', ZJ_ITEM, entry({ promisedDays: 3 }));
    expect(replaced.statusCode).toBe(200);
    expect(json(replaced).promisedDays).toBe(3);

    // Any client that reads cases reads the catalogue, whatever its province.
    const read = await get('AKDEVREGION440000', ZJ_ITEM);
    expect(read.statusCode).toBe(200);
    expect(json(read)).toEqual({ ...view, promisedDays: 3 });
  });

  it("refuses an item of another province, and another province's existing item, with 403", async () => {
    const foreign = await put('AKDEVREGION440000', ZJ_ITEM, entry({ regionCode: '440106' }));
    expect(foreign.statusCode).toBe(403);
    expect(json(foreign).type).toBe('urn:zwfw-hub:problem:item-owned-elsewhere');

    const outOfProvince = await put('AKDEVREGION440000', ZJ_ITEM, entry());
    expect(outOfProvince.statusCode).toBe(403);
    expect(json(outOfProvince).type).toBe('urn:zwfw-hub:problem:item-out-of-scope');
    expect(json(await get('AKDEVREGION330000', ZJ_ITEM)).regionCode).toBe('330100');
  });

  it("lets a ministry write its own department's items in any region, and only those", async () => {
    const own = await put(
      'AKDEVMINISTRYMPS',
      MPS_ITEM,
      entry({ departmentCode: MINISTRY_DEPARTMENT, regionCode: '110108' }),
    );
    expect(own.statusCode).toBe(201);
    const other = await put('AKDEVMINISTRYMPS', ZJ_ITEM, entry());
    expect(other.statusCode).toBe(403);
    expect(json(other).type).toBe('urn:zwfw-hub:problem:item-out-of-scope');
    // Nor may another province take the ministry's Beijing item over by moving it into its own province.
    const takeover = await put('AKDEVREGION440000', MPS_ITEM, entry({ regionCode: '440100' }));
    expect(takeover.statusCode).toBe(403);
    expect(json(takeover).type).toBe('urn:zwfw-hub:problem:item-owned-elsewhere');
  });

  it('refuses clients without the scope, and issuers even with it', async () => {
    const noScope = await put('AKDEVREGION110000', ZJ_ITEM, entry({ regionCode: '110000' }));
    expect(noScope.statusCode).toBe(403);
    expect(json(noScope).type).toBe('urn:zwfw-hub:problem:scope-missing');
    const issuer = await put('AKDEVISSUER330000', ZJ_ITEM, entry());
    expect(issuer.statusCode).toBe(403);
    expect(json(issuer).type).toBe('urn:zwfw-hub:problem:item-out-of-scope');
    const app = await get('AKDEVAPPCITIZEN', ZJ_ITEM);
    expect(app.statusCode).toBe(403);
  });

  it('answers 422 for a bad code or body, naming paths only, and 404 for an unknown item', async () => {
    const badCode = await put('AKDEVREGION330000', 'NOT-A-CODE', entry());
    expect(badCode.statusCode).toBe(422);
    expect(json(badCode).errors).toEqual([{ path: '/path/code', message: expect.any(String) }]);

    const badRegion = await put('AKDEVREGION330000', ZJ_ITEM, entry({ regionCode: '3301', name: '' }));
    expect(badRegion.statusCode).toBe(422);
    expect(
      json(badRegion)
        .errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(['/body/name', '/body/regionCode']);
    const badLimits = await put('AKDEVREGION330000', ZJ_ITEM, entry({ promisedDays: 30 }));
    expect(badLimits.statusCode).toBe(422);
    expect(json(badLimits).errors).toEqual([{ path: '/body/statutoryDays', message: expect.any(String) }]);

    const unknown = await get('AKDEVREGION330000', generateImplementationCode(random, ZJ_DEPARTMENT));
    expect(unknown.statusCode).toBe(404);
    expect(json(unknown).type).toBe('urn:zwfw-hub:problem:item-not-found');
  });

  it('loads a whole synthetic catalogue in batches, the later of two rows for one code winning', async () => {
    const catalogue = generateCatalogue({ seed: 11, itemsPerRegion: 2 });
    const first = catalogue[0];
    if (!first) throw new Error('empty catalogue');
    const stamp = { updatedAt: NOW.toISOString(), updatedBy: 'cli' };
    expect(await store.putItems([...catalogue, { ...first, name: '更正后的名称' }], stamp)).toBe(64);
    for (const item of [catalogue[1], catalogue[63]]) {
      expect(await store.getItem(item?.implementationCode ?? '')).toEqual({ ...item, ...stamp });
    }
    expect((await store.getItem(first.implementationCode))?.name).toBe('更正后的名称');
  });
});
