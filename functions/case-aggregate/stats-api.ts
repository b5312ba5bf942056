import * as z from 'zod';
import { dynamoDbClients } from '../../shared/aws/dynamodb';
import { calendarDaySchema, type Day, isCalendarDay } from '../../shared/calendar';
import type { AuthenticatedClient } from '../../shared/client-registry';
import { loadConfig, positiveInt, tableName } from '../../shared/config';
import { defineRoute } from '../../shared/contract';
import { routedHandler } from '../../shared/entry';
import { type HttpDependencyOverrides, httpHandler } from '../../shared/http';
import { creditCodeSchema, implementationCodeSchema } from '../../shared/identifiers';
import type { HubLogger } from '../../shared/observability';
import { forbidden, notFound, unprocessable } from '../../shared/problem';
import { PROVINCES, provinceOf, regionCodeSchema } from '../../shared/regions';
import { EVALUATION_COUNTERS } from './domain/evaluation-counts';
import { mayAccessRegion } from './domain/ingest';
import { dayCount, daysBetween, daysOfMonth, monthOf, parsePeriod, splitIntoMonths } from './domain/periods';
import { RATES_NOTE, ratesOf, renderRates } from './domain/rates';
import {
  countersToItem,
  GROUP_BY,
  type GroupBy,
  groupCells,
  type PeriodCells,
  type RollupCounters,
} from './domain/rollup';
import { createRollupStore, mapLimit, type RollupStore } from './rollup-store';
import { ROUNDING_NOTE, toSnapshotScope } from './snapshot';

/**
 * Statistics and assessment queries (scope cases:read):
 *   GET /v1/stats?from=&to=&region=&department=&item=&groupBy=   totals over a day range, from rollups where a
 *       period has been rolled up and from the statistics buckets for days not rolled up yet
 *   GET /v1/evaluations/stats?…  (same parameters)                 the evaluation counters and rates of the same
 *       cells: satisfaction (满意率) and rectification (差评整改率)
 *   GET /v1/assessments/{period}                                  the stored rollup of a day or month
 * A region client sees its own province only; a ministry sees the nation.
 */
export const MAX_STATS_DAYS = 366;
/** Days read at once when a range has to come from buckets or day rollups. */
const DAY_CONCURRENCY = 4;

export const statsQuerySchema = z
  .object({
    from: calendarDaySchema,
    to: calendarDaySchema,
    region: regionCodeSchema.optional(),
    department: creditCodeSchema.optional(),
    item: implementationCodeSchema.optional(),
    groupBy: z.enum(GROUP_BY).optional(),
  })
  .superRefine((query, ctx) => {
    if (!isCalendarDay(query.from) || !isCalendarDay(query.to)) return;
    if (query.from > query.to) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must not be before from.' });
    } else if (dayCount(query.from, query.to) > MAX_STATS_DAYS) {
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `A range covers at most ${MAX_STATS_DAYS} days.`,
      });
    }
  });
export type StatsQuery = z.output<typeof statsQuerySchema>;

const periodPathSchema = z.object({
  period: z
    .string()
    .refine((value) => parsePeriod(value) !== undefined, 'A period is yyyy-mm-dd or yyyy-mm.'),
});

const renderedRateSchema = z
  .object({ numerator: z.number(), denominator: z.number(), value: z.number() })
  .nullable()
  .describe('numerator / denominator, rounded half up; null when the denominator is zero.');

export const renderedRatesSchema = z.object({
  onTimeCompletionRate: renderedRateSchema.describe('按时办结率, percent.'),
  fullyOnlineRate: renderedRateSchema.describe('全程网办率, percent.'),
  onlineRate: renderedRateSchema.describe('网上办理率, percent.'),
  averageProcessingHours: renderedRateSchema.describe('Average processing time, hours.'),
  satisfactionRate: renderedRateSchema.describe('满意率, percent.'),
  rectificationRate: renderedRateSchema.describe('差评整改率, percent.'),
});

const countersSchema = z.record(z.string(), z.number());
const coverageSchema = z.object({
  days: z.number().int(),
  daysInPeriod: z.number().int(),
  firstDay: z.string().optional(),
  lastDay: z.string().optional(),
});

/**
 * One assessed scope of a period: the nation, a province, a region (city/county) or a department; the items
 * (province × department × item) are published per province (`assessments/<period>/items-<province>.json`), not
 * answered here.
 */
