import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCatalogue } from '../../functions/case-aggregate/catalogue-seed';
import type { RunningHub } from '../../infra/local/hub';
import type { ScheduleModel } from '../../infra/local/model';
import {
  generateAuthorityCode,
  generateImplementationCode,
  seededRandom,
} from '../../shared/identifiers/generate';
import { encodeQuery, signRequest } from '../../shared/signing';
import { buildCases, recordsOf, type ScenarioCase, type Status, shanghaiDay, shuffle } from './case-scenario';
import { hubClient } from './hub-client';
import { type E2eTarget, startTarget } from './support/target';

/**
 * Issue 4 end to end through one local hub: cases ingested through the signed API, the overdue sweep and the
 * daily rollup fired by the local scheduler, the scenario's months backfilled through the rollup function, and
 * then the statistics, assessments, snapshots and events equal a ground truth computed here from first
 * principles (working days, due days, overdue, rates) — not with the capability's domain code.
 */

/** Three provinces and a county of one of them, so region, province and department scopes differ. */
const REGIONS = ['330000', '330106', '440000', '110000'];
/** buildCases dates every status in August–September 2026; the backfill covers both months whole. */
const FIRST_DAY = '2026-08-01';
const LAST_DAY = '2026-09-30';
const MONTHS = ['2026-08', '2026-09'];
const HOUR_MS = 3_600_000;

/**
 * Addresses, outputs, S3 and draining come from the target (test/e2e/support/target.ts). Firing the schedules and
 * invoking the rollup function by its template key need the local hub's scheduler and function host: on another
 * target this file stops there with that message (LocalStack would need a Lambda client, not installed here).
 */
let target: E2eTarget;

beforeAll(async () => {
  target = await startTarget('e2e-assessment', { maxVisibilityTimeoutSeconds: 2 });
}, 180_000);

afterAll(async () => {
  await target?.stop();
});

function localHub(): RunningHub {
  if (!target.local) throw new Error('firing schedules and invoking functions by key needs the local hub');
  return target.local.hub;
}
const logs = () => target.local?.logs ?? [];

// ---------------------------------------------------------------------------------------------------------
// Ground truth, from first principles

const COUNTERS = [
  'received',
  'accepted',
  'rejected',
  'completed',
  'completedOnTime',
  'overdue',
  'online',
  'fullyOnline',
  'processingHours',
] as const;
type Counter = (typeof COUNTERS)[number];
type Counters = Record<Counter, number>;

/** One counted fact: `by` added to `counter` in the bucket of (day, region, department, item). */
interface Fact {
  day: string;
  regionCode: string;
  departmentCode: string;
  itemCode: string;
  counter: Counter;
  by: number;
}

const zero = (): Counters => Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Counters;
const provinceOf = (regionCode: string) => `${regionCode.slice(0, 2)}0000`;

/** Calendar arithmetic on `yyyy-mm-dd` in UTC, which is the same calendar as Asia/Shanghai days. */
const addDays = (day: string, days: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + days * 24 * HOUR_MS).toISOString().slice(0, 10);
const isWeekend = (day: string) => [0, 6].includes(new Date(`${day}T00:00:00Z`).getUTCDay());

/** The last day of a limit of `workingDays` that starts on `start` (which does not count); weekends off. */
function dueDay(start: string, workingDays: number): string {
  let day = start;
  for (let counted = 0; counted < workingDays; ) {
    day = addDays(day, 1);
    if (!isWeekend(day)) counted += 1;
  }
  return day;
}

/** The case's due day, and the day it counts overdue in when it was not closed by then. */
function dueOf(c: ScenarioCase): { due: string; overdueDay: string | null } {
  const first = c.timeline.reduce((a, b) => (a.at <= b.at ? a : b)).at;
  const accepted = c.timeline.find((t) => t.status === 'accepted')?.at;
  const due = dueDay(shanghaiDay(accepted ?? first), c.base.promisedDays);
  const closedInTime = c.timeline.some(
    (t) => ['completed', 'terminated', 'rejected'].includes(t.status) && shanghaiDay(t.at) <= due,
  );
  return { due, overdueDay: closedInTime ? null : addDays(due, 1) };
}

