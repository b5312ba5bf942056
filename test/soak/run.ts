/**
 * `npm run test:soak`: a bounded load run on loopback (issue 9). One local hub; for a fixed time it receives
 * signed case batches and case reads at fixed rates (open loop: requests leave on schedule whatever the
 * answers, with a cap on requests in flight); it then drains and checks that nothing was lost — every case
 * stored and the statistics equal to the ground truth computed here. Writes test/soak/report.json and
 * report.md: latency percentiles per route, answers by status, queue depth over time (lag), drain time.
 *
 * Then, on the same hub, the schema-driven fuzz of every route with a contract (test/support/fuzz-routes.ts) at
 * FUZZ_RUNS per route (default 10,000), within FUZZ_SECONDS for all routes together (default 480: the issue's
 * 20 minutes for the whole run on two cores, with the 20 k-case dashboard acceptance after it, leave about that much; a route whose share of the budget runs out
 * stops early, and the report says how many requests each route got and at what rate). Its figures go into the
 * same report; any violation or state change made by a refused request fails the run.
 *
 * Options (environment): SOAK_SECONDS (default 180, at most 900), SOAK_BATCHES_PER_SECOND (default 8),
 * SOAK_READS_PER_SECOND (default 20), SOAK_BATCH_SIZE (default 25), FUZZ_RUNS (default 10,000),
 * FUZZ_SECONDS (default 480; 0 skips the fuzz), FUZZ_CONCURRENCY (default 8), FUZZ_SEED.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { seededRandom } from '../../shared/identifiers/generate';
import { describeMachine } from '../bench/support/machine';
import {
  buildCases,
  type CaseRecord,
  expectedStatistics,
  recordsOf,
  type ScenarioCase,
  shuffle,
} from '../e2e/case-scenario';
import { hubClient } from '../e2e/hub-client';
import { type DevClient, devClient } from '../e2e/support/dev-clients';
import { postJson } from '../e2e/support/signed-fetch';
import { startTestHub } from '../e2e/support/test-hub';
import { storedCaseStatistics } from '../support/case-statistics';
import {
  FUZZ_FUNCTION_ENVIRONMENT,
  type FuzzSummary,
  fuzzEveryRoute,
  fuzzSettingsFromEnv,
  hubFuzzTargets,
} from '../support/fuzz-hub';

const PRIVATE_STACK = 'zwfw-dev-private';
const REGIONS = ['110000', '310000', '330000', '440000', '510000', '650000'];
const MAX_IN_FLIGHT = 64;
const log = (line: string) => process.stderr.write(`[soak] ${line}\n`);

const settings = {
  seconds: boundedNumber('SOAK_SECONDS', 180, 10, 900),
  batchesPerSecond: boundedNumber('SOAK_BATCHES_PER_SECOND', 8, 1, 100),
  readsPerSecond: boundedNumber('SOAK_READS_PER_SECOND', 20, 0, 500),
  batchSize: boundedNumber('SOAK_BATCH_SIZE', 25, 1, 500),
  fuzzSeconds: boundedNumber('FUZZ_SECONDS', 480, 0, 3600),
};

function boundedNumber(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${name} must be ${min}–${max}`);
  return value;
}

interface RouteFigures {
  latenciesMs: number[];
  statuses: Record<string, number>;
  dropped: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);

function summarise(route: RouteFigures) {
  const sorted = [...route.latenciesMs].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    requests: sorted.length,
    dropped: route.dropped,
    statuses: route.statuses,
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? 0),
  };
}

/** Fires `send` `perSecond` times a second for `seconds`, open loop; a send over the in-flight cap is dropped. */
async function fixedRate(
  perSecond: number,
  seconds: number,
  figures: RouteFigures,
  send: (i: number) => Promise<Response>,
): Promise<void> {
  if (perSecond === 0) return;
  const total = Math.floor(perSecond * seconds);
  const began = performance.now();
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < total; i++) {
    const due = began + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (inFlight.size >= MAX_IN_FLIGHT) {
      figures.dropped++;
      continue;
    }
    const sent = performance.now();
    const request: Promise<void> = send(i)
      .then(async (response) => {
        await response.arrayBuffer();
        figures.statuses[response.status] = (figures.statuses[response.status] ?? 0) + 1;
      })
      .catch(() => {
        figures.statuses.network = (figures.statuses.network ?? 0) + 1;
      })
      .finally(() => {
        figures.latenciesMs.push(performance.now() - sent);
        inFlight.delete(request);
      });
    inFlight.add(request);
  }
  await Promise.all(inFlight);
}