export const snapshotScopeSchema = z.object({
  scope: z
    .string()
    .describe(
      '`nation`, `province#330000`, `region#330100`, `dept#330000#<credit code>`; in item snapshots `item#330000#<credit code>#<implementation code>`.',
    ),
  level: z.enum(['nation', 'province', 'region', 'department', 'item']),
  province: z.string().optional(),
  provinceName: z.string().optional(),
  regionCode: z.string().optional(),
  departmentCode: z.string().optional(),
  itemCode: z.string().optional().describe('The implementation code of an item scope.'),
  counters: countersSchema,
  rates: renderedRatesSchema,
});

/** The assessment of a period, as `GET /v1/assessments/{period}` answers and as published to S3. */
export const assessmentSchema = z.object({
  period: z.string(),
  periodType: z.enum(['day', 'month']),
  generatedAt: z.string(),
  coverage: coverageSchema,
  snapshotKeys: z.object({ json: z.string(), csv: z.string() }).optional(),
  rounding: z.string(),
  notes: z.array(z.string()),
  scopes: z.array(snapshotScopeSchema),
});

const statsFrame = {
  from: z.string(),
  to: z.string(),
  groupBy: z.enum(GROUP_BY).nullable(),
  filters: z.object({
    region: z.string().nullable(),
    department: z.string().nullable(),
    item: z.string().nullable(),
  }),
  sources: z.object({ monthRollups: z.number(), dayRollups: z.number(), bucketDays: z.number() }),
  rounding: z.string(),
  notes: z.array(z.string()),
};

const statsFigures = z.object({ counters: countersSchema, rates: renderedRatesSchema });
const evaluationFigures = z.object({
  counters: countersSchema,
  rates: renderedRatesSchema.pick({ satisfactionRate: true, rectificationRate: true }),
});

export const statsReplySchema = z.object({
  ...statsFrame,
  total: statsFigures,
  groups: z.array(statsFigures.extend({ key: z.string() })),
});
export const evaluationStatsReplySchema = z.object({
  ...statsFrame,
  total: evaluationFigures,
  groups: z.array(evaluationFigures.extend({ key: z.string() })),
});

const STATS_PROBLEMS = [
  {
    status: 403,
    slug: 'stats-out-of-scope',
    when: "A region client asked for another province's figures, or the client is neither region nor ministry.",
  },
  {
    status: 422,
    slug: 'stats-range-not-rolled-up',
    when: 'Too many days of the range have no rollup to be read from raw buckets in time (more than 16 days nationwide).',
  },
] as const;

/** The statistics API's routes; `handler` below serves exactly these. */
export const STATS_ROUTES = {
  stats: defineRoute({
    operation: 'stats.get',
    method: 'GET',
    path: '/v1/stats',
    tag: 'case aggregation',
    summary: 'Case figures and rates (按时办结率, 全程网办率, …) over a day range, optionally grouped.',
    scope: 'cases:read',
    authentication: 'signature',
    query: statsQuerySchema,
    responses: { 200: { description: 'Totals and groups of the range.', schema: statsReplySchema } },
    problems: STATS_PROBLEMS,
  }),
  evaluationStats: defineRoute({
    operation: 'evaluations.stats.get',
    method: 'GET',
    path: '/v1/evaluations/stats',
    tag: 'evaluation ingest',
    summary: 'Evaluation counters, 满意率 and 差评整改率 of the same cells as /v1/stats.',
    scope: 'cases:read',
    authentication: 'signature',
    query: statsQuerySchema,
    responses: {
      200: { description: 'Totals and groups of the range.', schema: evaluationStatsReplySchema },
    },
    problems: STATS_PROBLEMS,
  }),
  assessment: defineRoute({
    operation: 'assessments.get',
    method: 'GET',
    path: '/v1/assessments/{period}',
    tag: 'case aggregation',
    summary: 'The rolled-up assessment (考评) of a day or month, the scopes the caller may see.',
    scope: 'cases:read',
    authentication: 'signature',
    params: periodPathSchema,
    responses: { 200: { description: 'The assessment of the period.', schema: assessmentSchema } },
    problems: [
      {
        status: 403,
        slug: 'assessment-out-of-scope',
        when: 'The client is neither a region nor a ministry.',
      },
      { status: 404, slug: 'assessment-not-found', when: 'The period has not been rolled up yet.' },
    ],
  }),
};

export interface StatsApiDependencies {
  store: () => RollupStore;
  http?: HttpDependencyOverrides;
}