/** Everything the hub should count for one case, with the sweep run after every due day. */
function factsOf(c: ScenarioCase): Fact[] {
  const facts: Fact[] = [];
  const add = (at: Date | string, counter: Counter, by = 1) => {
    const day = typeof at === 'string' ? at : shanghaiDay(at);
    facts.push({ day, ...dimensionsOf(c), counter, by });
  };
  const at = (status: Status) => c.timeline.find((t) => t.status === status)?.at;
  const first = c.timeline.reduce((a, b) => (a.at <= b.at ? a : b)).at;
  add(first, 'received');
  if (c.base.channel === 'online' || c.base.channel === 'mobile') add(first, 'online');
  if (c.base.fullyOnline) add(first, 'fullyOnline');
  for (const status of ['accepted', 'rejected', 'completed'] as const) {
    const when = at(status);
    if (when) add(when, status);
  }
  const accepted = at('accepted');
  const completed = at('completed');
  const { due, overdueDay } = dueOf(c);
  if (completed && shanghaiDay(completed) <= due) add(completed, 'completedOnTime');
  if (completed && accepted)
    add(completed, 'processingHours', (completed.getTime() - accepted.getTime()) / HOUR_MS);
  if (overdueDay) add(overdueDay, 'overdue');
  return facts;
}

const dimensionsOf = (c: ScenarioCase) => ({
  regionCode: c.base.regionCode,
  departmentCode: c.base.departmentCode,
  itemCode: c.base.itemCode,
});

/** Totals of the facts per key; keys whose counters are all zero are left out (a bucket is no fact). */
function totalsBy(facts: readonly Fact[], keyOf: (fact: Fact) => string): Map<string, Counters> {
  const totals = new Map<string, Counters>();
  for (const fact of facts) {
    const key = keyOf(fact);
    const counters = totals.get(key) ?? zero();
    counters[fact.counter] += fact.by;
    totals.set(key, counters);
  }
  return totals;
}

/** Half-up rounding of numerator / denominator to two decimals, in whole numbers. */
const roundHalfUp = (numerator: number, denominator: number) =>
  Math.floor((2 * numerator * 100 + denominator) / (2 * denominator)) / 100;
const rate = (numerator: number, denominator: number, scale = 100) =>
  denominator === 0 ? null : { numerator, denominator, value: roundHalfUp(numerator * scale, denominator) };

/** The rates as the issue defines them: 按时办结率, 全程网办率, 网上办理率, average processing hours. */
function expectedRates(c: Counters) {
  const centihours = Math.round(c.processingHours * 100);
  return {
    onTimeCompletionRate: rate(c.completedOnTime, c.completed),
    fullyOnlineRate: rate(c.fullyOnline, c.received),
    onlineRate: rate(c.online, c.received),
    averageProcessingHours:
      c.completed === 0
        ? null
        : {
            numerator: centihours / 100,
            denominator: c.completed,
            value: roundHalfUp(centihours, c.completed * 100),
          },
    satisfactionRate: null,
    rectificationRate: null,
  };
}

interface Rendered {
  counters: Counters;
  rates: ReturnType<typeof expectedRates>;
}
const rendered = (counters: Counters): Rendered => ({ counters, rates: expectedRates(counters) });
const nonZero = (entries: Iterable<[string, Rendered]>) =>
  new Map([...entries].filter(([, r]) => COUNTERS.some((c) => r.counters[c] !== 0)));

// ---------------------------------------------------------------------------------------------------------
// Hub access

const output = (key: string): string => {
  return target.output('private', key);
};

const devClients = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../infra/local/clients.dev.json'), 'utf8'),
) as { clients: { clientId: string; accessKeyId: string; secret: string }[] };