async function main(): Promise<number> {
  const machine = describeMachine();
  log(`${machine.cores} cores, Node ${machine.node}; ${JSON.stringify(settings)}`);
  const random = seededRandom(Date.now() >>> 0);
  const batches = Math.floor(settings.batchesPerSecond * settings.seconds);
  // Whole cases per batch (their status changes shuffled within it), so that every case the run sent is
  // complete and its ground truth is known; duplicates and faults are the reliability suite's business.
  const casesPerBatch = Math.max(1, Math.floor(settings.batchSize / 3));
  const cases = buildCases(random, REGIONS, batches * casesPerBatch);
  const byRegion = new Map<string, ScenarioCase[]>(REGIONS.map((r) => [r, []]));
  for (const c of cases) byRegion.get(c.base.regionCode)?.push(c);

  const testHub = await startTestHub('soak', { functionEnvironment: FUZZ_FUNCTION_ENVIRONMENT });
  const { hub } = testHub;
  const output = (key: string) => hub.outputs[PRIVATE_STACK]?.[key] ?? '';
  const sqs = new SQSClient({
    endpoint: hub.endpoints.sqs,
    region: hub.endpoints.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const figures = {
    ingest: { latenciesMs: [], statuses: {}, dropped: 0 } as RouteFigures,
    read: { latenciesMs: [], statuses: {}, dropped: 0 } as RouteFigures,
  };
  const depth: { second: number; messages: number }[] = [];
  const began = performance.now();
  const sampler = setInterval(() => {
    void queueDepth(sqs, output('CaseQueueUrl')).then((messages) =>
      depth.push({ second: Math.round((performance.now() - began) / 1000), messages }),
    );
  }, 1000);

  try {
    const reader = hubClient(hub.port, 'ministry-mps');
    const sentCases: ScenarioCase[] = [];
    /** Batches not answered 202 during the load (a 503/504 or a reset under overload): sent again after it. */
    const unanswered: PendingBatch[] = [];
    let statusChangesSent = 0;
    log(
      `load: ${settings.seconds} s, ${settings.batchesPerSecond} batches/s, ${settings.readsPerSecond} reads/s`,
    );
    await Promise.all([
      fixedRate(settings.batchesPerSecond, settings.seconds, figures.ingest, (i) => {
        const r = i % REGIONS.length;
        const batchCases = (byRegion.get(REGIONS[r] as string) ?? []).splice(0, casesPerBatch);
        sentCases.push(...batchCases);
        const pending: PendingBatch = {
          client: devClient(`region-${REGIONS[r]}`),
          records: shuffle(random, batchCases.flatMap(recordsOf)),
          idempotencyKey: randomUUID(),
        };
        statusChangesSent += pending.records.length;
        return sendBatch(hub.port, pending).then(
          (response) => {
            if (response.status !== 202) unanswered.push(pending);
            return response;
          },
          (error: unknown) => {
            unanswered.push(pending);
            throw error;
          },
        );
      }),
      fixedRate(settings.readsPerSecond, settings.seconds, figures.read, (i) => {
        // A case already sent (its changes may still be queued: a 404 then is the queue's lag, counted as such).
        const pool = sentCases.length > 0 ? sentCases : cases;
        const c = pool[i % pool.length] as ScenarioCase;
        return reader.get(`/v1/cases/${encodeURIComponent(c.caseId)}`);
      }),
    ]);
    const loadEnded = performance.now();
    // As a platform would: a batch without its 202 is sent again with the same Idempotency-Key until it gets one.
    const resent = await resendUntilAccepted(hub.port, unanswered);
    log(`load done (${unanswered.length} batches re-sent, ${resent.refused} still refused); draining`);
    await hub.drained({ timeoutMs: 600_000 });
    const drainSeconds = Math.round((performance.now() - loadEnded) / 100) / 10;

    // Nothing lost: every batch the hub accepted (at once or when re-sent) is counted in the statistics, exactly.
    // Batches still refused after the re-sends, or dropped at the client's in-flight cap, were never accepted:
    // they are errors of the run, reported as such, and not part of the ground truth.
    const stored = await storedCaseStatistics(hub.endpoints.dynamodb, output('StatsTableName'));
    const refusedCaseIds = new Set(resent.refusedRecords.map((r) => `${r.regionCode}:${r.caseNumber}`));
    const expected = expectedStatistics(sentCases.filter((c) => !refusedCaseIds.has(c.caseId)));
    const lossless = deepEqual(stored, expected);
    log(lossless ? 'nothing lost' : 'LOSS: stored statistics differ from what was sent');
    const fuzz = settings.fuzzSeconds > 0 ? await fuzzAfterLoad(hub) : undefined;

    const report = {
      startedAt: new Date(Date.now() - (performance.now() - began)).toISOString(),
      machine,
      settings,
      routes: {
        'POST /v1/cases:batch': summarise(figures.ingest),
        'GET /v1/cases/{caseId}': summarise(figures.read),
      },
      statusChangesSent,
      batchesResent: unanswered.length,
      batchesStillRefused: resent.refused,
      queueDepth: { max: Math.max(0, ...depth.map((d) => d.messages)), samples: depth },
      drainSeconds,
      lossless,
      ...(fuzz ? { fuzz } : {}),
      wallSeconds: Math.round((performance.now() - began) / 1000),
      notes: process.env.SOAK_NOTES ?? '',
    };
    writeReports(report);
    const fuzzClean = !fuzz || (fuzz.violations === 0 && fuzz.routesWithStateChanges.length === 0);
    if (!fuzzClean)
      log(`FUZZ: ${fuzz?.violations} violations, state changed by ${fuzz?.routesWithStateChanges}`);
    return lossless && fuzzClean ? 0 : 1;
  } finally {
    clearInterval(sampler);
    sqs.destroy();
    await testHub.stop();
  }
}

/** The fuzz of every route, each route given an even share of FUZZ_SECONDS. */
async function fuzzAfterLoad(hub: Parameters<typeof fuzzEveryRoute>[0]): Promise<FuzzSummary> {
  const routes = hubFuzzTargets(hub).targets.length;
  const fuzzSettings = {
    ...fuzzSettingsFromEnv({ runsPerRoute: 10_000, concurrency: 8, seed: Date.now() % 2 ** 31 }),
    secondsPerRoute: settings.fuzzSeconds / Math.max(1, routes),
  };
  log(
    `fuzz: ${routes} routes, ${fuzzSettings.runsPerRoute} requests each at most, ${settings.fuzzSeconds} s in all`,
  );
  return fuzzEveryRoute(hub, fuzzSettings, (line) => log(`fuzz ${line}`));
}

interface PendingBatch {
  client: DevClient;
  records: CaseRecord[];
  idempotencyKey: string;
}

const sendBatch = (port: number, batch: PendingBatch): Promise<Response> =>
  postJson(
    port,
    batch.client,
    '/v1/cases:batch',
    { records: batch.records },
    {
      'Idempotency-Key': batch.idempotencyKey,
    },
  );

const RESEND_ATTEMPTS = 5;

async function resendUntilAccepted(
  port: number,
  batches: readonly PendingBatch[],
): Promise<{ refused: number; refusedRecords: CaseRecord[] }> {
  const refusedRecords: CaseRecord[] = [];
  let refused = 0;
  for (const batch of batches) {
    let accepted = false;
    for (let attempt = 1; attempt <= RESEND_ATTEMPTS && !accepted; attempt++) {
      const response = await sendBatch(port, batch).catch(() => undefined);
      await response?.arrayBuffer();
      accepted = response?.status === 202;
      if (!accepted) await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
    if (!accepted) {
      refused++;
      refusedRecords.push(...batch.records);
    }
  }
  return { refused, refusedRecords };
}

const deepEqual = (a: unknown, b: unknown) =>
  JSON.stringify(a, mapReplacer) === JSON.stringify(b, mapReplacer);
const mapReplacer = (_: string, value: unknown) =>
  value instanceof Map
    ? Object.fromEntries([...value.entries()].sort(([x], [y]) => String(x).localeCompare(String(y))))
    : value;

async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

function writeReports(report: {
  routes: Record<string, ReturnType<typeof summarise>>;
  [key: string]: unknown;
}): void {
  const dir = import.meta.dirname;
  writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  const rows = Object.entries(report.routes).map(
    ([route, f]) =>
      `| ${route} | ${f.requests} | ${f.dropped} | ${Object.entries(f.statuses)
        .map(([s, n]) => `${s}: ${n}`)
        .join(', ')} | ${f.p50Ms} | ${f.p90Ms} | ${f.p99Ms} | ${f.maxMs} |`,
  );
  const { queueDepth: lag, ...rest } = report as unknown as {
    queueDepth: { max: number };
    drainSeconds: number;
    lossless: boolean;
    statusChangesSent: number;
    batchesResent: number;
    batchesStillRefused: number;
    settings: typeof settings;
    machine: ReturnType<typeof describeMachine>;
    fuzz?: FuzzSummary;
    wallSeconds: number;
    notes: string;
  };
  writeFileSync(
    join(dir, 'report.md'),
    [
      '# Soak run',
      '',
      `${rest.machine.cores} cores, Node ${rest.machine.node}. Settings: ${JSON.stringify(rest.settings)}.`,
      '',
      '| route | requests | dropped (cap) | answers | p50 ms | p90 ms | p99 ms | max ms |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
      `Status changes sent: ${rest.statusChangesSent}; batches without a 202 during the load, re-sent with their Idempotency-Key: ${rest.batchesResent} (still refused after ${RESEND_ATTEMPTS} tries: ${rest.batchesStillRefused}). Case queue depth at most ${lag.max} messages; drained ${rest.drainSeconds} s after the load ended.`,
      `Nothing lost (stored statistics equal the ground truth of every batch the hub accepted): **${rest.lossless ? 'yes' : 'NO'}**.`,
      '',
      ...(rest.fuzz ? fuzzSection(rest.fuzz) : []),
      `Whole run: ${rest.wallSeconds} s.${rest.notes ? ` Notes: ${rest.notes}` : ''}`,
      '',
    ].join('\n'),
  );
}

function fuzzSection(fuzz: FuzzSummary): string[] {
  const count = (statuses: Record<string, number>) =>
    Object.entries(statuses)
      .map(([status, n]) => `${status}: ${n}`)
      .join(', ');
  return [
    '## Schema-driven fuzz',
    '',
    `${fuzz.requests} requests in ${fuzz.seconds} s (${fuzz.requestsPerSecond}/s, ${fuzz.settings.concurrency} in flight), ` +
      `at most ${fuzz.settings.runsPerRoute} per route within ${fuzz.settings.secondsPerRoute?.toFixed(1) ?? '∞'} s each; seed ${fuzz.settings.seed}.`,
    `Violations (5xx, a refusal without an RFC 9457 body, a 2xx off its schema, refused input taken, an attack not answered 401): **${fuzz.violations}**.`,
    `Routes whose tables changed during their refuse run: **${fuzz.routesWithStateChanges.join(', ') || 'none'}**.`,
    `Routes without a contract (not fuzzed): ${fuzz.routesWithoutContract.join(', ') || 'none'}.`,
    '',
    '| route | requests | s | explore answers | refuse answers | p50 ms | p99 ms | violations |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...fuzz.routes.map(
      (r) =>
        `| ${r.route} | ${r.requests} | ${r.seconds} | ${count(r.statuses.explore)} | ${count(r.statuses.refuse)} | ${r.latencyMs.p50} | ${r.latencyMs.p99} | ${r.violationCount} |`,
    ),
    '',
    ...fuzz.routes.flatMap((r) => r.violations.map((v) => `- ${v}`)),
    '',
  ];
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(`soak run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
