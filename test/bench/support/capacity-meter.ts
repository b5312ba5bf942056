import {
  type AttributeValue,
  BatchGetItemCommand,
  type ConsumedCapacity,
  DescribeTableCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_REGION } from '../../../infra/local/model';
import { itemSize, KB, transactionalWriteUnits } from './pricing';

/**
 * Capacity each call of a store consumes, measured in the bench's own process: a DynamoDB client whose middleware
 * (on this client only — production code is unchanged) asks every read and write for ReturnConsumedCapacity
 * 'INDEXES' and adds DynamoDB Local's answer to the table it names; every committed TransactWriteItems is priced from
 * its items' sizes before and after (DynamoDB Local undercounts transactions: pricing.ts) with its index entries.
 * Tallies are kept per LOGICAL table (nonces, registry, cases…), the names the capacity model uses.
 */

export type CapacityTally = Map<string, { wcu: number; rcu: number }>;

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);
const READS = new Set(['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand']);

interface IndexShape {
  keys: string[];
  projection: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
}

type Marshalled = Record<string, AttributeValue>;
type TransactItem = Record<
  string,
  { TableName?: string; Key?: Record<string, unknown>; Item?: Record<string, unknown> }
>;

export interface CapacityMeter {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  /** Runs `work` and answers what it consumed per logical table (and the transactions it priced). */
  measure(work: () => Promise<unknown>): Promise<{ tally: CapacityTally; transactions: number }>;
  destroy(): void;
}

export function createCapacityMeter(endpoint: string, logicalNames: Record<string, string>): CapacityMeter {
  const config = {
    endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const client = new DynamoDBClient(config);
  // Reads items around transactions for pricing, outside the tally.
  const raw = new DynamoDBClient(config);
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  let tally: CapacityTally = new Map();
  let transactions = 0;
  const indexes = new Map<string, Promise<IndexShape[]>>();

  const logical = (table: string | undefined) => {
    const name = table === undefined ? undefined : logicalNames[table];
    if (!name) throw new Error(`capacity meter: table ${table} has no logical name`);
    return name;
  };
  const add = (table: string | undefined, units: { wcu?: number; rcu?: number }) => {
    const entry = tally.get(logical(table)) ?? { wcu: 0, rcu: 0 };
    entry.wcu += units.wcu ?? 0;
    entry.rcu += units.rcu ?? 0;
    tally.set(logical(table), entry);
  };
  const indexesOf = (table: string) => {
    let shape = indexes.get(table);
    if (!shape) {
      shape = raw.send(new DescribeTableCommand({ TableName: table })).then(({ Table }) =>
        (Table?.GlobalSecondaryIndexes ?? []).map((index) => ({
          keys: (index.KeySchema ?? []).map((k) => k.AttributeName as string),
          projection: (index.Projection?.ProjectionType ?? 'ALL') as IndexShape['projection'],
        })),
      );
      indexes.set(table, shape);
    }
    return shape;
  };

  /** Items as stored now, by `table|pk|sk`. */
  async function snapshot(keys: { table: string; key: Marshalled }[]): Promise<Map<string, Marshalled>> {
    const byTable = new Map<string, Marshalled[]>();
    for (const { table, key } of keys) byTable.set(table, [...(byTable.get(table) ?? []), key]);
    const found = new Map<string, Marshalled>();
    if (byTable.size === 0) return found;
    const reply = await raw.send(
      new BatchGetItemCommand({
        RequestItems: Object.fromEntries(
          [...byTable].map(([t, Keys]) => [t, { Keys, ConsistentRead: true }]),
        ),
      }),
    );
    if (Object.keys(reply.UnprocessedKeys ?? {}).length > 0)
      throw new Error('pricing read left keys unprocessed');
    for (const [table, items] of Object.entries(reply.Responses ?? {}))
      for (const item of items) found.set(idOf(table, item), item);
    return found;
  }

  const idOf = (table: string, item: Marshalled) => `${table}|${item.pk?.S}|${item.sk?.S}`;
  const indexKey = (item: Marshalled | undefined, index: IndexShape) =>
    item && index.keys.every((k) => item[k] !== undefined)
      ? index.keys.map((k) => JSON.stringify(item[k])).join('|')
      : undefined;

  /** Keys of the items a transaction touches, marshalled, whatever the caller's input form. */
  function keysOf(input: { TransactItems?: TransactItem[] }): { table: string; key: Marshalled }[] {
    return (input.TransactItems ?? []).flatMap((entry) =>
      Object.values(entry).map((action) => {
        const source = (action.Item ?? action.Key ?? {}) as Record<string, unknown>;
        const isMarshalled =
          typeof source.pk === 'object' && source.pk !== null && 'S' in (source.pk as object);
        const key = isMarshalled
          ? ({ pk: source.pk, sk: source.sk } as Marshalled)
          : // Every table of the hub keys its items by string pk and sk.
            { pk: { S: String(source.pk) }, sk: { S: String(source.sk) } };
        return { table: String(action.TableName), key };
      }),
    );
  }

  /** The service's price of a committed transaction: 2 WCU per started KB per item, plus its index entries. */
  async function priceTransaction(
    keys: { table: string; key: Marshalled }[],
    before: Map<string, Marshalled>,
  ): Promise<void> {
    const after = await snapshot(keys);
    for (const { table, key } of keys) {
      const id = idOf(table, key);
      const old = before.get(id);
      const now = after.get(id);
      const sizes = { before: old ? itemSize(old) : 0, after: now ? itemSize(now) : 0 };
      add(table, { wcu: transactionalWriteUnits(sizes.before, sizes.after) });
      const changed = JSON.stringify(old) !== JSON.stringify(now);
      for (const index of await indexesOf(table)) {
        const oldKey = indexKey(old, index);
        const newKey = indexKey(now, index);
        const entrySize = index.projection === 'KEYS_ONLY' ? 0 : sizes.after;
        const entryUnits = Math.max(1, Math.ceil(entrySize / KB));
        if (oldKey !== newKey) {
          if (oldKey !== undefined) add(table, { wcu: 1 });
          if (newKey !== undefined) add(table, { wcu: entryUnits });
        } else if (newKey !== undefined && changed && index.projection !== 'KEYS_ONLY') {
          add(table, { wcu: entryUnits });
        }
      }
    }
  }

  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = (context as { commandName?: string }).commandName ?? '';
      const input = args.input as Record<string, unknown>;
      if (command === 'TransactWriteItemsCommand') {
        const keys = keysOf(input as { TransactItems?: TransactItem[] });
        const before = await snapshot(keys);
        const result = await next(args);
        transactions += 1;
        await priceTransaction(keys, before);
        return result;
      }
      const isWrite = WRITES.has(command);
      if (!isWrite && !READS.has(command)) return next(args);
      input.ReturnConsumedCapacity = 'INDEXES';
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] })
        .ConsumedCapacity;
      for (const entry of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        add(entry.TableName, isWrite ? { wcu: entry.CapacityUnits ?? 0 } : { rcu: entry.CapacityUnits ?? 0 });
      }
      return result;
    },
    { step: 'initialize', name: 'benchCapacityMeter' },
  );

  return {
    client,
    doc,
    async measure(work) {
      tally = new Map();
      transactions = 0;
      await work();
      return { tally, transactions };
    },
    destroy() {
      client.destroy();
      raw.destroy();
    },
  };
}
