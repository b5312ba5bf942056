import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { backfill, type PeriodReport, type RollupDependencies } from '../../functions/case-aggregate/rollup';
import { createRollupStore } from '../../functions/case-aggregate/rollup-store';
import { LOCAL_REGION } from '../../infra/local/model';
import type { Day } from '../../shared/calendar';
import {
  generateAuthorityCode,
  generateImplementationCode,
  type Random,
  seededRandom,
} from '../../shared/identifiers/generate';
import { PROVINCES } from '../../shared/regions';
import {
  createCasesTable,
  createStatsTable,
  startScratchDynamo,
  startScratchS3,
} from './support/case-tables';
import { batchWrite } from './support/dynamo';
import { median, timedOperations } from './support/measure';
import { type Benchmark, figure, type Rate } from './support/types';

/**
 * Issue 4 (b): a rollup's DynamoDB reads grow with the number of statistics buckets, never with the number of
 * cases. The same buckets (32 provinces × DAYS days × SHARDS shards × CELLS cells) are rolled up with the real
 * backfill (rollup.ts → rollup-store.ts, snapshots to s3rver) first with SMALL cases stored in the cases table,
 * then with up to LARGE; the figure is the ratio of the read capacity the rollup reports (ReturnConsumedCapacity)
 * with many cases to that with few. Goal ≤ 1.1. Wall time is reported beside it without a goal.
 *
 * It runs on a private in-memory DynamoDB Local rather than the hub's on-disk one: half a million items would
 * take far longer to write there and would stay behind in the hub's state folder.
 */

const DAYS: Day[] = Array.from({ length: 10 }, (_, i) => `2026-09-${String(i + 1).padStart(2, '0')}` as Day);
const SHARDS = 8;
/** Per province: its capital and one city, each with a department of three items. */
const REGIONS_PER_PROVINCE = 2;
const ITEMS_PER_REGION = 3;
const CELLS = REGIONS_PER_PROVINCE * ITEMS_PER_REGION;
const SMALL = 50_000;
const LARGE = Number(process.env.BENCH_ROLLUP_LARGE ?? 500_000);
/** Seconds the growth from SMALL to LARGE cases may take; past it the run measures what was written. */
const GROWTH_BUDGET_SECONDS = Number(process.env.BENCH_ROLLUP_GROWTH_SECONDS ?? 100);
const WRITE_CONCURRENCY = 4;
const ROUNDS = 3;
const BUCKET = 'assessments';
const CLOCK = new Date('2026-11-22T01:00:00+08:00');

interface Cell {
  regionCode: string;
  departmentCode: string;
  itemCode: string;
}

function cellsOf(random: Random, province: string): Cell[] {
  const regions = [province, `${province.slice(0, 2)}0100`].slice(0, REGIONS_PER_PROVINCE);
  return regions.flatMap((regionCode) => {
    const departmentCode = generateAuthorityCode(random, regionCode);
    return Array.from({ length: ITEMS_PER_REGION }, () => ({
      regionCode,
      departmentCode,
      itemCode: generateImplementationCode(random, departmentCode),
    }));
  });
}

/** A statistics bucket as store.ts writes it: dimensions and counters, processing time in hours. */
function bucketItem(random: Random, province: string, day: Day, shard: number, cell: Cell) {
  const received = 1 + Math.floor(random() * 40);
  const completed = Math.floor(received * random());
  return {
    pk: `STATS#${province}#${day}#${shard}`,
    sk: `${cell.regionCode}#${cell.departmentCode}#${cell.itemCode}`,
    province,
    day,
    shard,
    ...cell,
    received,
    online: Math.floor(received * random()),
    fullyOnline: Math.floor(received * random() * 0.5),
    accepted: Math.floor(received * 0.9),
    rejected: Math.floor(received * 0.05),
    completed,
    terminated: 0,
    completedOnTime: Math.floor(completed * random()),
    processingHours: Math.round(completed * 3_000 * random()) / 100,
  };
}

/** A case item shaped as store.ts stores it (keys, applicant index keys, masked applicant, timeline). */
function caseItem(index: number, cell: Cell): Record<string, unknown> {
  const caseNumber = `B${index.toString(36).padStart(6, '0')}`;
  const caseId = `${cell.regionCode}:${caseNumber}`;
  const day = DAYS[index % DAYS.length] as Day;
  const idHmac = `${index.toString(36).padStart(8, '0')}${'h'.repeat(35)}`;
  return {
    pk: `CASE#${caseId}`,
    sk: 'CASE',
    gsi1pk: `APPLICANT#${idHmac}`,
    gsi1sk: `${day}T09:00:00+08:00#${caseId}`,
    entity: 'case',
    status: 'completed',
    caseId,
    caseNumber,
    ...cell,
    itemName: 'Business licence registration',
    applicant: {
      type: 'person',
      idType: 'citizen_id',
      idHmac,
      maskedId: '330106********1234',
      maskedName: '张**',
    },
    channel: 'online',
    fullyOnline: true,
    promisedDays: 5,
    statutoryDays: 20,
    firstSeenAt: `${day}T01:00:00.000Z`,
    timeline: [
      { status: 'submitted', at: `${day}T09:00:00+08:00` },
      { status: 'accepted', at: `${day}T10:00:00+08:00` },
      { status: 'completed', at: `${day}T16:00:00+08:00` },
    ],
    version: 3,
  };
}

