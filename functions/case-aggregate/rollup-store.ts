import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Day } from '../../shared/calendar';
import { PROVINCES } from '../../shared/regions';
import type { PeriodType } from './domain/periods';
import {
  type Cell,
  cellKey,
  countersFromItem,
  countersToItem,
  mergeCells,
  type ScopeLevel,
  type ScopeTotals,
} from './domain/rollup';
import { mapLimit } from './map-limit';
import { type Coverage, CSV_CONTENT_TYPE, JSON_CONTENT_TYPE } from './snapshot';

export { mapLimit };

/**
 * The rollup side of the stats table and the assessments bucket. Reads statistics buckets by key only — one
 * Query per (province, day, shard) partition — never a Scan and never the cases table, so a rollup costs what
 * the buckets cost, however many cases they count. Every read asks for ReturnConsumedCapacity and reports it.
 *
 * Rollup items, in the stats table beside the buckets (`pk = ROLLUP#{period}`, period `yyyy-mm-dd` or `yyyy-mm`):
 *   sk `cell#{regionCode}#{departmentCode}#{itemCode}`  one per bucket key of the period, shards (and days) merged
 *   sk `nation` | `province#{p}` | `region#{code}` | `dept#{p}#{departmentCode}`   the assessed scopes
 *   sk `meta`   written last: the period was rolled up (generatedAt, coverage, counts, snapshot keys)
 * Counters are stored as in the buckets (`processingHours` with two decimals).
 */
export interface RollupStoreOptions {
  doc: DynamoDBDocumentClient;
  statsTable: string;
  /** STATS_SHARDS: how many shard partitions each (province, day) has. */
  shards: number;
  /** The assessments bucket (ASSESSMENTS_BUCKET); only the rollup writes snapshots, the queries need none. */
  snapshots?: { s3: S3Client; bucket: string };
  /** Queries in flight at once (default 16). */
  concurrency?: number;
  /** Waits between retries of unprocessed batch items; injected so tests do not sleep. */
  sleep?: (ms: number) => Promise<void>;
}

export interface Consumed {
  /** Read capacity units the reads consumed, as DynamoDB reported them. */
  readCapacity: number;
  queries: number;
}

export interface RollupMeta {
  period: string;
  periodType: PeriodType;
  generatedAt: string;
  coverage: Coverage;
  scopes: number;
  cells: number;
  snapshotKeys: { json: string; csv: string };
}

export interface RollupWrite {
  meta: RollupMeta;
  cells: readonly Cell[];
  scopes: readonly ScopeTotals[];
}

export interface RollupStore {
  /** A day's statistics buckets (all provinces, or one), shards merged into cells. */
  readDayCells(day: Day, province?: string): Promise<{ cells: Cell[] } & Consumed>;
  /** The cells of a rolled-up period, optionally only regions whose code starts with `regionPrefix`. */
  readRollupCells(period: string, regionPrefix?: string): Promise<{ cells: Cell[] } & Consumed>;
  /** The meta items of those periods that have been rolled up. */
  readRollupMetas(periods: readonly string[]): Promise<{ metas: Map<string, RollupMeta> } & Consumed>;
  /** Scope totals of a rolled-up period whose sort key starts with one of the prefixes. */
  readScopes(period: string, prefixes: readonly string[]): Promise<{ scopes: ScopeTotals[] } & Consumed>;
  /** Overwrites the period's rollup items; `meta` goes last, so a reader never sees a half-written period as done. */
  writeRollup(period: string, rollup: RollupWrite): Promise<{ writeCapacity: number }>;
  putSnapshot(keys: { json: string; csv: string }, json: string, csv: string): Promise<void>;
}

const STATS_PK = (province: string, day: Day, shard: number) => `STATS#${province}#${day}#${shard}`;
export const rollupPk = (period: string) => `ROLLUP#${period}`;
const CELL_PREFIX = 'cell#';
const META_SK = 'meta';
const BATCH_WRITE_MAX = 25;
const BATCH_GET_MAX = 100;
const MAX_UNPROCESSED_ROUNDS = 8;

