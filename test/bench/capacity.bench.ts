import {
  type AttributeValue,
  BatchGetItemCommand,
  type ConsumedCapacity,
  DynamoDBClient,
  PutItemCommand,
  paginateScan,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { processChanges } from '../../functions/case-aggregate/change-processor';
import type { ReceivedChange } from '../../functions/case-aggregate/domain/batching';
import { CASES_TABLE_INDEXES, createCaseStore } from '../../functions/case-aggregate/store';
import { LOCAL_REGION } from '../../infra/local/model';
import { weekendsOffCalendar } from '../../shared/calendar';
import { caseChangeDeliveries } from './support/case-changes';
import { capacityUnits, createCasesTable, createStatsTable, startScratchDynamo } from './support/case-tables';
import { median } from './support/measure';
import { itemSize, KB } from './support/pricing';
import { type Benchmark, figure, type Rate } from './support/types';

/**
 * Issue 4 (c): write capacity consumed per case status change, read from ReturnConsumedCapacity. The real
 * consumer path — processChanges over createCaseStore and a DocumentClient — applies generated changes, each
 * delivered twice in shuffled order in batches of 50 with several batches in flight (as SQS and Lambda deliver
 * them); a middleware on the DynamoDB client asks every write for its consumed capacity and sums it (production
 * code unchanged). Baseline: one plain PutItem of each case item as stored, into a table of the same schema —
 * the least any store must pay to keep the case — so the ratio is the write amplification of the exactly-once
 * transaction. Goal: ≤ 6 WCU per applied change.
 */

const ROUNDS = 3;
/** Cases per round; BENCH_CAPACITY_CASES shrinks it while developing (the committed figure uses the default). */
const CASES_PER_ROUND = Number(process.env.BENCH_CAPACITY_CASES ?? 1_000); // ≈ 3,200 status changes
const DELIVERIES_PER_CHANGE = 2;
const BATCH_SIZE = 50;
const CONCURRENCY = 4;
const SHARDS = 8;

const WRITES = new Set([
  'TransactWriteItemsCommand',
  'BatchWriteItemCommand',
  'PutItemCommand',
  'UpdateItemCommand',
]);
const READS = new Set(['BatchGetItemCommand', 'GetItemCommand', 'QueryCommand']);

/** A KEYS_ONLY index entry: its keys, the table keys and 100 bytes of overhead — well under 1 KB, so 1 WCU. */
const INDEX_ENTRY_WCU = 1;

interface StoredState {
  size: number;
  /** Per index of the cases table: the index keys the item carries, or undefined. */
  indexKeys: (string | undefined)[];
}

interface Tally {
  /** Sum of DynamoDB Local's ConsumedCapacity answers (TOTAL) for writes. */
  localWriteCapacity: number;
  readCapacity: number;
  /** The service's price of the committed transactions, computed from measured sizes (transactional: 2×). */
  model: { caseWrites: number; bucketWrites: number; markerWrites: number; indexWrites: number };
  caseItems: number;
  bucketItems: number;
  caseSizes: number[];
  bucketSizes: number[];
  transactions: number;
  cancelled: number;
}

const emptyTally = (): Tally => ({
  localWriteCapacity: 0,
  readCapacity: 0,
  model: { caseWrites: 0, bucketWrites: 0, markerWrites: 0, indexWrites: 0 },
  caseItems: 0,
  bucketItems: 0,
  caseSizes: [],
  bucketSizes: [],
  transactions: 0,
  cancelled: 0,
});

type TransactItem = { Put?: { TableName?: string; Item?: Record<string, unknown> } } & {
  Update?: { TableName?: string; Key?: Record<string, unknown> };
};

/** pk/sk of a transact item, whether the caller's input is plain (DocumentClient) or marshalled. */
function keyOf(item: TransactItem): { table: string; pk: string; sk: string } {
  const action = item.Put ?? item.Update;
  const source = (item.Put?.Item ?? item.Update?.Key ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : String((v as { S?: string })?.S));
  return { table: String(action?.TableName), pk: text(source.pk), sk: text(source.sk) };
}

/**
 * The service's price of one committed transaction: every item 2 WCU per started KB of the larger of its sizes
 * before and after (a Put replaces, an Update rewrites: both bill the larger), and each index entry written or
 * deleted 1 WCU (index propagation is an ordinary write; KEYS_ONLY entries are < 1 KB). An index whose keys did
 * not change is not written at all, whatever else changed.
 */
async function priceTransaction(
  raw: DynamoDBClient,
  input: { TransactItems?: TransactItem[] },
  state: Map<string, StoredState>,
  tables: { cases: string; stats: string },
  tally: Tally,
): Promise<void> {
  const keys = (input.TransactItems ?? []).map(keyOf);
  const byTable = new Map<string, Record<string, AttributeValue>[]>();
  for (const k of keys) {
    const list = byTable.get(k.table) ?? [];
    list.push({ pk: { S: k.pk }, sk: { S: k.sk } });
    byTable.set(k.table, list);
  }
  const after = new Map<string, Record<string, AttributeValue>>();
  const reply = await raw.send(
    new BatchGetItemCommand({
      RequestItems: Object.fromEntries(
        [...byTable].map(([table, Keys]) => [table, { Keys, ConsistentRead: true }]),
      ),
    }),
  );
  if (Object.keys(reply.UnprocessedKeys ?? {}).length > 0)
    throw new Error('pricing read left keys unprocessed');
  for (const [table, items] of Object.entries(reply.Responses ?? {}))
    for (const item of items) after.set(`${table}|${item.pk?.S}|${item.sk?.S}`, item);

  for (const k of keys) {
    const id = `${k.table}|${k.pk}|${k.sk}`;
    const item = after.get(id);
    if (!item) throw new Error(`pricing: ${id} not found after its commit`);
    const size = itemSize(item);
    const before = state.get(id);
    const units = 2 * Math.ceil(Math.max(size, before?.size ?? 0) / KB);
    const indexKeys = CASES_TABLE_INDEXES.map((index) => {
      const pk = item[index.partitionKey]?.S;
      const sk = item[index.sortKey]?.S;
      return pk === undefined ? undefined : `${pk}|${sk}`;
    });
    state.set(id, { size, indexKeys });
    if (k.table === tables.cases) {
      tally.model.caseWrites += units;
      tally.caseItems += 1;
      tally.caseSizes.push(size);
      indexKeys.forEach((key, i) => {
        const old = before?.indexKeys[i];
        if (key === old) return;
        tally.model.indexWrites +=
          (old === undefined ? 0 : INDEX_ENTRY_WCU) + (key === undefined ? 0 : INDEX_ENTRY_WCU);
      });
    } else if (k.pk.startsWith('STATS#')) {
      tally.model.bucketWrites += units;
      tally.bucketItems += 1;
      tally.bucketSizes.push(size);
    } else tally.model.markerWrites += units;
  }
}

/**
 * Asks every write and read for ReturnConsumedCapacity: 'TOTAL' and sums DynamoDB Local's answers; prices every
 * committed TransactWriteItems as the service would (priceTransaction). Initialize step: sees the caller's input
 * before serialisation and the output as the caller gets it. Production code is unchanged.
 */
function countCapacity(
  client: DynamoDBClient,
  raw: DynamoDBClient,
  tables: { cases: string; stats: string },
  tally: Tally,
): void {
  const state = new Map<string, StoredState>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = (context as { commandName?: string }).commandName ?? '';
      const isWrite = WRITES.has(command);
      if (!isWrite && !READS.has(command)) return next(args);
      (args.input as Record<string, unknown>).ReturnConsumedCapacity = 'TOTAL';
      let result: Awaited<ReturnType<typeof next>>;
      try {
        result = await next(args);
      } catch (error) {
        if (error instanceof Error && error.name === 'TransactionCanceledException') tally.cancelled += 1;
        throw error;
      }
      const consumed = (result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] })
        .ConsumedCapacity;
      if (!isWrite) tally.readCapacity += capacityUnits(consumed);
      else {
        tally.localWriteCapacity += capacityUnits(consumed);
        if (command === 'TransactWriteItemsCommand') {
          tally.transactions += 1;
          await priceTransaction(raw, args.input as { TransactItems?: TransactItem[] }, state, tables, tally);
        }
      }
      return result;
    },
    { step: 'initialize', name: 'benchConsumedCapacity' },
  );
}