const outOfScope = () =>
  forbidden('stats-out-of-scope', "This client may read only its own province's statistics.");

/** The region a query is confined to: the one asked for, else a region client's whole province. */
function scopedRegion(client: AuthenticatedClient, region: string | undefined): string | undefined {
  if (region !== undefined) {
    if (!mayAccessRegion(client, region)) throw outOfScope();
    return region;
  }
  if (client.kind === 'ministry') return undefined;
  if (client.kind !== 'region' || client.regionCode === undefined) throw outOfScope();
  return provinceOf(client.regionCode);
}

const rendered = (counters: RollupCounters) => ({
  counters: countersToItem(counters),
  rates: renderRates(ratesOf(counters)),
});

/**
 * Days without a rollup are read from their raw buckets: one Query per province and shard. Past this many
 * (day, province) pairs — 16 days nationwide, or a year of one province — the reads would not finish within the
 * function's time, so the request is refused with a way forward rather than left to time out as a 502.
 */
export const MAX_UNROLLED_DAY_PROVINCES = 512;

function refuseLargeUnrolledRange(unrolledDays: readonly Day[], provinces: number): void {
  if (unrolledDays.length * provinces <= MAX_UNROLLED_DAY_PROVINCES) return;
  throw unprocessable(
    'stats-range-not-rolled-up',
    `${unrolledDays.length} days of the range (${unrolledDays[0]} to ${unrolledDays.at(-1)}) have no rollup yet; ` +
      `ask for a province, a shorter range, or roll the days up first (npm run hub -- rollup --from --to).`,
  );
}

export interface StatsSources {
  monthRollups: number;
  dayRollups: number;
  bucketDays: number;
}

/**
 * Reads the cells of a range: a month covered whole by the range and completely rolled up is read from its
 * rollup; every other day from its day rollup, or from its buckets when it has not been rolled up. Grouping by
 * day reads days only.
 */
export async function readRangeCells(
  store: RollupStore,
  query: { from: Day; to: Day; region?: string; groupBy?: GroupBy },
): Promise<{ periods: PeriodCells[]; sources: StatsSources; readCapacity: number }> {
  const split =
    query.groupBy === 'day'
      ? { months: [], days: daysBetween(query.from, query.to) }
      : splitIntoMonths(query.from, query.to);
  const { metas, readCapacity: metaCapacity } = await store.readRollupMetas([...split.months, ...split.days]);
  const completeMonths = split.months.filter((month) => {
    const meta = metas.get(month);
    return meta !== undefined && meta.coverage.days === meta.coverage.daysInPeriod;
  });
  const days = [
    ...split.days,
    ...split.months.filter((month) => !completeMonths.includes(month)).flatMap(daysOfMonth),
  ].sort();
  // Keys narrow reads to the province; cities and counties are filtered in memory (inRegionScope).
  const province = query.region === undefined ? undefined : provinceOf(query.region);
  refuseLargeUnrolledRange(
    days.filter((day) => !metas.has(day)),
    province === undefined ? PROVINCES.length : 1,
  );
  const cellPrefix = province?.slice(0, 2) ?? '';
  const sources: StatsSources = { monthRollups: completeMonths.length, dayRollups: 0, bucketDays: 0 };

  const monthReads = await mapLimit(completeMonths, DAY_CONCURRENCY, async (month) => ({
    month,
    read: await store.readRollupCells(month, cellPrefix),
  }));
  const dayReads = await mapLimit(days, DAY_CONCURRENCY, async (day) => {
    const rolled = metas.has(day);
    if (rolled) sources.dayRollups += 1;
    else sources.bucketDays += 1;
    return {
      day,
      read: rolled ? await store.readRollupCells(day, cellPrefix) : await store.readDayCells(day, province),
    };
  });
  const periods: PeriodCells[] = [
    ...monthReads.map(({ month, read }) => ({ month, cells: read.cells })),
    ...dayReads.map(({ day, read }) => ({ month: monthOf(day), day, cells: read.cells })),
  ];
  const readCapacity = [...monthReads, ...dayReads].reduce(
    (sum, { read }) => sum + read.readCapacity,
    metaCapacity,
  );
  return { periods, sources, readCapacity };
}

