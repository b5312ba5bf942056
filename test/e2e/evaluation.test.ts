import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PERSONS } from '../../functions/auth-verify/registry-seed';
import { type RunningHub, startHub } from '../../infra/local/hub';
import { generateCitizenId, seededRandom } from '../../shared/identifiers/generate';
import { encodeQuery } from '../../shared/signing';
import { buildCases, recordsOf, type ScenarioCase, shanghaiDay, toShanghaiIso } from './case-scenario';
import { sharedAssembly } from './support/assembly';
import { type DevClient, devClient } from './support/dev-clients';
import { signInThroughHub } from './support/sign-in';
import { postJson, sendSigned } from './support/signed-fetch';

/**
 * Issue 5's acceptance end to end on the local hub: cases reach evaluation ingest through the bus rule; platforms
 * push evaluations; a bad review opens a ticket that is verified, rectified and revisited; a second one goes
 * overdue when the sweep runs on the day after its deadline (the sweep's clock is its `day` input, which this hub
 * may set into the future through SWEEP_MAX_DAYS_AHEAD); an appealed one is dismissed and the day's satisfaction
 * rate in the next rollup changes as the ground truth computed here says; an evaluation whose case arrives late
 * waits and is counted, one whose case never arrives is rejected after CASE_WAIT_SECONDS with its reason readable
 * by its platform; a burst of 50 identical 5-star ratings from one source is flagged; duplicates and replays change
 * no count; the person reads their own evaluations in the user space.
 */

const REGION = '330000';
/** Short waits for this hub (deployed default 86400 / 900 s), set as a stage would set them. */
const CASE_WAIT_SECONDS = 30;
const FUNCTION_ENVIRONMENT = {
  CASE_WAIT_SECONDS: String(CASE_WAIT_SECONDS),
  CASE_RECHECK_SECONDS: '2',
  SWEEP_MAX_DAYS_AHEAD: '60',
};
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let hub: RunningHub;
let stateDir: string;
const logs: string[] = [];

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'zwfw-evaluation-e2e-'));
  hub = await startHub({
    ...(await sharedAssembly()),
    port: 0,
    stateDir,
    // A failed message comes back after 2 s instead of the deployed 181 s.
    maxVisibilityTimeoutSeconds: 2,
    functionEnvironment: FUNCTION_ENVIRONMENT,
    log: (line) => void logs.push(line),
  });
}, 300_000);

