import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { provinceOf } from '../../shared/regions';
import { type CatalogueItem, catalogueFieldsOf, type ItemOwner } from './domain/catalogue';

/**
 * The only code that touches the item catalogue table.
 *
 * Item: pk `ITEM#{implementationCode}`, sk `ITEM`, the CatalogueItem attributes, `province` (the item's
 * provincial-level region, which the ownership condition reads), `updatedAt`, `updatedBy` (client id or
 * `cli`), `entity = item`.
 */
export interface CatalogueTable {
  doc: DynamoDBDocumentClient;
  table: string;
  /** Waits between writes of items DynamoDB left unprocessed; injected so tests do not sleep. */
  sleep?: (ms: number) => Promise<void>;
}

export interface StoredCatalogueItem extends CatalogueItem {
  updatedAt: string;
  updatedBy: string;
}

export type PutItemResult =
  | { outcome: 'created' | 'replaced'; item: StoredCatalogueItem }
  /** The item exists and belongs to another province or department: nothing was written. */
  | { outcome: 'not_owner' };

export interface WriteStamp {
  updatedAt: string;
  updatedBy: string;
}

export interface CatalogueStore {
  getItem(implementationCode: string): Promise<StoredCatalogueItem | undefined>;
  /** Creates or replaces one item, refusing to replace an item `owner` does not own. */
  putItem(item: CatalogueItem, stamp: WriteStamp, owner: ItemOwner): Promise<PutItemResult>;
  /** Operator loads: creates or replaces many items, whoever owned them. Resolves to the number written. */
  putItems(items: readonly CatalogueItem[], stamp: WriteStamp): Promise<number>;
}

const ITEM_SK = 'ITEM';
const BATCH_WRITE_MAX_ITEMS = 25;
const MAX_UNPROCESSED_ROUNDS = 8;

export const itemKey = (implementationCode: string) => ({ pk: `ITEM#${implementationCode}`, sk: ITEM_SK });

function toItem(item: CatalogueItem, stamp: WriteStamp): Record<string, unknown> {
  return {
    ...itemKey(item.implementationCode),
    entity: 'item',
    province: provinceOf(item.regionCode),
    ...catalogueFieldsOf(item),
    ...stamp,
  };
}

function fromItem(item: Record<string, unknown>): StoredCatalogueItem {
  const { pk: _pk, sk: _sk, entity: _entity, province: _province, ...stored } = item;
  return stored as unknown as StoredCatalogueItem;
}

function ownerCondition(owner: ItemOwner) {
  const [name, value] =
    'province' in owner ? ['province', owner.province] : ['departmentCode', owner.departmentCode];
  return {
    ConditionExpression: 'attribute_not_exists(pk) OR #owner = :owner',
    ExpressionAttributeNames: { '#owner': name },
    ExpressionAttributeValues: { ':owner': value },
  };
}

const isConditionFailure = (error: unknown) =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createCatalogueStore({ doc, table, sleep = defaultSleep }: CatalogueTable): CatalogueStore {
  async function writeChunk(items: Record<string, unknown>[]): Promise<void> {
    let requests = items.map((Item) => ({ PutRequest: { Item } }));
    for (let round = 0; requests.length > 0; round += 1) {
      if (round >= MAX_UNPROCESSED_ROUNDS) {
        throw new Error(`catalogue table left ${requests.length} items unprocessed`);
      }
      if (round > 0) await sleep(50 * 2 ** round);
      const result = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
      requests = (result.UnprocessedItems?.[table] ?? []) as typeof requests;
    }
  }

  return {
    async getItem(implementationCode) {
      const result = await doc.send(new GetCommand({ TableName: table, Key: itemKey(implementationCode) }));
      return result.Item ? fromItem(result.Item) : undefined;
    },

    async putItem(item, stamp, owner) {
      const stored = toItem(item, stamp);
      try {
        const result = await doc.send(
          new PutCommand({
            TableName: table,
            Item: stored,
            ReturnValues: 'ALL_OLD',
            ...ownerCondition(owner),
          }),
        );
        return { outcome: result.Attributes ? 'replaced' : 'created', item: fromItem(stored) };
      } catch (error) {
        if (isConditionFailure(error)) return { outcome: 'not_owner' };
        throw error;
      }
    },

    async putItems(items, stamp) {
      // A batch may not name one key twice: the later row of a load wins, as it would item by item.
      const byCode = new Map(items.map((item) => [item.implementationCode, toItem(item, stamp)]));
      const all = [...byCode.values()];
      for (let i = 0; i < all.length; i += BATCH_WRITE_MAX_ITEMS) {
        await writeChunk(all.slice(i, i + BATCH_WRITE_MAX_ITEMS));
      }
      return all.length;
    },
  };
}