/** Sort-key prefixes of the scopes a client may see in an assessment. */
function visibleScopePrefixes(client: AuthenticatedClient): string[] {
  if (client.kind === 'ministry') return ['nation', 'province#', 'region#', 'dept#'];
  if (client.kind !== 'region' || client.regionCode === undefined) {
    throw forbidden('assessment-out-of-scope', 'Only region and ministry clients read assessments.');
  }
  const province = provinceOf(client.regionCode);
  return ['nation', `province#${province}`, `region#${province.slice(0, 2)}`, `dept#${province}#`];
}

/** Only the evaluation counters (好差评) and the two rates made of them. */
const renderedEvaluations = (counters: RollupCounters) => {
  const { satisfactionRate, rectificationRate } = renderRates(ratesOf(counters));
  return {
    counters: Object.fromEntries(EVALUATION_COUNTERS.map((name) => [name, counters[name]])),
    rates: { satisfactionRate, rectificationRate },
  };
};

export function createStatsApi(deps: StatsApiDependencies) {
  /** The figures of a query, whichever of them a route renders: confined to the client's scope first. */
  async function figures(client: AuthenticatedClient, query: StatsQuery, log: HubLogger) {
    const region = scopedRegion(client, query.region);
    const { periods, sources, readCapacity } = await readRangeCells(deps.store(), { ...query, region });
    const grouped = groupCells(
      periods,
      { region, departmentCode: query.department, itemCode: query.item },
      query.groupBy,
    );
    log.info('statistics read', { ...sources, readCapacity });
    const frame = {
      from: query.from,
      to: query.to,
      groupBy: query.groupBy ?? null,
      filters: { region: region ?? null, department: query.department ?? null, item: query.item ?? null },
    };
    return { frame, grouped, sources };
  }

  const stats = httpHandler(
    {
      contract: STATS_ROUTES.stats,
      handle: async ({ query, client, logger: log }) => {
        const { frame, grouped, sources } = await figures(client, query, log);
        return {
          status: 200,
          body: {
            ...frame,
            total: rendered(grouped.total),
            groups: grouped.groups.map(({ key, counters }) => ({ key, ...rendered(counters) })),
            sources,
            rounding: ROUNDING_NOTE,
            notes: [RATES_NOTE],
          },
        };
      },
    },
    deps.http,
  );

  /**
   * The evaluation figures (满意率, 差评整改率) from the same buckets and rollups the assessment reads: one source
   * of truth, so these numbers are the assessment's. Evaluation ingest keeps votes and tickets, not counters.
   */
  const evaluationStats = httpHandler(
    {
      contract: STATS_ROUTES.evaluationStats,
      handle: async ({ query, client, logger: log }) => {
        const { frame, grouped, sources } = await figures(client, query, log);
        return {
          status: 200,
          body: {
            ...frame,
            total: renderedEvaluations(grouped.total),
            groups: grouped.groups.map(({ key, counters }) => ({ key, ...renderedEvaluations(counters) })),
            sources,
            rounding: ROUNDING_NOTE,
            notes: [RATES_NOTE],
          },
        };
      },
    },
    deps.http,
  );

  const assessment = httpHandler(
    {
      contract: STATS_ROUTES.assessment,
      handle: async ({ path, client }) => {
        const prefixes = visibleScopePrefixes(client);
        const store = deps.store();
        const meta = (await store.readRollupMetas([path.period])).metas.get(path.period);
        if (!meta) throw notFound('assessment-not-found', 'This period has not been rolled up yet.');
        const { scopes } = await store.readScopes(path.period, prefixes);
        return {
          status: 200,
          body: {
            period: meta.period,
            periodType: meta.periodType,
            generatedAt: meta.generatedAt,
            coverage: meta.coverage,
            snapshotKeys: meta.snapshotKeys,
            rounding: ROUNDING_NOTE,
            notes: [RATES_NOTE],
            scopes: scopes.map(toSnapshotScope),
          },
        };
      },
    },
    deps.http,
  );

  return { stats, evaluationStats, assessment };
}

const statsEnv = z.object({ STATS_TABLE: tableName, STATS_SHARDS: positiveInt(8) });

// Built on first use, so that importing the module (tests, synth) needs no environment.
async function buildDefaultApi(): Promise<ReturnType<typeof createStatsApi>> {
  const aws = dynamoDbClients();
  const config = loadConfig(statsEnv);
  const store = createRollupStore({
    doc: aws.documentClient,
    statsTable: config.STATS_TABLE,
    shards: config.STATS_SHARDS,
  });
  return createStatsApi({ store: () => store });
}

export const handler = routedHandler({ name: 'stats API', contracts: STATS_ROUTES, build: buildDefaultApi });
