import { BatchWriteCommand, type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toRegistryRecord } from '../../../functions/auth-verify/domain/registry-record';
import {
  pseudonymiseClaim,
  verificationRequestSchema,
  verify,
} from '../../../functions/auth-verify/domain/verification';
import {
  DEMO_PERSONS,
  seedDemoRegistry,
  seedSyntheticRegistry,
} from '../../../functions/auth-verify/registry-seed';
import { createRegistryStore, RegistryWriteError } from '../../../functions/auth-verify/registry-store';
import { localDynamo, scratchTables } from '../../support/dynamo';

const KEY = 'integration-test-id-hmac-key-0123456789';
const dynamo = localDynamo();
const tables = scratchTables(dynamo.client);
let table: string;

beforeAll(async () => {
  table = await tables.create('registry');
});
afterAll(() => tables.dropAll());

async function scanAll(name: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.doc.send(new ScanCommand({ TableName: name, ExclusiveStartKey }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

/**
 * The real engine behind a doc client that leaves part of each BatchWriteItem unprocessed, as DynamoDB does
 * under throttling: DynamoDB Local never does so by itself.
 */
function throttlingDoc(leaveUnprocessed: (attempt: number, count: number) => number) {
  let attempt = 0;
  const calls: number[] = [];
  const doc = {
    send: async (command: unknown) => {
      if (!(command instanceof BatchWriteCommand)) return dynamo.doc.send(command as never);
      const [entry] = Object.entries(command.input.RequestItems ?? {});
      if (!entry) throw new Error('a BatchWriteItem without requests');
      const [name, requests] = entry;
      calls.push(requests.length);
      const kept = requests.length - Math.min(requests.length, leaveUnprocessed(attempt++, requests.length));
      if (kept > 0) {
        await dynamo.doc.send(
          new BatchWriteCommand({ RequestItems: { [name]: requests.slice(0, kept) as never } }),
        );
      }
      const rest = requests.slice(kept);
      return { UnprocessedItems: rest.length > 0 ? { [name]: rest } : {} };
    },
  } as unknown as DynamoDBDocumentClient;
  return { doc, calls };
}

const claim = (body: unknown) => pseudonymiseClaim(verificationRequestSchema.parse(body), KEY);

describe('identity registry store', () => {
  it('loads identities, then verifies match, mismatch and not_found with one lookup each', async () => {
    const registry = await seedSyntheticRegistry({
      doc: dynamo.doc,
      table,
      key: KEY,
      persons: 60,
      enterprises: 10,
      seed: 3,
    });
    const store = createRegistryStore({ doc: dynamo.doc, table });
    const [someone] = registry.persons;
    const [company] = registry.enterprises;
    if (!someone || !company) throw new Error('seed produced nobody');

    const check = async (body: Record<string, unknown>) => {
      const c = claim(body);
      return verify(await store.findRecord(c.lookup), c);
    };
    expect(await check({ subject: 'person', idNumber: someone.idNumber, name: someone.name })).toEqual({
      result: 'match',
      assuranceLevel: 'L2',
    });
    expect(await check({ subject: 'person', idNumber: someone.idNumber, name: `${someone.name}某` })).toEqual(
      {
        result: 'mismatch',
        assuranceLevel: 'L1',
      },
    );
    expect(await check({ subject: 'person', idNumber: '330106198506123419', name: '李四' })).toMatchObject({
      result: 'not_found',
    });
    expect(
      await check({
        subject: 'enterprise',
        creditCode: company.creditCode,
        legalRepresentative: company.legalRepresentative,
      }),
    ).toMatchObject({ result: 'match' });
  });

  it('stores no clear ID number, credit code or name in any item', async () => {
    const registry = await seedSyntheticRegistry({
      doc: dynamo.doc,
      table,
      key: KEY,
      persons: 200,
      enterprises: 40,
      seed: 4,
    });
    await seedDemoRegistry({ doc: dynamo.doc, table, key: KEY });
    const items = await scanAll(table);
    expect(items.length).toBeGreaterThanOrEqual(240);
    const text = JSON.stringify(items);
    const persons = [...registry.persons, ...DEMO_PERSONS];
    for (const p of persons) {
      expect(text).not.toContain(p.idNumber);
      // What masking hides: the birth date and sequence in the middle of the number.
      expect(text).not.toContain(p.idNumber.slice(6, 14));
      expect(text).not.toContain(p.name);
    }
    for (const e of registry.enterprises) {
      expect(text).not.toContain(e.creditCode);
      expect(text).not.toContain(e.creditCode.slice(6, 14));
      expect(text).not.toContain(e.legalRepresentative);
    }
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(
        item.entity === 'person'
          ? ['entity', 'loadedAt', 'maskedId', 'nameHmac', 'pk', 'sk', 'status']
          : ['entity', 'legalRepresentativeNameHmac', 'loadedAt', 'maskedId', 'pk', 'sk', 'status'],
      );
    }
  });

  it('writes in batches of 25, keeping the last of two records with the same number', async () => {
    const own = await tables.create('registry-batches');
    const { doc, calls } = throttlingDoc(() => 0);
    const store = createRegistryStore({ doc, table: own });
    const first = toRegistryRecord(
      { subject: 'person', idNumber: DEMO_PERSONS[0]?.idNumber ?? '', name: '旧名' },
      KEY,
    );
    const others = Array.from({ length: 59 }, (_, i) =>
      toRegistryRecord({ subject: 'person', idNumber: `OTHER-${i}`, name: '某' }, KEY),
    );
    const last = toRegistryRecord(
      { subject: 'person', idNumber: DEMO_PERSONS[0]?.idNumber ?? '', name: '张三' },
      KEY,
    );
    const report = await store.putRecords([first, ...others, last]);
    expect(report).toEqual({ written: 60, duplicates: 1 });
    expect(calls).toEqual([25, 25, 10]);
    expect((await scanAll(own)).length).toBe(60);
    const c = claim({ subject: 'person', idNumber: DEMO_PERSONS[0]?.idNumber, name: '张三' });
    expect(verify(await store.findRecord(c.lookup), c).result).toBe('match');
  });

  it('retries unprocessed items with backoff until every item is written', async () => {
    const own = await tables.create('registry-retries');
    const waits: number[] = [];
    // Each call leaves 10 of its items unprocessed, twice; then the engine takes everything.
    const { doc, calls } = throttlingDoc((attempt, count) => (attempt < 2 ? Math.min(10, count) : 0));
    const store = createRegistryStore({
      doc,
      table: own,
      concurrency: 1,
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 0.999,
    });
    const records = Array.from({ length: 25 }, (_, i) =>
      toRegistryRecord({ subject: 'enterprise', creditCode: `X${i}`, legalRepresentative: '王五' }, KEY),
    );
    expect(await store.putRecords(records)).toEqual({ written: 25, duplicates: 0 });
    expect(calls).toEqual([25, 10, 10]);
    expect(waits).toEqual([99, 199]);
    expect((await scanAll(own)).length).toBe(25);
  });

  it('gives up with a count-only error when items stay unprocessed', async () => {
    const own = await tables.create('registry-giveup');
    const { doc } = throttlingDoc(() => 3);
    const store = createRegistryStore({ doc, table: own, sleep: async () => {}, random: () => 0 });
    const records = Array.from({ length: 5 }, (_, i) =>
      toRegistryRecord({ subject: 'person', idNumber: `I${i}`, name: '张三' }, KEY),
    );
    const error = await store.putRecords(records).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryWriteError);
    expect((error as RegistryWriteError).unwritten).toBe(3);
    expect((error as Error).message).not.toMatch(/张三/);
  });
});
