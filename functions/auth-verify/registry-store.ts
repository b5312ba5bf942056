import { BatchWriteCommand, type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  lookupOf,
  type PersonRecord,
  REGISTRY_STATUSES,
  type RegistryLookup,
  type RegistryRecord,
  type RegistryStatus,
} from './domain/registry-record';

/**
 * The only code that touches the identity registry table (REGISTRY_TABLE). Items hold HMACs, a masked id
 * and a status — never a clear ID number, credit code or name:
 *
 * Person:     pk `PERSON#{idHmac}`,         sk `PERSON`, entity `person`,     nameHmac, maskedId, status, loadedAt
 * Enterprise: pk `ORG#{creditCodeHmac}`,    sk `ORG`,    entity `enterprise`, legalRepresentativeNameHmac,
 *                                                                             maskedId, status, loadedAt
 */
export interface RegistryStoreOptions {
  doc: DynamoDBDocumentClient;
  table: string;
  /** Writes in flight at once (each a BatchWriteItem of up to 25 items). */
  concurrency?: number;
  /** Injected so tests neither wait nor depend on randomness. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  clock?: () => Date;
}

export interface PutReport {
  written: number;
  /** Records of the call that repeated an earlier record's key: the last one was kept. */
  duplicates: number;
}

export interface RegistryStore {
  /** Upserts records (the last of two with the same key wins). Throws if some stay unwritten after retries. */
  putRecords(records: readonly RegistryRecord[]): Promise<PutReport>;
  /** One (eventually consistent) GetItem; undefined when absent or not a record of that subject. */
  findRecord(lookup: RegistryLookup): Promise<RegistryRecord | undefined>;
  findPerson(idHmac: string): Promise<PersonRecord | undefined>;
}

/** BatchWriteItem takes at most 25 requests. */
export const BATCH_WRITE_MAX_ITEMS = 25;
const MAX_ATTEMPTS = 8;
const BASE_DELAY_MS = 50;
const MAX_DELAY_MS = 5_000;

/** Left unwritten after every retry; names counts only. */
export class RegistryWriteError extends Error {
  override readonly name = 'RegistryWriteError';
  constructor(readonly unwritten: number) {
    super(`${unwritten} registry items were still unprocessed after ${MAX_ATTEMPTS} attempts`);
  }
}

const PERSON_SK = 'PERSON';
const ORG_SK = 'ORG';

export function registryKey(lookup: RegistryLookup): { pk: string; sk: string } {
  return lookup.subject === 'person'
    ? { pk: `PERSON#${lookup.idHmac}`, sk: PERSON_SK }
    : { pk: `ORG#${lookup.creditCodeHmac}`, sk: ORG_SK };
}

function toItem(record: RegistryRecord, loadedAt: string): Record<string, unknown> {
  const common = {
    ...registryKey(lookupOf(record)),
    maskedId: record.maskedId,
    status: record.status,
    loadedAt,
  };
  return record.subject === 'person'
    ? { ...common, entity: 'person', nameHmac: record.nameHmac }
    : { ...common, entity: 'enterprise', legalRepresentativeNameHmac: record.legalRepresentativeNameHmac };
}

const isStatus = (value: unknown): value is RegistryStatus =>
  (REGISTRY_STATUSES as readonly unknown[]).includes(value);

function fromItem(item: Record<string, unknown>): RegistryRecord | undefined {
  const { pk, entity, maskedId, status } = item;
  if (typeof pk !== 'string' || typeof maskedId !== 'string' || !isStatus(status)) return undefined;
  if (entity === 'person' && typeof item.nameHmac === 'string') {
    return {
      subject: 'person',
      idHmac: pk.slice('PERSON#'.length),
      nameHmac: item.nameHmac,
      maskedId,
      status,
    };
  }
  if (entity === 'enterprise' && typeof item.legalRepresentativeNameHmac === 'string') {
    return {
      subject: 'enterprise',
      creditCodeHmac: pk.slice('ORG#'.length),
      legalRepresentativeNameHmac: item.legalRepresentativeNameHmac,
      maskedId,
      status,
    };
  }
  return undefined;
}

const chunk = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createRegistryStore(options: RegistryStoreOptions): RegistryStore {
  const { doc, table } = options;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const clock = options.clock ?? (() => new Date());

  // Full-jitter exponential backoff, as the AWS SDKs do for throttled batch items.
  const backoff = (attempt: number) =>
    Math.floor(random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt));

  async function writeBatch(items: Record<string, unknown>[]): Promise<void> {
    let requests = items.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt += 1) {
      if (attempt >= MAX_ATTEMPTS) throw new RegistryWriteError(requests.length);
      if (attempt > 0) await sleep(backoff(attempt));
      const result = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
      requests = (result.UnprocessedItems?.[table] ?? []) as typeof requests;
    }
  }

  // Eventually consistent: the registry changes by bulk loads, and a read costs half as much this way.
  async function findRecord(lookup: RegistryLookup): Promise<RegistryRecord | undefined> {
    const result = await doc.send(new GetCommand({ TableName: table, Key: registryKey(lookup) }));
    const record = result.Item ? fromItem(result.Item) : undefined;
    return record?.subject === lookup.subject ? record : undefined;
  }

  return {
    async putRecords(records) {
      const loadedAt = clock().toISOString();
      // BatchWriteItem refuses two requests for one key, and concurrent batches would race: keep the last.
      const byKey = new Map<string, Record<string, unknown>>();
      for (const record of records) {
        const item = toItem(record, loadedAt);
        byKey.delete(item.pk as string);
        byKey.set(item.pk as string, item);
      }
      const batches = chunk([...byKey.values()], BATCH_WRITE_MAX_ITEMS);
      for (const wave of chunk(batches, concurrency)) await Promise.all(wave.map(writeBatch));
      return { written: byKey.size, duplicates: records.length - byKey.size };
    },

    findRecord,

    async findPerson(idHmac) {
      const record = await findRecord({ subject: 'person', idHmac });
      return record?.subject === 'person' ? record : undefined;
    },
  };
}