afterAll(async () => {
  await hub?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

const platform = () => devClient(`region-${REGION}`);
const ministry = () => devClient('ministry-mps');

interface BusEvent {
  id: string;
  eventBusName: string;
  'detail-type': string;
  detail: Record<string, unknown>;
}
/** The private bus's events, from the local EventBridge's log (which lists every bus an event is put on). */
const eventsOnTheBus = (): BusEvent[] => {
  const file = join(stateDir, 'logs', 'events.jsonl');
  if (!existsSync(file)) return [];
  const privateBus = hub.outputs['zwfw-dev-private']?.EventBusName;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as BusEvent)
    .filter((event) => event.eventBusName === privateBus);
};
const eventsOf = (detailType: string) => eventsOnTheBus().filter((e) => e['detail-type'] === detailType);
/**
 * Events are at least once: a consumer batch that is redelivered (a slow invocation on a busy machine) announces
 * again under new event ids. Assertions count facts — one per evaluation, transition or overdue mark.
 */
const detailsOf = (detailType: string, factKey: (detail: Record<string, unknown>) => unknown) => [
  ...new Map(eventsOf(detailType).map((e) => [String(factKey(e.detail)), e.detail])).values(),
];

interface Ticket {
  evaluationId: string;
  caseId: string;
  status: string;
  level: number;
  deadlines: { verify: { dueDay: string } };
}
interface BatchReply {
  batchId: string;
  accepted: number;
  rejected: { index: number; reason: string; errors?: { path: string; message: string }[] }[];
}

/** A signed GET; the query encoded as every client must encode it. */
async function get(
  client: DevClient,
  path: string,
  query: Record<string, string> = {},
  headers: Record<string, string> = {},
) {
  const response = await sendSigned(
    hub.port,
    client,
    { method: 'GET', path, query: encodeQuery(query) },
    { headers },
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function listTickets(query: Record<string, string>, client = platform()) {
  const response = await get(client, '/v1/rectifications', query);
  expect(response.status).toBe(200);
  return response.body as unknown as { items: Ticket[]; cursor?: string };
}

async function transition(evaluationId: string, body: Record<string, unknown>, key?: string) {
  const response = await postJson(
    hub.port,
    platform(),
    `/v1/rectifications/${evaluationId}/transitions`,
    body,
    key ? { 'Idempotency-Key': key } : {},
  );
  return { status: response.status, body: (await response.json()) as Ticket & { type?: string } };
}

async function pushEvaluations(client: DevClient, records: unknown[]): Promise<BatchReply> {
  const response = await postJson(hub.port, client, '/v1/evaluations:batch', { records });
  expect(response.status).toBe(202);
  return (await response.json()) as BatchReply;
}

const functionKey = (name: string): string => {
  const fn = hub.model.functions.find((f) => f.key.includes(name));
  if (!fn) throw new Error(`no ${name} in the local hub`);
  return fn.key;
};

const completionOf = (c: ScenarioCase) => c.timeline.find((t) => t.status === 'completed')?.at as Date;

/** An evaluation of a completed case, an hour after completion, by the applicant unless told otherwise. */
function evaluationOf(c: ScenarioCase, level: number, overrides: Record<string, unknown> = {}) {
  return {
    regionCode: c.base.regionCode,
    caseNumber: c.base.caseNumber,
    level,
    channel: 'window',
    stage: 'completed',
    evaluator: { type: 'person', idType: 'citizen_id', idNumber: c.base.applicant.idNumber },
    evaluatedAt: toShanghaiIso(new Date(completionOf(c).getTime() + HOUR)),
    ...overrides,
  };
}
const personEvaluator = (idNumber: string) => ({ type: 'person', idType: 'citizen_id', idNumber });

/** The same ID number with another check character: a typo the hub must refuse. */
function withWrongCheckCharacter(idNumber: string): string {
  const last = idNumber.slice(-1);
  const wrong = last === 'X' ? '0' : String((Number(last) + 1) % 10);
  return `${idNumber.slice(0, -1)}${wrong}`;
}

/** Calendar arithmetic on `yyyy-mm-dd` (UTC days are the same calendar as Asia/Shanghai days). */
const addDays = (day: string, days: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
const today = () => shanghaiDay(new Date());

// ---- Ground truth: every vote the hub should count, from what this test sent ----------------------------------

interface CountedVote {
  caseId: string;
  day: string;
  level: number;
}
const counted: CountedVote[] = [];
const countVote = (c: ScenarioCase, record: { level: number; evaluatedAt: string }) =>
  counted.push({ caseId: c.caseId, day: shanghaiDay(new Date(record.evaluatedAt)), level: record.level });

/** 满意率 of a day: votes at level 3 or better among the counted ones, dismissed ones left out. */
function expectedSatisfaction(day: string, dismissedCaseIds: readonly string[]) {
  const votes = counted.filter((v) => v.day === day && !dismissedCaseIds.includes(v.caseId));
  const satisfied = votes.filter((v) => v.level >= 3).length;
  return votes.length === 0 ? null : { numerator: satisfied, denominator: votes.length };
}

interface AssessmentScope {
  scope: string;
  counters: Record<string, number>;
  rates: { satisfactionRate: { numerator: number; denominator: number; value: number } | null };
}

/** Rolls the day up through the local hub's rollup function (as the CLI's backfill does) and reads the nation. */
async function rollUpAndRead(day: string): Promise<AssessmentScope> {
  const rolled = (await hub.host.invoke(functionKey('RollupFunction'), { from: day, to: day })) as {
    periods: { period: string }[];
  };
  expect(rolled.periods.map((p) => p.period)).toEqual([day, day.slice(0, 7)]);
  const assessment = await get(platform(), `/v1/assessments/${day}`);
  expect(assessment.status).toBe(200);
  const nation = (assessment.body.scopes as AssessmentScope[]).find((s) => s.scope === 'nation');
  if (!nation) throw new Error(`no nation scope in the assessment of ${day}`);
  return nation;
}

const EVALUATION_COUNTERS = [
  'evaluations',
  'satisfied',
  'flagged',
  'badReviews',
  'rectified',
  'dismissed',
] as const;
type EvaluationTotals = Record<(typeof EVALUATION_COUNTERS)[number], number>;
/** The province's evaluation counters over the days this scenario's votes fall on (read from the buckets). */
async function evaluationTotals(): Promise<EvaluationTotals> {
  const days = counted.map((v) => v.day).sort();
  const range = { from: days[0] ?? today(), to: days.at(-1) ?? today() };
  const stats = await get(platform(), '/v1/stats', range);
  expect(stats.status).toBe(200);
  const counters = (stats.body.total as { counters: Record<string, number> }).counters;
  return Object.fromEntries(
    EVALUATION_COUNTERS.map((name) => [name, counters[name] ?? 0]),
  ) as EvaluationTotals;
}

// ---- The scenario ---------------------------------------------------------------------------------------------

describe('evaluations and rectification, end to end through the local hub', () => {
  const cases = buildCases(seededRandom(20261122), [REGION], 40).filter((c) =>
    c.timeline.some((t) => t.status === 'completed'),
  );
  const [rectified, overdue, appealed, good, byApp, mine, burstCase, late] = cases as ScenarioCase[] as [
    ScenarioCase,
    ScenarioCase,
    ScenarioCase,
    ScenarioCase,
    ScenarioCase,
    ScenarioCase,
    ScenarioCase,
    ScenarioCase,
  ];
  const batch = [
    evaluationOf(rectified, 2),
    evaluationOf(overdue, 1),
    evaluationOf(appealed, 2),
    evaluationOf(good, 5),
  ];
  const badRecords = [
    evaluationOf(good, 0),
    evaluationOf(good, 6),
    evaluationOf(good, 4, { channel: 'fax' }),
    evaluationOf(good, 4, {
      evaluator: personEvaluator(withWrongCheckCharacter(good.base.applicant.idNumber)),
    }),
  ];
  const burstRandom = seededRandom(50);
  const burstEvaluators = Array.from({ length: 50 }, () =>
    generateCitizenId(burstRandom, { regionCode: '330102' }),
  );
  // One platform re-pushing 5 (非常满意) for 50 people at once: the abuse GB/T 39734 warns of.
  const burst = burstEvaluators.map((idNumber) =>
    evaluationOf(burstCase, 5, { evaluator: personEvaluator(idNumber) }),
  );
  const demoPerson = DEMO_PERSONS[0] as { idNumber: string; name: string };
  const otherPerson = DEMO_PERSONS[1] as { idNumber: string; name: string };
  const lateEvaluation = evaluationOf(late, 4);
  const neverCase = { ...evaluationOf(late, 4), caseNumber: 'E2E-NEVER-PUSHED-0001' };
  const ticketOf = new Map<string, string>();
  let appealDay = '';

  it('learns the cases from CaseStatusChanged through the bus rule', async () => {
    expect(cases.length).toBeGreaterThanOrEqual(8);
    const response = await postJson(hub.port, platform(), '/v1/cases:batch', {
      records: [rectified, overdue, appealed, good, byApp, mine, burstCase].flatMap(recordsOf),
    });
    expect(response.status).toBe(202);
    await hub.drained({ timeoutMs: 120_000 });
    expect(eventsOf('CaseStatusChanged').length).toBeGreaterThan(0);
  }, 180_000);

  it('accepts the valid records, rejects each bad one with its reason and never answers 5xx', async () => {
    const reply = await pushEvaluations(platform(), [...batch, ...badRecords]);
    expect(reply.accepted).toBe(batch.length);
    expect(reply.rejected.map((r) => [r.index, r.reason])).toEqual(
      badRecords.map((_, i) => [batch.length + i, 'invalid_record']),
    );
    const paths = reply.rejected.map((r) => (r.errors ?? []).map((e) => e.path).join(','));
    expect(paths[0]).toContain('level');
    expect(paths[1]).toContain('level');
    expect(paths[2]).toContain('channel');
    expect(paths[3]).toContain('idNumber');
    for (const [i, c] of [rectified, overdue, appealed, good].entries()) {
      countVote(c, batch[i] as (typeof batch)[0]);
    }
    // A record of another province is out of the platform's scope; an empty envelope is a problem.
    const foreign = await pushEvaluations(devClient('region-440000'), [evaluationOf(good, 4)]);
    expect(foreign.rejected).toEqual([{ index: 0, reason: 'out_of_scope' }]);
    const empty = await postJson(hub.port, platform(), '/v1/evaluations:batch', { records: [] });
    expect(empty.status).toBe(422);

    await hub.drained({ timeoutMs: 120_000 });
    const received = detailsOf('EvaluationReceived', (d) => d.evaluationId);
    expect(received.map((d) => [d.caseId, d.level, d.isReview]).sort()).toEqual(
      [
        [rectified.caseId, 2, false],
        [overdue.caseId, 1, false],
        [appealed.caseId, 2, false],
        [good.caseId, 5, false],
      ].sort(),
    );
    const opened = detailsOf('BadReviewOpened', (d) => d.evaluationId);
    expect(opened.map((d) => d.caseId).sort()).toEqual(
      [rectified.caseId, overdue.caseId, appealed.caseId].sort(),
    );
    for (const detail of opened) ticketOf.set(String(detail.caseId), String(detail.evaluationId));
  }, 180_000);

  it('opens one ticket per bad review; the list filters, pages and shows a region only its province', async () => {
    const open = await listTickets({ status: 'open' });
    expect(open.items.map((t) => [t.caseId, t.evaluationId, t.status]).sort()).toEqual(
      [rectified, overdue, appealed].map((c) => [c.caseId, ticketOf.get(c.caseId), 'open']).sort(),
    );
    const first = await listTickets({ region: REGION, overdue: 'false', limit: '2' });
    expect(first.items).toHaveLength(2);
    const rest = await listTickets({
      region: REGION,
      overdue: 'false',
      limit: '2',
      cursor: first.cursor as string,
    });
    expect(rest.cursor).toBeUndefined();
    expect([...first.items, ...rest.items].map((t) => t.evaluationId).sort()).toEqual(
      [...ticketOf.values()].sort(),
    );
    expect((await listTickets({ overdue: 'true' })).items).toEqual([]);
    expect((await listTickets({ status: 'verified' })).items).toEqual([]);
    // The nation for a ministry; another province's platform sees none of them and may not ask for them.
    expect((await listTickets({}, ministry())).items).toHaveLength(3);
    const guangdong = devClient('region-440000');
    expect((await listTickets({}, guangdong)).items).toEqual([]);
    expect((await get(guangdong, '/v1/rectifications', { region: REGION })).status).toBe(403);
    const foreign = await postJson(
      hub.port,
      guangdong,
      `/v1/rectifications/${ticketOf.get(rectified.caseId)}/transitions`,
      { to: 'verified' },
    );
    expect(foreign.status).toBe(404);
  });

  it('moves a ticket open → verified → rectified → revisited, refusing other moves', async () => {
    const id = ticketOf.get(rectified.caseId) as string;
    const skip = await transition(id, { to: 'rectified' });
    expect(skip.status).toBe(409);
    expect(skip.body.type).toContain('rectification-transition-not-allowed');
    expect((await transition(id, { to: 'verified', note: '已核实' }, `verify-${id}`)).body.status).toBe(
      'verified',
    );
    expect((await transition(id, { to: 'rectified' })).body.status).toBe('rectified');
    const revisited = await transition(id, { to: 'revisited', reached: true, satisfaction: 'satisfied' });
    expect(revisited).toMatchObject({ status: 200, body: { status: 'revisited' } });
    // The first transition again with its Idempotency-Key: the stored answer, nothing moves.
    const replay = await transition(id, { to: 'verified', note: '已核实' }, `verify-${id}`);
    expect(replay).toMatchObject({ status: 200, body: { status: 'verified' } });
    expect((await listTickets({ status: 'revisited' })).items.map((t) => t.evaluationId)).toEqual([id]);
    await hub.drained();
    const moves = detailsOf('RectificationTransitioned', (d) => d.transitionId).filter(
      (d) => d.evaluationId === id,
    );
    expect(moves.map((d) => d.to)).toEqual(['verified', 'rectified', 'revisited']);
  });

  it('dismisses an appealed review, and the next rollup of its day leaves it out of the satisfaction rate', async () => {
    appealDay = shanghaiDay(new Date(evaluationOf(appealed, 2).evaluatedAt));
    const before = await rollUpAndRead(appealDay);
    const expectedBefore = expectedSatisfaction(appealDay, []);
    if (expectedBefore === null) throw new Error('the appealed vote itself is on that day');
    expect(before.rates.satisfactionRate).toMatchObject(expectedBefore);
    expect(before.counters).toMatchObject({ evaluations: expectedBefore.denominator, dismissed: 0 });

    const id = ticketOf.get(appealed.caseId) as string;
    expect((await transition(id, { to: 'appealed' })).body.status).toBe('appealed');
    const dismissed = await transition(id, { to: 'dismissed', finding: 'mistaken' });
    expect(dismissed).toMatchObject({ status: 200, body: { status: 'dismissed' } });
    expect((await transition(id, { to: 'verified' })).status).toBe(409);
    await hub.drained();

    const after = await rollUpAndRead(appealDay);
    const expectedAfter = expectedSatisfaction(appealDay, [appealed.caseId]);
    expect(after.counters).toMatchObject({
      evaluations: expectedBefore.denominator - 1,
      dismissed: 1,
      badReviews: (before.counters.badReviews ?? 0) - 1,
    });
    if (expectedAfter === null) expect(after.rates.satisfactionRate).toBeNull();
    else expect(after.rates.satisfactionRate).toMatchObject(expectedAfter);
    expect(after.rates.satisfactionRate).not.toEqual(before.rates.satisfactionRate);
  }, 120_000);

  it('marks a missed verification overdue once when the sweep runs on the day after its deadline', async () => {
    const id = ticketOf.get(overdue.caseId) as string;
    const sweep = functionKey('EvaluationIngestSweepFunction');
    // Today nothing is late yet: every deadline of these tickets began today.
    expect(await hub.host.invoke(sweep, { day: today() })).toMatchObject({ marked: 0 });
    const ticket = (await listTickets({ status: 'open' })).items.find((t) => t.evaluationId === id);
    const dayAfterDeadline = addDays(ticket?.deadlines.verify.dueDay as string, 1);
    expect(dayAfterDeadline > today()).toBe(true);
    // The sweep's clock is its day: the scheduled run of that morning, played now.
    const first = await hub.host.invoke(sweep, { day: dayAfterDeadline });
    expect(first).toMatchObject({ marked: 1, failed: 0 });
    const second = await hub.host.invoke(sweep, { day: dayAfterDeadline });
    expect(second).toMatchObject({ marked: 0, published: 0 });
    await hub.drained();
    expect(detailsOf('RectificationOverdue', (d) => d.overdueId).map((d) => d.evaluationId)).toEqual([id]);
    expect((await listTickets({ overdue: 'true' })).items.map((t) => t.evaluationId)).toEqual([id]);
    // The revisited and the dismissed tickets had no running deadline: nothing else went overdue.
    expect((await listTickets({ overdue: 'false' })).items).toHaveLength(2);
  });

  it("shows a person their own evaluations, from the app and from a platform's push, and nobody else's", async () => {
    const app = devClient('app-citizen');
    const { accessToken } = await signInThroughHub(hub.port, app, demoPerson);
    const { evaluator: _, ...record } = evaluationOf(byApp, 4, { channel: 'app' });
    const unsigned = await postJson(hub.port, app, '/v1/evaluations', record);
    expect(unsigned.status).toBe(401);
    const submitted = await postJson(hub.port, app, '/v1/evaluations', record, {
      Authorization: `Bearer ${accessToken}`,
    });
    expect(submitted.status).toBe(202);
    const { evaluationId } = (await submitted.json()) as { evaluationId: string };
    countVote(byApp, record);
    // The same person rated another case at a window; that platform pushes it with the ID number.
    const pushed = evaluationOf(mine, 4, {
      evaluator: personEvaluator(demoPerson.idNumber),
      comment: '很方便',
    });
    expect((await pushEvaluations(platform(), [pushed])).accepted).toBe(1);
    countVote(mine, pushed);
    await hub.drained();
    expect(eventsOf('EvaluationReceived').map((e) => e.detail.evaluationId)).toContain(evaluationId);

    const bearer = { Authorization: `Bearer ${accessToken}` };
    const own = await get(app, '/v1/me/evaluations', {}, bearer);
    expect(own.status).toBe(200);
    const items = own.body.items as unknown as Record<string, unknown>[];
    // Newest evaluation first.
    const newestFirst = [
      { row: [mine.caseId, 'window', 4], at: Date.parse(pushed.evaluatedAt) },
      { row: [byApp.caseId, 'app', 4], at: Date.parse(record.evaluatedAt) },
    ].sort((a, b) => b.at - a.at);
    expect(items.map((i) => [i.caseId, i.channel, i.level])).toEqual(newestFirst.map((e) => e.row));
    expect(items.find((i) => i.caseId === mine.caseId)).toMatchObject({
      levelName: '满意',
      comment: '很方便',
      evaluator: { type: 'person', maskedId: '110105********002X' },
    });
    expect(JSON.stringify(own.body)).not.toContain(demoPerson.idNumber);
    const page = await get(app, '/v1/me/evaluations', { limit: '1' }, bearer);
    expect((page.body.items as unknown[]).length).toBe(1);
    const next = await get(
      app,
      '/v1/me/evaluations',
      { limit: '1', cursor: String(page.body.cursor) },
      bearer,
    );
    expect((next.body.items as { caseId: string }[])[0]?.caseId).toBe(items[1]?.caseId);

    const other = await signInThroughHub(hub.port, app, otherPerson);
    const theirs = await get(app, '/v1/me/evaluations', {}, { Authorization: `Bearer ${other.accessToken}` });
    expect(theirs).toMatchObject({ status: 200, body: { items: [] } });
    expect((await get(app, '/v1/me/evaluations')).status).toBe(401);
  });

  it('lets an evaluation wait for its case: counted when the case arrives, rejected with its reason when it never does', async () => {
    const reply = await pushEvaluations(platform(), [lateEvaluation, neverCase]);
    expect(reply).toMatchObject({ accepted: 2, rejected: [] });
    // The late case's platform pushes it only now.
    const cases = await postJson(hub.port, platform(), '/v1/cases:batch', { records: recordsOf(late) });
    expect(cases.status).toBe(202);
    countVote(late, lateEvaluation);
    // Settles once the never-pushed one has waited CASE_WAIT_SECONDS and been rejected.
    await hub.drained({ timeoutMs: 180_000 });

    expect(eventsOf('EvaluationReceived').map((e) => e.detail.caseId)).toContain(late.caseId);
    const rejections = await get(platform(), '/v1/evaluations/rejections', { batchId: reply.batchId });
    expect(rejections.status).toBe(200);
    const items = rejections.body.items as unknown as Record<string, string>[];
    expect(items.map((r) => [r.batchIndex, r.caseId, r.reason])).toEqual([
      [1, `${REGION}:${neverCase.caseNumber}`, 'case_unknown'],
    ]);
    const waited = Date.parse(items[0]?.rejectedAt as string) - Date.parse(items[0]?.receivedAt as string);
    expect(waited).toBeGreaterThanOrEqual(CASE_WAIT_SECONDS * 1000);
    expect(waited).toBeLessThan((CASE_WAIT_SECONDS + 60) * 1000);
    // Only the pushing platform reads them.
    const others = await get(ministry(), '/v1/evaluations/rejections', { batchId: reply.batchId });
    expect(others).toMatchObject({ status: 200, body: { items: [] } });
  }, 240_000);

  it('flags a burst of 50 identical 5-star ratings from one source, and counts them as flagged', async () => {
    for (const record of burst) countVote(burstCase, record);
    // Read over the same days before and after (the range follows the counted votes).
    const before = await evaluationTotals();
    const reply = await pushEvaluations(ministry(), burst);
    expect(reply).toMatchObject({ accepted: 50, rejected: [] });
    await hub.drained({ timeoutMs: 120_000 });

    // At least once, flags growing: one record per evaluation with the union of its flags.
    const flagsOf = new Map<string, Set<string>>();
    for (const { detail } of eventsOf('EvaluationReceived').filter(
      (e) => e.detail.caseId === burstCase.caseId,
    )) {
      const flags = flagsOf.get(String(detail.evaluationId)) ?? new Set<string>();
      for (const flag of detail.flags as string[]) flags.add(flag);
      flagsOf.set(String(detail.evaluationId), flags);
    }
    expect(flagsOf.size).toBe(50);
    expect([...flagsOf.values()].every((flags) => flags.has('burst_identical_top'))).toBe(true);
    const after = await evaluationTotals();
    expect(after.evaluations - before.evaluations).toBe(50);
    expect(after.satisfied - before.satisfied).toBe(50);
    // Reported beside the rates; nothing else of this scenario was flagged.
    expect(after.flagged).toBe(50);
    expect(counted.length).toBe(after.evaluations + 1); // the dismissed review left the statistics
  }, 180_000);

  it('replays and duplicates change no count, open no ticket and announce no new fact', async () => {
    // A copy announces its vote again (at least once: the first announcement may have failed), so
    // EvaluationReceived and BadReviewOpened may repeat; consumers keep one per evaluationId.
    const reannounced = ['EvaluationReceived', 'BadReviewOpened'];
    const others = () =>
      new Set(eventsOnTheBus().flatMap((e) => (reannounced.includes(e['detail-type']) ? [] : [e.id])));
    const eventsBefore = others();
    const totalsBefore = await evaluationTotals();
    const again = await pushEvaluations(platform(), [...batch, batch[0], lateEvaluation, neverCase]);
    expect(again.accepted).toBe(batch.length + 3);
    expect((await pushEvaluations(ministry(), burst)).accepted).toBe(50);
    await hub.drained({ timeoutMs: 120_000 });

    expect(await evaluationTotals()).toEqual(totalsBefore);
    expect(others()).toEqual(eventsBefore);
    expect(new Set(eventsOf('BadReviewOpened').map((e) => e.detail.evaluationId)).size).toBe(3);
    const all = [...(await listTickets({})).items, ...(await listTickets({ status: 'dismissed' })).items];
    expect(new Set(all.map((t) => t.evaluationId)).size).toBe(3);
    // The replayed never-pushed evaluation was recognised as rejected before: no second rejection.
    const rejections = await get(platform(), '/v1/evaluations/rejections');
    expect((rejections.body.items as unknown[]).length).toBe(1);
  }, 180_000);

  it('logs no ID number', () => {
    const text = logs.join('\n');
    for (const c of [rectified, overdue, appealed, good, late])
      expect(text).not.toContain(c.base.applicant.idNumber);
    expect(text).not.toContain(withWrongCheckCharacter(good.base.applicant.idNumber));
    expect(text).not.toContain(demoPerson.idNumber);
    for (const idNumber of burstEvaluators) expect(text).not.toContain(idNumber);
  });
});
