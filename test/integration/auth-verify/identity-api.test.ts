import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { IdentityVerifiedDetail } from '../../../functions/auth-verify/domain/verification';
import { createIdentityApi, EVENT_SOURCE } from '../../../functions/auth-verify/identity-api';
import {
  DEMO_ENTERPRISES,
  DEMO_PERSONS,
  type SyntheticRegistry,
  seedSyntheticRegistry,
} from '../../../functions/auth-verify/registry-seed';
import { createRegistryStore } from '../../../functions/auth-verify/registry-store';
import { ClientRegistry } from '../../../shared/client-registry';
import { validatePublishEntry } from '../../../shared/events';
import { citizenIdCheckCharacter } from '../../../shared/identifiers';
import { NonceStore } from '../../../shared/nonce-store';
import { logger } from '../../../shared/observability';
import { lambdaContext, signedApiEvent } from '../../support/api-gateway';
import { localDynamo, scratchTables } from '../../support/dynamo';

const KEY = 'integration-test-id-hmac-key-0123456789';
const PATH = '/v1/identity/verifications';
const REGION_CLIENT = 'AKDEVREGION110000';
const dynamo = localDynamo();
const tables = scratchTables(dynamo.client);
const published: IdentityVerifiedDetail[] = [];
const output: string[] = [];
let registry: ClientRegistry;
let seeded: SyntheticRegistry;
let api: ReturnType<typeof createIdentityApi>;
let apiWithoutTable: ReturnType<typeof createIdentityApi>;
let apiWithoutBus: ReturnType<typeof createIdentityApi>;

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
  const [nonces, registryTable] = await Promise.all([tables.create('nonces'), tables.create('registry')]);
  seeded = await seedSyntheticRegistry({
    doc: dynamo.doc,
    table: registryTable,
    key: KEY,
    persons: 20,
    enterprises: 5,
    seed: 11,
  });
  const http = {
    clientRegistry: async () => registry,
    nonces: new NonceStore(dynamo.doc, nonces),
    // Never used: the route is not idempotent. Given so the stack needs no environment.
    idempotency: new DynamoDBPersistenceLayer({
      tableName: 'unused-idempotency',
      awsSdkV3Client: dynamo.client,
    }),
  };
  const deps = {
    idHmacKey: async () => Buffer.from(KEY),
    publish: async (detail: IdentityVerifiedDetail) => {
      published.push(detail);
    },
    http,
  };
  const store = createRegistryStore({ doc: dynamo.doc, table: registryTable });
  api = createIdentityApi({ ...deps, store: () => store });
  const noTable = createRegistryStore({ doc: dynamo.doc, table: 'no-such-registry-table' });
  apiWithoutTable = createIdentityApi({ ...deps, store: () => noTable });
  apiWithoutBus = createIdentityApi({
    ...deps,
    store: () => store,
    publish: async () => {
      throw new Error('EventBridge unavailable');
    },
  });
});

afterAll(async () => {
  vi.restoreAllMocks();
  await tables.dropAll();
});

const context = lambdaContext;

function signed(accessKeyId: string, body: string): APIGatewayProxyEvent {
  return signedApiEvent(registry, accessKeyId, { method: 'POST', path: PATH, body });
}

async function post(body: unknown, target = api, accessKeyId = REGION_CLIENT) {
  const response: APIGatewayProxyResult = await target(signed(accessKeyId, JSON.stringify(body)), context());
  return { status: response.statusCode, body: JSON.parse(response.body) };
}

const firstPerson = () => {
  const person = seeded.persons[0];
  if (!person) throw new Error('nobody seeded');
  return person;
};