interface RoundOutcome {
  tally: Tally;
  applied: number;
  delivered: number;
  conflicts: number;
  redelivered: number;
}

const modelTotal = (t: Tally) =>
  t.model.caseWrites + t.model.bucketWrites + t.model.markerWrites + t.model.indexWrites;

function minus(after: Tally, before: Tally): Tally {
  return {
    localWriteCapacity: after.localWriteCapacity - before.localWriteCapacity,
    readCapacity: after.readCapacity - before.readCapacity,
    model: {
      caseWrites: after.model.caseWrites - before.model.caseWrites,
      bucketWrites: after.model.bucketWrites - before.model.bucketWrites,
      markerWrites: after.model.markerWrites - before.model.markerWrites,
      indexWrites: after.model.indexWrites - before.model.indexWrites,
    },
    caseItems: after.caseItems - before.caseItems,
    bucketItems: after.bucketItems - before.bucketItems,
    caseSizes: after.caseSizes.slice(before.caseSizes.length),
    bucketSizes: after.bucketSizes.slice(before.bucketSizes.length),
    transactions: after.transactions - before.transactions,
    cancelled: after.cancelled - before.cancelled,
  };
}

const snapshot = (t: Tally): Tally => ({
  ...t,
  model: { ...t.model },
  caseSizes: [...t.caseSizes],
  bucketSizes: [...t.bucketSizes],
});
const percentile = (values: readonly number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? 0;
const fixed = (n: number) => n.toFixed(2);

const benchmark: Benchmark = {
  name: 'capacity',
  description:
    `Write capacity per case status change on the real consumer path (processChanges → createCaseStore → ` +
    `DocumentClient): ${CASES_PER_ROUND} generated cases per round, every change delivered ` +
    `${DELIVERIES_PER_CHANGE}× in shuffled order, batches of ${BATCH_SIZE}, ${CONCURRENCY} in flight, failed ` +
    'messages redelivered. Two readings: what DynamoDB Local answers in ReturnConsumedCapacity, and what the ' +
    'service would bill, computed per committed transaction from the items’ measured sizes (2 WCU per started ' +
    'KB of each item, the larger of before and after, plus 1 WCU per index entry written or deleted). Baseline: ' +
    'a plain PutItem of each case item as stored. Goal: ≤ 6 WCU per applied change. A private in-memory ' +
    'DynamoDB Local.',
  async run({ progress }) {
    progress('starting an in-memory DynamoDB Local');
    const engine = await startScratchDynamo();
    const clientConfig = {
      endpoint: engine.endpoint,
      region: LOCAL_REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    const client = new DynamoDBClient(clientConfig);
    // Reads the items back for pricing, outside the tally.
    const raw = new DynamoDBClient(clientConfig);
    const tally = emptyTally();
    const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    try {
      const [casesTable, statsTable, copyTable] = await Promise.all([
        createCasesTable(client, 'bench-cases'),
        createStatsTable(client, 'bench-stats'),
        createCasesTable(client, 'bench-case-copies'),
      ]);
      countCapacity(client, raw, { cases: casesTable, stats: statsTable }, tally);
      const store = createCaseStore({ doc, casesTable, statsTable });
      const deps = {
        store,
        publish: async () => undefined,
        clock: () => new Date(),
        statistics: { shards: SHARDS, calendar: weekendsOffCalendar },
      };

      /** Delivers until every message is processed (SQS redelivers the failed ones); returns the tallies. */
      const consume = async (round: number): Promise<RoundOutcome> => {
        const { deliveries, changes } = caseChangeDeliveries({
          round,
          cases: CASES_PER_ROUND,
          deliveriesPerChange: DELIVERIES_PER_CHANGE,
          now: new Date(),
        });
        const before = snapshot(tally);
        let pending = deliveries;
        let applied = 0;
        let conflicts = 0;
        let redelivered = 0;
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt >= 5) throw new Error(`${pending.length} messages still failing after 5 deliveries`);
          const batches = Array.from({ length: Math.ceil(pending.length / BATCH_SIZE) }, (_, i) =>
            pending.slice(i * BATCH_SIZE, (i + 1) * BATCH_SIZE),
          );
          const failed: ReceivedChange[] = [];
          let next = 0;
          const worker = async () => {
            while (next < batches.length) {
              const batch = batches[next++] as ReceivedChange[];
              const report = await processChanges(deps, batch);
              applied += report.applied;
              conflicts += report.conflicts.length;
              for (const message of batch) if (report.outcomes.get(message.messageId)) failed.push(message);
            }
          };
          await Promise.all(Array.from({ length: CONCURRENCY }, worker));
          redelivered += failed.length;
          pending = failed;
        }
        // The work counts only if done: every distinct change applied exactly once.
        if (applied !== changes)
          throw new Error(`${applied} of ${changes} changes applied (${conflicts} conflicts)`);
        return {
          tally: minus(tally, before),
          applied,
          delivered: deliveries.length + redelivered,
          conflicts,
          redelivered,
        };
      };

      /** Baseline: each stored case item, PutItem'd once into a table with the same keys and indexes. */
      const copyCases = async (): Promise<{ writeCapacity: number; items: number; sizes: number[] }> => {
        const items: Record<string, AttributeValue>[] = [];
        for await (const page of paginateScan({ client: raw }, { TableName: casesTable })) {
          items.push(...(page.Items ?? []));
        }
        const before = tally.localWriteCapacity;
        let next = 0;
        const worker = async () => {
          while (next < items.length) {
            const Item = items[next++] as Record<string, AttributeValue>;
            await client.send(new PutItemCommand({ TableName: copyTable, Item }));
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, worker));
        return {
          writeCapacity: tally.localWriteCapacity - before,
          items: items.length,
          sizes: items.map(itemSize),
        };
      };

      const rounds: RoundOutcome[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const began = performance.now();
        const outcome = await consume(round);
        rounds.push(outcome);
        const t = outcome.tally;
        progress(
          `round ${round}/${ROUNDS}: ${outcome.applied} changes applied from ${outcome.delivered} deliveries ` +
            `(${outcome.redelivered} redelivered) in ${((performance.now() - began) / 1000).toFixed(1)} s; ` +
            `service price ${modelTotal(t)} WCU (cases ${t.model.caseWrites}, buckets ${t.model.bucketWrites}, ` +
            `indexes ${t.model.indexWrites}), Local reported ${t.localWriteCapacity} WCU, ${t.readCapacity} RCU`,
        );
      }
      const copied = await copyCases();
      if (copied.items === 0 || copied.writeCapacity === 0) throw new Error('the baseline measured nothing');
      progress(`baseline: ${copied.items} case items put once, ${copied.writeCapacity} WCU`);

      const method =
        `${CASES_PER_ROUND} cases per round (${median(rounds.map((r) => r.applied))} changes), each change ` +
        `delivered ${DELIVERIES_PER_CHANGE}× shuffled, batches of ${BATCH_SIZE}, ${CONCURRENCY} in flight`;
      const perRound = (label: string, per: string, value: (r: RoundOutcome) => number): Rate => {
        const values = rounds.map(value);
        return { label, unit: 'WCU', per, perSecond: median(values), rounds: values, method };
      };
      // The plain put, priced the same way: 1 WCU per started KB (index entries come on top).
      const baselineModel = copied.sizes.reduce((sum, size) => sum + Math.ceil(size / KB), 0) / copied.items;
      const baseline: Rate = {
        label: 'plain PutItem of the stored case item, as DynamoDB Local reports it',
        unit: 'WCU',
        per: 'case',
        perSecond: copied.writeCapacity / copied.items,
        rounds: [copied.writeCapacity / copied.items],
        method: `every case item of the ${ROUNDS} rounds (${copied.items}) as stored, PutItem once into a table with the same key schema and indexes, ${CONCURRENCY} in flight`,
      };
      const all = rounds.map((r) => r.tally);
      const caseSizes = all.flatMap((t) => t.caseSizes);
      const bucketSizes = all.flatMap((t) => t.bucketSizes);
      const per = (pick: (t: Tally) => number) => median(rounds.map((r) => pick(r.tally) / r.applied));
      const arithmetic =
        `Per applied change (medians of the rounds): case items ${fixed(per((t) => t.caseItems))} written × 2 WCU × ` +
        `started KB = ${fixed(per((t) => t.model.caseWrites))} WCU; statistics buckets ${fixed(per((t) => t.bucketItems))} ` +
        `written × 2 WCU × started KB = ${fixed(per((t) => t.model.bucketWrites))} WCU; index entries ` +
        `${fixed(per((t) => t.model.indexWrites))} WCU; total ${fixed(per(modelTotal))} WCU. Case items as written: ` +
        `median ${percentile(caseSizes, 50)} B, p95 ${percentile(caseSizes, 95)} B, max ${Math.max(...caseSizes)} B ` +
        `(${caseSizes.filter((s) => s > KB).length} of ${caseSizes.length} over 1 KB); buckets median ` +
        `${percentile(bucketSizes, 50)} B, max ${Math.max(...bucketSizes)} B. Stored case items: median ` +
        `${percentile(copied.sizes, 50)} B; a plain put of one prices at ${fixed(baselineModel)} WCU before indexes.`;
      const localAccounting =
        'DynamoDB Local’s TransactWriteItems answer (probed with ReturnConsumedCapacity TOTAL and INDEXES: 10 puts of ' +
        '100 B → 2 WCU; 3 × 1,500 B → 4; 1,500 + 100 + 100 B → 6; 3,000 + 1,500 + 100 B → 12; 3 × 3,000 B → 6) ' +
        'is 2 × the sum of the DISTINCT per-item KB counts of each table: items of equal size collapse into one, so ' +
        'it undercounts a transaction of many similar items. Its index figures follow the same rule (at 2×, where ' +
        'the service propagates index writes as ordinary writes). Outside transactions it matches the service ' +
        '(1 WCU per started KB; an index written only when its keys or projected attributes change). Hence the ' +
        'figure with the goal is computed from the items’ measured sizes, and Local’s own sum is shown beside it.';
      const cancellations = `Cancelled transactions (concurrent consumers, retried): ${all.map((t) => t.cancelled).join(', ')} of ${all.map((t) => t.transactions + t.cancelled).join(', ')}; the service also bills the prepare phase of a cancelled transaction, not priced here.`;
      const perChange = {
        cases: { wcu: per((t) => t.model.caseWrites + t.model.indexWrites), rcu: per((t) => t.readCapacity) },
        statistics: { wcu: per((t) => t.model.bucketWrites + t.model.markerWrites), rcu: 0 },
      };
      return {
        status: 'ok',
        capacity: [
          {
            operation: 'case.statusChange',
            wcu: perChange.cases.wcu + perChange.statistics.wcu,
            rcu: perChange.cases.rcu,
            tables: perChange,
            basis:
              'per applied change, median of the rounds: consumer transactions priced from measured item sizes; ' +
              'reads (BatchGetItem of the touched cases) as DynamoDB Local reports them',
          },
        ],
        quantities: [
          {
            name: 'case.statusChangesPerCase',
            value: median(rounds.map((r) => r.applied)) / CASES_PER_ROUND,
            basis: `status changes per generated case (test/e2e/case-scenario.ts buildCases), ${CASES_PER_ROUND} cases per round`,
          },
        ],
        figures: [
          figure(
            'WCU per applied status change (service price from measured item sizes) vs a plain put of the case',
            perRound(
              'consumer transactions (case + statistics buckets + index entries), priced',
              'applied change',
              (r) => modelTotal(r.tally) / r.applied,
            ),
            baseline,
            {
              goalAtMost: 6,
              goalOf: 'subject',
              notes: [
                arithmetic,
                cancellations,
                `Reads (BatchGetItem of the touched cases, duplicates included): ${fixed(per((t) => t.readCapacity))} RCU per applied change.`,
                `Conflicting changes per round: ${rounds.map((r) => r.conflicts).join(', ')}.`,
              ],
            },
          ),
          figure(
            'WCU per applied status change as DynamoDB Local reports it vs a plain put of the case',
            perRound(
              'consumer, DynamoDB Local’s ReturnConsumedCapacity summed',
              'applied change',
              (r) => r.tally.localWriteCapacity / r.applied,
            ),
            baseline,
            { notes: [localAccounting] },
          ),
        ],
      };
    } finally {
      client.destroy();
      raw.destroy();
      await engine.stop();
    }
  },
};

export default benchmark;