const capacityOf = (consumed: ConsumedCapacity | ConsumedCapacity[] | undefined): number =>
  (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce(
    (sum, c) => sum + (c.CapacityUnits ?? 0),
    0,
  );

const chunk = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

function cellFromBucket(item: Record<string, unknown>): Cell {
  // The sort key is the bucket's identity; the dimension attributes repeat it for readers of single items.
  const [regionCode, departmentCode, itemCode] = String(item.sk).split('#') as [string, string, string];
  return { regionCode, departmentCode, itemCode, counters: countersFromItem(item) };
}

function cellFromRollup(item: Record<string, unknown>): Cell {
  return {
    regionCode: String(item.regionCode),
    departmentCode: String(item.departmentCode),
    itemCode: String(item.itemCode),
    counters: countersFromItem(item),
  };
}

function scopeFromItem(item: Record<string, unknown>): ScopeTotals {
  return {
    scope: String(item.sk),
    level: item.level as ScopeLevel,
    ...(typeof item.province === 'string' ? { province: item.province } : {}),
    ...(typeof item.regionCode === 'string' ? { regionCode: item.regionCode } : {}),
    ...(typeof item.departmentCode === 'string' ? { departmentCode: item.departmentCode } : {}),
    counters: countersFromItem(item),
  };
}

function metaFromItem(item: Record<string, unknown>): RollupMeta {
  const { pk: _pk, sk: _sk, entity: _entity, ...meta } = item;
  return meta as unknown as RollupMeta;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createRollupStore(options: RollupStoreOptions): RollupStore {
  const { doc, statsTable, shards, snapshots } = options;
  const concurrency = options.concurrency ?? 16;
  const sleep = options.sleep ?? defaultSleep;

  /** Every page of one Query. */
  async function queryAll(
    input: Omit<QueryCommandInput, 'TableName'>,
  ): Promise<{ items: Record<string, unknown>[] } & Consumed> {
    const items: Record<string, unknown>[] = [];
    let readCapacity = 0;
    let queries = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(
        new QueryCommand({
          ...input,
          TableName: statsTable,
          ReturnConsumedCapacity: 'TOTAL',
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      items.push(...(page.Items ?? []));
      readCapacity += capacityOf(page.ConsumedCapacity);
      queries += 1;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return { items, readCapacity, queries };
  }

  const queryPartition = (pk: string, skPrefix?: string, consistent = false) =>
    queryAll({
      KeyConditionExpression: skPrefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk, ...(skPrefix ? { ':prefix': skPrefix } : {}) },
      ConsistentRead: consistent,
    });

  async function batchWrite(requests: Record<string, unknown>[]): Promise<number> {
    let writeCapacity = 0;
    let pending = requests;
    for (let round = 0; pending.length > 0; round += 1) {
      if (round >= MAX_UNPROCESSED_ROUNDS)
        throw new Error(`stats table left ${pending.length} writes unprocessed`);
      if (round > 0) await sleep(50 * 2 ** round);
      const result = await doc.send(
        new BatchWriteCommand({ RequestItems: { [statsTable]: pending }, ReturnConsumedCapacity: 'TOTAL' }),
      );
      writeCapacity += capacityOf(result.ConsumedCapacity);
      pending = (result.UnprocessedItems?.[statsTable] ?? []) as Record<string, unknown>[];
    }
    return writeCapacity;
  }

  return {
    async readDayCells(day, province) {
      const provinces = province ? [province] : PROVINCES.map((p) => p.code);
      const partitions = provinces.flatMap((p) =>
        Array.from({ length: shards }, (_, shard) => STATS_PK(p, day, shard)),
      );
      const pages = await mapLimit(partitions, concurrency, (pk) => queryPartition(pk));
      return {
        cells: mergeCells(pages.flatMap((page) => page.items.map(cellFromBucket))),
        readCapacity: pages.reduce((sum, page) => sum + page.readCapacity, 0),
        queries: pages.reduce((sum, page) => sum + page.queries, 0),
      };
    },

    async readRollupCells(period, regionPrefix = '') {
      // Consistent: a month is rolled from day rollups written moments before.
      const result = await queryPartition(rollupPk(period), `${CELL_PREFIX}${regionPrefix}`, true);
      return {
        cells: result.items.map(cellFromRollup),
        readCapacity: result.readCapacity,
        queries: result.queries,
      };
    },

    async readRollupMetas(periods) {
      const metas = new Map<string, RollupMeta>();
      let readCapacity = 0;
      let queries = 0;
      for (const ids of chunk([...new Set(periods)], BATCH_GET_MAX)) {
        let keys: Record<string, unknown>[] = ids.map((period) => ({ pk: rollupPk(period), sk: META_SK }));
        for (let round = 0; keys.length > 0; round += 1) {
          if (round >= MAX_UNPROCESSED_ROUNDS)
            throw new Error(`stats table left ${keys.length} keys unprocessed`);
          if (round > 0) await sleep(50 * 2 ** round);
          const result = await doc.send(
            new BatchGetCommand({
              RequestItems: { [statsTable]: { Keys: keys, ConsistentRead: true } },
              ReturnConsumedCapacity: 'TOTAL',
            }),
          );
          queries += 1;
          readCapacity += capacityOf(result.ConsumedCapacity);
          for (const item of result.Responses?.[statsTable] ?? []) {
            const meta = metaFromItem(item);
            metas.set(meta.period, meta);
          }
          keys = result.UnprocessedKeys?.[statsTable]?.Keys ?? [];
        }
      }
      return { metas, readCapacity, queries };
    },

    async readScopes(period, prefixes) {
      const pages = await Promise.all(prefixes.map((prefix) => queryPartition(rollupPk(period), prefix)));
      return {
        scopes: pages.flatMap((page) => page.items.map(scopeFromItem)),
        readCapacity: pages.reduce((sum, page) => sum + page.readCapacity, 0),
        queries: pages.reduce((sum, page) => sum + page.queries, 0),
      };
    },

    async writeRollup(period, { meta, cells, scopes }) {
      const pk = rollupPk(period);
      const puts = [
        ...cells.map((cell) => ({
          pk,
          sk: `${CELL_PREFIX}${cellKey(cell)}`,
          entity: 'rollup-cell',
          regionCode: cell.regionCode,
          departmentCode: cell.departmentCode,
          itemCode: cell.itemCode,
          ...countersToItem(cell.counters),
        })),
        ...scopes.map(({ scope, counters, ...dimensions }) => ({
          pk,
          sk: scope,
          entity: 'rollup-scope',
          ...dimensions,
          ...countersToItem(counters),
        })),
      ].map((Item) => ({ PutRequest: { Item } }));
      const capacities = await mapLimit(chunk(puts, BATCH_WRITE_MAX), concurrency, batchWrite);
      const metaCapacity = await batchWrite([
        { PutRequest: { Item: { pk, sk: META_SK, entity: 'rollup-meta', ...meta } } },
      ]);
      return { writeCapacity: capacities.reduce((sum, c) => sum + c, metaCapacity) };
    },

    async putSnapshot(keys, json, csv) {
      if (!snapshots) throw new Error('this rollup store was built without an assessments bucket');
      const put = (Key: string, Body: string, ContentType: string) =>
        snapshots.s3.send(new PutObjectCommand({ Bucket: snapshots.bucket, Key, Body, ContentType }));
      await Promise.all([put(keys.json, json, JSON_CONTENT_TYPE), put(keys.csv, csv, CSV_CONTENT_TYPE)]);
    },
  };
}
