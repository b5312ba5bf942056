import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  type Cell,
  type RollupCounters,
  zeroCounters,
} from '../../../functions/case-aggregate/domain/rollup';
import {
  generateAuthorityCode,
  generateImplementationCode,
  seededRandom,
} from '../../../shared/identifiers/generate';

const random = seededRandom(20261120);
export const DEPT_HANGZHOU = generateAuthorityCode(random, '330100');
export const DEPT_GUANGZHOU = generateAuthorityCode(random, '440100');
export const ITEM_A = generateImplementationCode(random, DEPT_HANGZHOU);
export const ITEM_B = generateImplementationCode(random, DEPT_HANGZHOU);
export const ITEM_C = generateImplementationCode(random, DEPT_HANGZHOU);
export const ITEM_D = generateImplementationCode(random, DEPT_GUANGZHOU);

export const counters = (partial: Partial<RollupCounters>): RollupCounters => ({
  ...zeroCounters(),
  ...partial,
});

export const cell = (
  regionCode: string,
  departmentCode: string,
  itemCode: string,
  partial: Partial<RollupCounters>,
): Cell => ({ regionCode, departmentCode, itemCode, counters: counters(partial) });

/**
 * One day, computed by hand:
 *   province 330000: received 6, completed 3 (2 on time) → 66.67 %; fully online 2/6 → 33.33 %; online 3/6 → 50 %;
 *                    processing 30.50 + 4.25 = 34.75 h over 3 completed → 11.58 h
 *   province 440000: received 0 → online and fully online rates null; completed 1, 0 on time → 0 % (not null);
 *                    10.00 h over 1 → 10.00 h
 *   nation:          received 6, completed 4 (2 on time) → 50 %; 44.75 h / 4 = 11.1875 → 11.19 h (half up)
 *   region 330102:   completed 0 → on-time rate and average hours null
 */
export const DAY_CELLS: Cell[] = [
  cell('330106', DEPT_HANGZHOU, ITEM_A, {
    received: 3,
    accepted: 2,
    rejected: 1,
    completed: 2,
    completedOnTime: 1,
    online: 2,
    fullyOnline: 1,
    processingCentihours: 3050,
  }),
  cell('330106', DEPT_HANGZHOU, ITEM_B, {
    received: 1,
    accepted: 1,
    completed: 1,
    completedOnTime: 1,
    processingCentihours: 425,
  }),
  cell('330102', DEPT_HANGZHOU, ITEM_C, { received: 2, online: 1, fullyOnline: 1 }),
  cell('440106', DEPT_GUANGZHOU, ITEM_D, { completed: 1, overdue: 1, processingCentihours: 1000 }),
];

/**
 * Writes cells as statistics buckets of a day the way the consumer stores them, each cell split over two
 * shards so that a rollup has to merge them.
 */
export async function putBuckets(doc: DynamoDBDocumentClient, table: string, day: string, cells: Cell[]) {
  const items = cells.flatMap((c, index) => {
    const half = Object.fromEntries(
      Object.entries(c.counters).map(([name, value]) => [name, Math.floor(value / 2)]),
    ) as RollupCounters;
    const rest = Object.fromEntries(
      Object.entries(c.counters).map(([name, value]) => [name, value - Math.floor(value / 2)]),
    ) as RollupCounters;
    return [
      [index % 8, half],
      [(index + 3) % 8, rest],
    ].map(([shard, counters]) => {
      const province = `${c.regionCode.slice(0, 2)}0000`;
      const { processingCentihours, ...plain } = counters as RollupCounters;
      return {
        pk: `STATS#${province}#${day}#${shard}`,
        sk: `${c.regionCode}#${c.departmentCode}#${c.itemCode}`,
        province,
        day,
        shard,
        regionCode: c.regionCode,
        departmentCode: c.departmentCode,
        itemCode: c.itemCode,
        ...plain,
        processingHours: processingCentihours / 100,
      };
    });
  });
  for (const Item of items) await doc.send(new PutCommand({ TableName: table, Item }));
}

/** Adds to one bucket counter, as a later case change would. */
export const addToBucket = (
  doc: DynamoDBDocumentClient,
  table: string,
  key: { pk: string; sk: string },
  counter: string,
  value: number,
) =>
  doc.send(
    new UpdateCommand({
      TableName: table,
      Key: key,
      UpdateExpression: 'ADD #c :v',
      ExpressionAttributeNames: { '#c': counter },
      ExpressionAttributeValues: { ':v': value },
    }),
  );

/**
 * Item A reported by two counties of Zhejiang and, once, from Guangdong (an item is assessed per province), with
 * evaluations. Computed by hand for the item scope item#330000#DEPT_HANGZHOU#ITEM_A:
 *   received 3 + 1 = 4; completed 2 + 1 = 3, on time 1 + 1 = 2 → 按时办结率 2/3 = 66.67 %;
 *   fully online 1 + 1 = 2 of 4 → 全程网办率 50.00 %; evaluations 3, satisfied 2 → 满意率 2/3 = 66.67 %;
 *   processing 30.50 + 2.00 = 32.50 h over 3 completed → 10.83 h.
 * Item B (330106 only): completed 1 on time → 100.00 %, nothing fully online → 0.00 %, no votes → 满意率 null.
 * item#440000#DEPT_HANGZHOU#ITEM_A: received 2, nothing completed → 按时办结率 null.
 */
export const ITEM_CELLS: Cell[] = [
  ...DAY_CELLS,
  cell('330102', DEPT_HANGZHOU, ITEM_A, {
    received: 1,
    accepted: 1,
    completed: 1,
    completedOnTime: 1,
    online: 1,
    fullyOnline: 1,
    processingCentihours: 200,
    evaluations: 3,
    satisfied: 2,
  }),
  cell('440106', DEPT_HANGZHOU, ITEM_A, { received: 2 }),
];