/** A signed call with a query string or a PUT body, which the shared hub-client does not offer. */
async function call(
  clientId: string,
  method: 'GET' | 'PUT',
  path: string,
  options: { query?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const client = devClients.clients.find((c) => c.clientId === clientId);
  if (!client) throw new Error(`no dev client ${clientId}`);
  const raw = options.body === undefined ? '' : JSON.stringify(options.body);
  const headers = signRequest({
    method,
    path,
    query: options.query,
    body: raw,
    accessKeyId: client.accessKeyId,
    secret: client.secret,
  });
  const query = options.query ? `?${encodeQuery(options.query)}` : '';
  const response = await fetch(`${target.apiUrl}${path}${query}`, {
    method,
    headers: { ...headers, ...(raw ? { 'content-type': 'application/json' } : {}) },
    ...(raw ? { body: raw } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const scheduleTargeting = (functionLogicalId: string): ScheduleModel => {
  const schedule = localHub().model.schedules.find(
    (s) => s.target.kind === 'function' && s.target.functionKey.includes(functionLogicalId),
  );
  if (!schedule) throw new Error(`no schedule targets ${functionLogicalId}`);
  return schedule;
};

const deliveryFailures = () => logs().filter((line) => /target delivery (failed|lost)/.test(line));

interface PublishedEvent {
  'detail-type': string;
  source: string;
  detail: { period: string; periodType: string; snapshotKeys: { json: string; csv: string }; scopes: number };
}
async function assessmentEvents(): Promise<PublishedEvent[]> {
  const stateDir = target.local?.stateDir;
  if (!stateDir) throw new Error('the bus event log is the local hub’s');
  const text = await readFile(join(stateDir, 'logs', 'events.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as PublishedEvent)
    .filter((event) => event['detail-type'] === 'AssessmentPublished');
}

// ---------------------------------------------------------------------------------------------------------

describe('case aggregation complete, end to end through the local hub', () => {
  const random = seededRandom(20261122);
  const cases = buildCases(random, REGIONS, 120);
  const facts = cases.flatMap(factsOf);
  const shanghaiNow = () => shanghaiDay(new Date());

  it('seeds the catalogue on start and serves PUT / GET /v1/items/{code}', async () => {
    const seeded = generateCatalogue()[0];
    if (!seeded) throw new Error('empty synthetic catalogue');
    const stored = await call('region-440000', 'GET', `/v1/items/${seeded.implementationCode}`);
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ ...seeded, updatedBy: 'local-seed' });

    const itemRandom = seededRandom(4);
    const departmentCode = generateAuthorityCode(itemRandom, '330106');
    const code = generateImplementationCode(itemRandom, departmentCode);
    const item = {
      name: '个体工商户登记',
      departmentCode,
      regionCode: '330106',
      promisedDays: 3,
      statutoryDays: 15,
      fullyOnlineCapable: true,
    };
    const created = await call('region-330000', 'PUT', `/v1/items/${code.toLowerCase()}`, { body: item });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ implementationCode: code, ...item, updatedBy: 'region-330000' });
    const replaced = await call('region-330000', 'PUT', `/v1/items/${code}`, {
      body: { ...item, promisedDays: 2 },
    });
    expect(replaced.status).toBe(200);
    // Another province may read the catalogue, not write this province's items.
    const read = await call('region-440000', 'GET', `/v1/items/${code}`);
    expect(read).toMatchObject({ status: 200, body: { implementationCode: code, promisedDays: 2 } });
    const foreign = await call('region-440000', 'PUT', `/v1/items/${code}`, { body: item });
    expect(foreign).toMatchObject({
      status: 403,
      body: { type: expect.stringContaining('item-out-of-scope') },
    });
    const unknown = await call('region-440000', 'GET', `/v1/items/${generateImplementationCode(itemRandom)}`);
    expect(unknown.status).toBe(404);
  }, 60_000);

  it('counts ingested cases, the overdue sweep and the rollups exactly as the ground truth', async () => {
    // The scenario lies inside the two backfilled months, and every due day has ended.
    const days = facts.map((f) => f.day).sort();
    expect(
      [days[0], days.at(-1)].every((day) => day !== undefined && day >= FIRST_DAY && day <= LAST_DAY),
    ).toBe(true);
    expect(facts.filter((f) => f.counter === 'overdue').length).toBeGreaterThan(0);
    expect(facts.filter((f) => f.counter === 'completedOnTime').length).toBeGreaterThan(0);

    // Every status change once or twice, shuffled, through the province's own platform.
    const deliveries = shuffle(
      random,
      cases.flatMap((c) => recordsOf(c).flatMap((r) => (random() < 0.3 ? [r, r] : [r]))),
    );
    for (const province of new Set(REGIONS.map(provinceOf))) {
      const client = hubClient(target.apiUrl, `region-${province}`);
      const mine = deliveries.filter((r) => provinceOf(r.regionCode) === province);
      for (let i = 0; i < mine.length; i += 200) {
        const response = await client.post('/v1/cases:batch', { records: mine.slice(i, i + 200) });
        expect(response.status).toBe(202);
        expect(await response.json()).toMatchObject({
          accepted: Math.min(200, mine.length - i),
          rejected: [],
        });
      }
    }
    await target.drained({ timeoutMs: 120_000 });

    // The sweep, fired by the local scheduler with the schedule's own input ({}: yesterday, Asia/Shanghai).
    const sweep = scheduleTargeting('OverdueSweepFunction');
    expect(sweep).toMatchObject({ expression: 'cron(30 0 * * ? *)', timezone: 'Asia/Shanghai' });
    await localHub().scheduler.fire(sweep.key);
    expect(deliveryFailures()).toEqual([]);
    // Each case shows its due day, and the day it counts overdue in once the sweep has counted it.
    for (const c of cases) {
      const shown = await call('ministry-mps', 'GET', `/v1/cases/${encodeURIComponent(c.caseId)}`);
      const { due, overdueDay } = dueOf(c);
      expect(shown.body, c.caseId).toMatchObject({ dueDay: due, overdueDay });
    }

    // Before any rollup a province's statistics come from its buckets, day by day.
    const province = '330000';
    const inProvince = facts.filter((f) => provinceOf(f.regionCode) === province);
    const fromBuckets = await call(`region-${province}`, 'GET', '/v1/stats', {
      query: { from: FIRST_DAY, to: LAST_DAY, groupBy: 'day' },
    });
    expect(fromBuckets.status).toBe(200);
    expect(fromBuckets.body.sources).toEqual({ monthRollups: 0, dayRollups: 0, bucketDays: 61 });
    expectGroups(
      fromBuckets.body,
      totalsBy(inProvince, (f) => f.day),
    );
    expectTotal(fromBuckets.body, inProvince);

    // The daily rollup, fired by the local scheduler: yesterday and its month, from the schedule's input.
    const rollup = scheduleTargeting('RollupFunction');
    expect(rollup).toMatchObject({ expression: 'cron(0 1 * * ? *)', timezone: 'Asia/Shanghai' });
    const yesterdays = new Set([addDays(shanghaiNow(), -1)]);
    await localHub().scheduler.fire(rollup.key);
    yesterdays.add(addDays(shanghaiNow(), -1));
    expect(deliveryFailures()).toEqual([]);

    // The scheduler cannot pass another input: the scenario's months are backfilled by invoking the schedule's
    // target function with the input an operator would give it, { from, to }.
    if (rollup.target.kind !== 'function') throw new Error('rollup schedule does not target a function');
    const backfill = (await localHub().host.invoke(rollup.target.functionKey, {
      from: FIRST_DAY,
      to: LAST_DAY,
    })) as {
      periods: { period: string }[];
    };
    expect(backfill.periods.map((p) => p.period)).toEqual([
      ...Array.from({ length: 61 }, (_, i) => addDays(FIRST_DAY, i)),
      ...MONTHS,
    ]);
    await target.drained();

    // Month assessments: every scope equals the ground truth (a ministry sees them all).
    for (const month of MONTHS) {
      const assessment = await call('ministry-mps', 'GET', `/v1/assessments/${month}`);
      expect(assessment.status).toBe(200);
      expect(assessment.body).toMatchObject({
        period: month,
        periodType: 'month',
        coverage: { days: month === '2026-08' ? 31 : 30, daysInPeriod: month === '2026-08' ? 31 : 30 },
        snapshotKeys: { json: `assessments/${month}.json`, csv: `assessments/${month}.csv` },
      });
      expectScopes(
        assessment.body.scopes,
        facts.filter((f) => f.day.startsWith(month)),
      );
    }
    // A day assessment too, and a region client sees the nation and its own province only.
    const busiest =
      [...totalsBy(facts, (f) => f.day)].sort((a, b) => b[1].received - a[1].received)[0]?.[0] ?? '';
    const day = await call('ministry-mps', 'GET', `/v1/assessments/${busiest}`);
    expect(day).toMatchObject({ status: 200, body: { period: busiest, periodType: 'day' } });
    expectScopes(
      day.body.scopes,
      facts.filter((f) => f.day === busiest),
    );
    const own = await call('region-440000', 'GET', `/v1/assessments/${MONTHS[0]}`);
    const ownScopes = (own.body.scopes as { scope: string; province?: string }[]).filter(
      (s) => s.scope !== 'nation',
    );
    expect(ownScopes.length).toBeGreaterThan(0);
    expect(ownScopes.every((s) => s.province === '440000')).toBe(true);

    // After the backfill, statistics over the whole months come from the month rollups.
    const national = await call('ministry-mps', 'GET', '/v1/stats', {
      query: { from: FIRST_DAY, to: LAST_DAY, groupBy: 'province' },
    });
    expect(national.status).toBe(200);
    expect(national.body.sources).toEqual({ monthRollups: 2, dayRollups: 0, bucketDays: 0 });
    expectGroups(
      national.body,
      totalsBy(facts, (f) => provinceOf(f.regionCode)),
    );
    expectTotal(national.body, facts);
    const byItem = await call(`region-${province}`, 'GET', '/v1/stats', {
      query: { from: FIRST_DAY, to: '2026-08-31', region: '330106', groupBy: 'item' },
    });
    expect(byItem.status).toBe(200);
    const county = inProvince.filter((f) => f.regionCode === '330106' && f.day <= '2026-08-31');
    expectGroups(
      byItem.body,
      totalsBy(county, (f) => f.itemCode),
    );

    // The scheduled run published yesterday's assessment (no scenario case falls on it).
    const events = await assessmentEvents();
    const scheduledDay = events.find((e) => e.detail.periodType === 'day' && yesterdays.has(e.detail.period));
    if (!scheduledDay) throw new Error(`no AssessmentPublished for ${[...yesterdays].join(' or ')}`);
    const yesterday = scheduledDay.detail.period;
    expect(scheduledDay).toMatchObject({
      source: 'zwfw.case-aggregate',
      detail: {
        snapshotKeys: { json: `assessments/${yesterday}.json`, csv: `assessments/${yesterday}.csv` },
      },
    });
    expect(
      events.some((e) => e.detail.period === yesterday.slice(0, 7) && e.detail.periodType === 'month'),
    ).toBe(true);
    expect((await call('region-330000', 'GET', `/v1/assessments/${yesterday}`)).status).toBe(200);
    // And the backfill one event per period.
    for (const period of [FIRST_DAY, LAST_DAY, ...MONTHS]) {
      expect(events.filter((e) => e.detail.period === period)).toHaveLength(1);
    }

    // Snapshots: JSON and CSV of every period in the local S3 bucket, the JSON equal to the assessment.
    const s3 = new S3Client(target.aws('s3'));
    try {
      const bucket = output('AssessmentsBucketName');
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: 'assessments/', ContinuationToken: token }),
        );
        keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
        token = page.NextContinuationToken;
      } while (token);
      for (const period of [...MONTHS, FIRST_DAY, busiest, yesterday]) {
        expect(keys).toContain(`assessments/${period}.json`);
        expect(keys).toContain(`assessments/${period}.csv`);
      }
      const text = async (key: string) =>
        (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString('utf-8');
      const snapshot = JSON.parse((await text('assessments/2026-08.json')) ?? '{}') as Record<
        string,
        unknown
      >;
      expect(snapshot).toMatchObject({ period: '2026-08', periodType: 'month' });
      expectScopes(
        snapshot.scopes,
        facts.filter((f) => f.day.startsWith('2026-08')),
      );
      const csv = (await text('assessments/2026-08.csv')) ?? '';
      const rows = csv
        .replace(/^\uFEFF/, '')
        .split('\r\n')
        .filter(Boolean);
      expect(
        rows[0]?.startsWith('period,scope,level,province,provinceName,regionCode,departmentCode,received'),
      ).toBe(true);
      expect(rows).toHaveLength((snapshot.scopes as unknown[]).length + 1);
      const nationRow = rows.find((row) => row.startsWith('2026-08,nation,'))?.split(',');
      const nation =
        totalsBy(
          facts.filter((f) => f.day.startsWith('2026-08')),
          () => 'nation',
        ).get('nation') ?? zero();
      expect(nationRow?.slice(7, 16).map(Number)).toEqual(COUNTERS.map((c) => nation[c]));
    } finally {
      s3.destroy();
    }
  }, 600_000);

  it('never writes an ID number or a name in clear to the logs', () => {
    const text = logs().join('\n');
    for (const c of cases) {
      expect(text).not.toContain(c.base.applicant.idNumber);
      expect(text).not.toContain(`"${c.base.applicant.name}"`);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Comparisons

const round2 = (value: number) => Math.round(value * 100) / 100;
/** This test sends no evaluation: the hub reports its evaluation counters as 0. */
const NO_EVALUATIONS = {
  evaluations: 0,
  satisfied: 0,
  flagged: 0,
  badReviews: 0,
  rectified: 0,
  dismissed: 0,
};
const normalise = (counters: Counters): Counters => ({
  ...counters,
  ...NO_EVALUATIONS,
  processingHours: round2(counters.processingHours),
});

/** `groups` of a /v1/stats answer, all-zero groups dropped, against the expected totals per key. */
function expectGroups(body: Record<string, unknown>, expected: Map<string, Counters>): void {
  const groups = body.groups as ({ key: string } & Rendered)[];
  const actual = nonZero(groups.map(({ key, counters, rates }) => [key, { counters, rates }]));
  const wanted = nonZero([...expected].map(([key, counters]) => [key, rendered(normalise(counters))]));
  expect(new Map([...actual].sort(([a], [b]) => a.localeCompare(b)))).toEqual(
    new Map([...wanted].sort(([a], [b]) => a.localeCompare(b))),
  );
}

function expectTotal(body: Record<string, unknown>, facts: readonly Fact[]): void {
  const total = totalsBy(facts, () => 'total').get('total') ?? zero();
  expect(body.total).toEqual(rendered(normalise(total)));
}

/** Assessment scopes (nation, provinces, regions, departments within a province) against the facts. */
function expectScopes(scopes: unknown, facts: readonly Fact[]): void {
  const list = scopes as ({ scope: string } & Rendered)[];
  const actual = nonZero(list.map(({ scope, counters, rates }) => [scope, { counters, rates }]));
  const expected = new Map<string, Counters>();
  const merge = (key: string, from: Map<string, Counters>) => {
    for (const [k, counters] of from) expected.set(key.replace('*', k), counters);
  };
  merge(
    'nation',
    totalsBy(facts, () => ''),
  );
  merge(
    'province#*',
    totalsBy(facts, (f) => provinceOf(f.regionCode)),
  );
  merge(
    'region#*',
    totalsBy(facts, (f) => f.regionCode),
  );
  merge(
    'dept#*',
    totalsBy(facts, (f) => `${provinceOf(f.regionCode)}#${f.departmentCode}`),
  );
  const wanted = nonZero([...expected].map(([key, counters]) => [key, rendered(normalise(counters))]));
  expect(new Map([...actual].sort(([a], [b]) => a.localeCompare(b)))).toEqual(
    new Map([...wanted].sort(([a], [b]) => a.localeCompare(b))),
  );
}