describe('POST /v1/identity/verifications', () => {
  it('answers match with L2, and L3 when the caller reports a second factor', async () => {
    const { idNumber, name } = firstPerson();
    const l2 = await post({ subject: 'person', idNumber, name });
    expect(l2).toEqual({
      status: 200,
      body: { verificationId: expect.any(String), result: 'match', assuranceLevel: 'L2' },
    });
    const l3 = await post({ subject: 'person', idNumber, name, secondFactor: 'face' });
    expect(l3.body).toEqual({ verificationId: expect.any(String), result: 'match', assuranceLevel: 'L3' });
    expect(l3.body.verificationId).not.toBe(l2.body.verificationId);
  });

  it('answers mismatch and not_found with nothing else', async () => {
    const { idNumber } = firstPerson();
    const mismatch = await post({ subject: 'person', idNumber, name: '查无此人', secondFactor: 'e_id' });
    expect(mismatch).toEqual({
      status: 200,
      body: { verificationId: expect.any(String), result: 'mismatch' },
    });
    // A demo person is valid but not in this test's registry.
    const [demo] = DEMO_PERSONS;
    const notFound = await post({ subject: 'person', idNumber: demo?.idNumber, name: demo?.name });
    expect(notFound).toEqual({
      status: 200,
      body: { verificationId: expect.any(String), result: 'not_found' },
    });
  });

  it('verifies an enterprise by credit code and legal representative', async () => {
    const [company] = seeded.enterprises;
    const body = {
      subject: 'enterprise',
      creditCode: company?.creditCode,
      legalRepresentative: company?.legalRepresentative,
    };
    expect((await post(body)).body).toMatchObject({ result: 'match', assuranceLevel: 'L2' });
    expect((await post({ ...body, legalRepresentative: '别人' })).body).toMatchObject({ result: 'mismatch' });
    const other = DEMO_ENTERPRISES[0];
    expect((await post({ ...body, creditCode: other?.creditCode })).body).toMatchObject({
      result: 'not_found',
    });
  });

  it('refuses a wrong check character or a future birth date with 422 before any lookup', async () => {
    const { idNumber, name } = firstPerson();
    // The same valid request against a missing table fails: this api does look things up.
    expect((await post({ subject: 'person', idNumber, name }, apiWithoutTable)).status).toBe(500);

    const wrongCheck = `${idNumber.slice(0, 17)}${idNumber[17] === '0' ? '1' : '0'}`;
    const first17 = `110105${new Date().getFullYear() + 1}0101123`;
    const future = `${first17}${citizenIdCheckCharacter(first17)}`;
    const cases = [
      { subject: 'person', idNumber: wrongCheck, name },
      { subject: 'person', idNumber: future, name },
      { subject: 'enterprise', creditCode: '91330106MA2K111110', legalRepresentative: '王五' },
    ];
    for (const body of cases) {
      const response = await post(body, apiWithoutTable);
      expect(response.status).toBe(422);
      expect(response.body.type).toBe('urn:zwfw-hub:problem:validation-failed');
      const text = JSON.stringify(response.body);
      expect(text).not.toContain(name);
      expect(text).not.toContain(String(Object.values(body)[1]));
    }
  });

  it('refuses a client without the identity:verify scope', async () => {
    const { idNumber, name } = firstPerson();
    const response = await post({ subject: 'person', idNumber, name }, api, 'AKDEVISSUER330000');
    expect(response.status).toBe(403);
    expect(response.body.type).toBe('urn:zwfw-hub:problem:scope-missing');
  });

  it('fails rather than answer a verification whose event could not be recorded', async () => {
    const { idNumber, name } = firstPerson();
    const response = await post({ subject: 'person', idNumber, name }, apiWithoutBus);
    expect(response.status).toBe(500);
    expect(response.body.type).toBe('urn:zwfw-hub:problem:internal-error');
  });

  it('emits one valid IdentityVerified per answer, with the masked id only', () => {
    expect(published.length).toBeGreaterThanOrEqual(7);
    for (const detail of published) {
      expect(() =>
        validatePublishEntry({ detailType: 'IdentityVerified', detail }, EVENT_SOURCE),
      ).not.toThrow();
      expect(detail.clientId).toBe('region-110000');
    }
    const { idNumber } = firstPerson();
    const masked = `${idNumber.slice(0, 6)}********${idNumber.slice(14)}`;
    expect(published.filter((d) => d.maskedId === masked).map((d) => [d.result, d.assuranceLevel])).toEqual([
      ['match', 'L2'],
      ['match', 'L3'],
      ['mismatch', 'L1'],
    ]);
  });

  it('never writes a name or a number to a log line or an event', () => {
    const logs = output.join('');
    expect(logs).toContain('identity verified');
    const events = JSON.stringify(published);
    const people = [...seeded.persons.slice(0, 1), ...DEMO_PERSONS];
    for (const text of [logs, events]) {
      for (const p of people) {
        expect(text).not.toContain(p.idNumber);
        expect(text).not.toContain(p.name);
      }
      for (const e of [...seeded.enterprises.slice(0, 1), ...DEMO_ENTERPRISES]) {
        expect(text).not.toContain(e.creditCode);
        expect(text).not.toContain(e.legalRepresentative);
      }
      for (const name of ['查无此人', '别人', '王五']) expect(text).not.toContain(name);
    }
  });
});