const sum = (reports: readonly PeriodReport[], pick: (r: PeriodReport) => number) =>
  reports.reduce((total, report) => total + pick(report), 0);

const benchmark: Benchmark = {
  name: 'rollup',
  description:
    `Read capacity of the real rollup (backfill of ${DAYS.length} days and their month: rollup.ts over ` +
    `rollup-store.ts, snapshots to s3rver) over the same ${PROVINCES.length} provinces × ${DAYS.length} days × ` +
    `${SHARDS} shards × ${CELLS} cells of statistics buckets, with ${SMALL.toLocaleString('en-US')} and then up ` +
    `to ${LARGE.toLocaleString('en-US')} cases stored in the cases table (ReturnConsumedCapacity, as the rollup ` +
    'reports it). Goal: ratio ≤ 1.1. Also rollup days/s with many vs few cases, without a goal. A private ' +
    'in-memory DynamoDB Local.',
  async run({ progress }) {
    progress('starting an in-memory DynamoDB Local and s3rver');
    const engine = await startScratchDynamo();
    const objects = await startScratchS3(BUCKET);
    const client = new DynamoDBClient({
      endpoint: engine.endpoint,
      region: LOCAL_REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const doc = DynamoDBDocumentClient.from(client);
    try {
      const [casesTable, statsTable] = await Promise.all([
        createCasesTable(client, 'bench-cases'),
        createStatsTable(client, 'bench-stats'),
      ]);
      const random = seededRandom(4_004);
      const cells = new Map(PROVINCES.map(({ code }) => [code, cellsOf(random, code)]));
      const allCells = [...cells.values()].flat();

      const buckets = [...cells].flatMap(([province, mine]) =>
        DAYS.flatMap((day) =>
          Array.from({ length: SHARDS }, (_, shard) =>
            mine.map((cell) => bucketItem(random, province, day, shard, cell)),
          ).flat(),
        ),
      );
      progress(`writing ${buckets.length.toLocaleString('en-US')} statistics buckets`);
      await timedOperations(Math.ceil(buckets.length / 25), WRITE_CONCURRENCY, (call) =>
        batchWrite(doc, statsTable, buckets.slice(call * 25, (call + 1) * 25)),
      );

      let stored = 0;
      /** Adds case items up to `target`, or until `deadline` (ms since the epoch); resolves to the count stored. */
      const growCases = async (target: number, deadline = Number.POSITIVE_INFINITY) => {
        const began = performance.now();
        const from = stored;
        let next = Math.ceil(stored / 25);
        let lastReport = from;
        const worker = async () => {
          while (next * 25 < target && Date.now() < deadline) {
            const call = next++;
            const items = Array.from({ length: Math.min(25, target - call * 25) }, (_, i) =>
              caseItem(call * 25 + i, allCells[(call * 25 + i) % allCells.length] as Cell),
            );
            await batchWrite(doc, casesTable, items);
            stored = Math.max(stored, call * 25 + items.length);
            if (stored - lastReport >= 50_000) {
              lastReport = stored;
              progress(`  ${stored.toLocaleString('en-US')} cases stored`);
            }
          }
        };
        await Promise.all(Array.from({ length: WRITE_CONCURRENCY }, worker));
        // Workers finish their calls in any order; every call below `next` completed, so `next` calls' items exist.
        stored = Math.min(target, next * 25);
        const seconds = (performance.now() - began) / 1000;
        progress(
          `${(stored - from).toLocaleString('en-US')} cases written in ${seconds.toFixed(0)} s ` +
            `(${Math.round((stored - from) / seconds)} items/s); ${stored.toLocaleString('en-US')} stored`,
        );
        return { written: stored - from, seconds };
      };

      const published: string[] = [];
      const deps: RollupDependencies = {
        store: createRollupStore({
          doc,
          statsTable,
          shards: SHARDS,
          snapshots: { s3: objects.s3, bucket: BUCKET },
        }),
        publish: async (detail) => {
          published.push(detail.period);
        },
        clock: () => CLOCK,
        correlationId: 'bench-rollup',
      };
      const from = DAYS[0] as Day;
      const to = DAYS[DAYS.length - 1] as Day;
      const expectedDayCells = PROVINCES.length * CELLS;

      /** One backfill; throws unless every day read every bucket partition and found every cell. */
      const rollupRound = async () => {
        const before = published.length;
        const began = performance.now();
        const reports = await backfill(deps, { from, to });
        const seconds = (performance.now() - began) / 1000;
        const days = reports.filter((r) => r.periodType === 'day');
        const wrong = days.find((r) => r.cells !== expectedDayCells || r.queries < PROVINCES.length * SHARDS);
        if (days.length !== DAYS.length || wrong) {
          throw new Error(
            `rollup of ${days.length} days: ${wrong?.period} has ${wrong?.cells} cells (expected ${expectedDayCells})`,
          );
        }
        if (published.length - before !== reports.length) throw new Error('not every period was published');
        return {
          readCapacity: sum(reports, (r) => r.readCapacity),
          queries: sum(reports, (r) => r.queries),
          seconds,
        };
      };

      const measure = async (label: string, warmUps: number) => {
        progress(`${label}: warm-up`);
        for (let i = 0; i < warmUps; i++) await rollupRound();
        const rounds = [];
        for (let round = 1; round <= ROUNDS; round++) {
          const result = await rollupRound();
          progress(
            `${label}: round ${round}/${ROUNDS} ${result.readCapacity} RCU, ${result.queries} reads, ` +
              `${result.seconds.toFixed(2)} s`,
          );
          rounds.push(result);
        }
        return rounds;
      };

      progress(`storing ${SMALL.toLocaleString('en-US')} cases`);
      const small = await growCases(SMALL);
      const fewLabel = `${stored.toLocaleString('en-US')} cases stored`;
      // Two warm-ups before the first rounds, so the JIT's warm-up does not flatter the later, larger run.
      const few = await measure(fewLabel, 2);

      progress(`storing up to ${LARGE.toLocaleString('en-US')} cases (budget ${GROWTH_BUDGET_SECONDS} s)`);
      const growth = await growCases(LARGE, Date.now() + GROWTH_BUDGET_SECONDS * 1000);
      const largeCount = stored;
      const manyLabel = `${largeCount.toLocaleString('en-US')} cases stored`;
      const many = await measure(manyLabel, 1);

      const per = `backfill of ${DAYS.length} days + their month`;
      const method = (count: number) =>
        `${count.toLocaleString('en-US')} case items in the cases table; ${buckets.length.toLocaleString('en-US')} ` +
        `buckets; ${ROUNDS} backfills after a warm-up, ${median(few.map((r) => r.queries))} reads each`;
      const capacityRate = (label: string, count: number, rounds: typeof few): Rate => ({
        label,
        unit: 'RCU',
        per,
        perSecond: median(rounds.map((r) => r.readCapacity)),
        rounds: rounds.map((r) => r.readCapacity),
        method: method(count),
      });
      const speedRate = (label: string, count: number, rounds: typeof few): Rate => {
        const rates = rounds.map((r) => DAYS.length / r.seconds);
        return { label, unit: 'days', perSecond: median(rates), rounds: rates, method: method(count) };
      };
      const shortOf =
        largeCount < LARGE
          ? [
              `Writing ${LARGE.toLocaleString('en-US')} cases did not fit the ${GROWTH_BUDGET_SECONDS} s budget on ` +
                `this machine (${Math.round(growth.written / growth.seconds)} items/s into a table with two ` +
                `indexes): the large run has ${largeCount.toLocaleString('en-US')} cases, ` +
                `${(largeCount / SMALL).toFixed(1)}× the small one.`,
            ]
          : [];
      const writes =
        `Cases written with BatchWriteItem (25 per call, ${WRITE_CONCURRENCY} in flight): ` +
        `${small.written.toLocaleString('en-US')} in ${small.seconds.toFixed(0)} s, then ` +
        `${growth.written.toLocaleString('en-US')} more in ${growth.seconds.toFixed(0)} s.`;
      return {
        status: 'ok',
        figures: [
          figure(
            `rollup read capacity, ${manyLabel} vs ${fewLabel}`,
            capacityRate(manyLabel, largeCount, many),
            capacityRate(fewLabel, SMALL, few),
            {
              goalAtMost: 1.1,
              notes: [
                ...shortOf,
                'Read capacity as DynamoDB Local reports it in ReturnConsumedCapacity (the rollup store asks for it ' +
                  'on every Query and BatchGetItem); the service rounds each Query to 4 KB of data read the same way, ' +
                  'but its absolute numbers may differ from the local engine’s.',
                writes,
              ],
            },
          ),
          figure(
            `rollup days/s, ${manyLabel} vs ${fewLabel}`,
            speedRate(manyLabel, largeCount, many),
            speedRate(fewLabel, SMALL, few),
            {
              notes: [
                'Wall time of each backfill (reads, rollup writes, snapshots to s3rver); no goal stated.',
              ],
            },
          ),
        ],
      };
    } finally {
      client.destroy();
      await objects.stop();
      await engine.stop();
    }
  },
};

export default benchmark;
