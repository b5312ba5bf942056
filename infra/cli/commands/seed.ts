import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CASE_ROUTES } from '../../../functions/case-aggregate/api';
import { ITEM_ROUTES } from '../../../functions/case-aggregate/items-api';
import { EVALUATION_ROUTES } from '../../../functions/evaluation-ingest/api';
import { HubProblemError } from '../../../shared/client';
import type { CliIo } from '../cli';
import { localStateDir, parseCommandLine, wholeNumber } from '../command-kit';
import { UsageError } from '../errors';
import { apiClient, credentialsFor, HUB_API_HELP, HUB_API_OPTIONS, resolveHubUrl } from '../hub-api';
import { progressBar } from '../progress';
import { registrySeed } from './registry';
import { generateSeedTraffic, type RegionTraffic } from './seed-traffic';

export const SEED_TRAFFIC_HELP = `Usage: npm run hub -- seed [--regions N] [--cases N] [options]

Fills a hub with synthetic data for all (or the first N) of the 32 provincial-level regions, through the
API as each region's platform would (signed, typed client, Idempotency-Key on every batch), with a
progress bar per step:
  1. the item catalogue (PUT /v1/items/{code}: ${'24'} items per region),
  2. cases (POST /v1/cases:batch: an 'accepted' record, then mostly a 'completed' one, on time or late),
  3. evaluations of completed cases (POST /v1/evaluations:batch),
and, with --persons, a synthetic identity registry (written to its table, as registry seed does).
Every time lies in the --days before today (Asia/Shanghai), so \`npm run hub -- rollup\` then rolls
exactly those days (the range is remembered in <state-dir>/seeded.json) and /dashboard shows them.
Deterministic for a --seed; a second run with the same seed sends the same records (counted once).

Options:
  --regions N        provincial-level regions, 1–32 (default 32)
  --cases N          cases in all, spread over the regions (default 2000, at most 1000000)
  --evaluations P    percent of completed cases that get an evaluation (default 30)
  --days N           days before today the cases fall on (default 30, at most 366)
  --persons N        also write a synthetic registry of N persons (default 0: none)
  --seed S           generator seed (default 20260401)
  -h, --help         this help

${HUB_API_HELP}
  Each region's data goes with its development client region-<code>.

Exit status: 0 every record accepted; 1 a record rejected or a request failed; 2 usage error.`;

const options = {
  ...HUB_API_OPTIONS,
  regions: { type: 'string' },
  cases: { type: 'string' },
  evaluations: { type: 'string' },
  days: { type: 'string' },
  persons: { type: 'string' },
  seed: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const SEEDED_FILE = 'seeded.json';
const SHANGHAI = 8 * 3_600_000;
const shanghaiDay = (ms: number) => new Date(ms + SHANGHAI).toISOString().slice(0, 10);

interface StepCounts {
  accepted: number;
  rejected: number;
}

export async function seedCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(args, options, false);
  if (values.help) {
    io.stdout.write(`${SEED_TRAFFIC_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError('seed takes options only.');
  const regions = wholeNumber('regions', values.regions, 32, { min: 1, max: 32 });
  const cases = wholeNumber('cases', values.cases, 2000, { min: 1, max: 1_000_000 });
  const percent = wholeNumber('evaluations', values.evaluations, 30, { max: 100 });
  const days = wholeNumber('days', values.days, 30, { min: 1, max: 366 });
  const persons = wholeNumber('persons', values.persons, 0, { max: 10_000_000 });
  const seed = wholeNumber('seed', values.seed, 20260401, { max: 2 ** 31 - 1 });
  const url = resolveHubUrl(values, io);

  if (persons > 0) {
    const status = await registrySeed(
      [
        '--persons',
        String(persons),
        '--enterprises',
        '0',
        ...(values['state-dir'] ? ['--state-dir', values['state-dir']] : []),
      ],
      io,
    );
    if (status !== 0) return status;
  }

  const now = new Date();
  const range = {
    from: shanghaiDay(now.getTime() - days * 86_400_000),
    to: shanghaiDay(now.getTime() - 86_400_000),
  };
  const traffic = generateSeedTraffic({
    regions,
    cases,
    evaluationShare: percent / 100,
    seed,
    now,
    ...range,
  });
  const items = await step(
    io,
    'catalogue',
    traffic,
    (t) => t.items.length,
    (t) => seedItems(io, url, t),
  );
  const caseCounts = await step(
    io,
    'cases',
    traffic,
    (t) => t.cases.length,
    (t) =>
      sendBatches(io, url, t.province, t.cases, (client, records) =>
        client.call(CASE_ROUTES.ingest, { body: { records } }),
      ),
  );
  const evaluationCounts = await step(
    io,
    'evaluations',
    traffic,
    (t) => t.evaluations.length,
    (t) =>
      sendBatches(io, url, t.province, t.evaluations, (client, records) =>
        client.call(EVALUATION_ROUTES.ingestBatch, { body: { records } }),
      ),
  );
  if (!values.url && !io.env.HUB_URL) {
    writeFileSync(
      join(localStateDir(values, io), SEEDED_FILE),
      `${JSON.stringify({ ...range, regions, cases, seed, at: now.toISOString() }, null, 2)}\n`,
    );
  }
  io.stdout.write(
    [
      `Seeded ${regions} regions, days ${range.from} to ${range.to}:`,
      `  catalogue items   ${items.accepted} written, ${items.rejected} refused`,
      `  case records      ${caseCounts.accepted} accepted, ${caseCounts.rejected} rejected`,
      `  evaluations       ${evaluationCounts.accepted} accepted, ${evaluationCounts.rejected} rejected`,
      `Roll them up with: npm run hub -- rollup (then open ${url}/dashboard/)`,
      '',
    ].join('\n'),
  );
  return items.rejected + caseCounts.rejected + evaluationCounts.rejected === 0 ? 0 : 1;
}

/** One step over every region under one progress bar (records as the unit). */
async function step(
  io: CliIo,
  label: string,
  traffic: RegionTraffic[],
  size: (t: RegionTraffic) => number,
  run: (t: RegionTraffic) => Promise<StepCounts>,
): Promise<StepCounts> {
  const total = traffic.reduce((sum, t) => sum + size(t), 0);
  const progress = progressBar(io.stderr, `seeding ${label.padEnd(11)}`, 'records');
  progress.start(total);
  const counts: StepCounts = { accepted: 0, rejected: 0 };
  let done = 0;
  try {
    for (const region of traffic) {
      const result = await run(region);
      counts.accepted += result.accepted;
      counts.rejected += result.rejected;
      done += size(region);
      progress.update(done, done);
    }
  } finally {
    progress.stop();
  }
  return counts;
}

const regionClient = (io: CliIo, url: string, province: string) =>
  apiClient(url, credentialsFor(url, `region-${province}`, io, `region-${province}`));

async function seedItems(io: CliIo, url: string, traffic: RegionTraffic): Promise<StepCounts> {
  const client = regionClient(io, url, traffic.province);
  const counts: StepCounts = { accepted: 0, rejected: 0 };
  for (const { implementationCode, ...entry } of traffic.items) {
    try {
      await client.call(ITEM_ROUTES.putItem, { params: { code: implementationCode }, body: entry });
      counts.accepted++;
    } catch (error) {
      if (!(error instanceof HubProblemError)) throw error;
      // An item the local hub's own seeding wrote is owned by it, not by the platform: that is no failure.
      if (error.slug === 'item-owned-elsewhere') counts.accepted++;
      else {
        counts.rejected++;
        io.stderr.write(`item ${implementationCode}: ${error.slug}\n`);
      }
    }
  }
  return counts;
}

type BatchCall = (
  client: ReturnType<typeof regionClient>,
  records: unknown[],
) => Promise<{ body: { accepted: number; rejected: { index: number; reason: string }[] } }>;

async function sendBatches(
  io: CliIo,
  url: string,
  province: string,
  records: readonly unknown[],
  call: BatchCall,
): Promise<StepCounts> {
  const client = regionClient(io, url, province);
  const counts: StepCounts = { accepted: 0, rejected: 0 };
  for (let start = 0; start < records.length; start += 500) {
    const batch = records.slice(start, start + 500);
    try {
      const { body } = await call(client, batch);
      counts.accepted += body.accepted;
      counts.rejected += body.rejected.length;
      for (const { index, reason } of body.rejected.slice(0, 5)) {
        io.stderr.write(`region ${province}, record ${start + index + 1}: rejected (${reason})\n`);
      }
    } catch (error) {
      if (!(error instanceof HubProblemError)) throw error;
      counts.rejected += batch.length;
      io.stderr.write(`region ${province}: batch refused: ${error.message}\n`);
    }
  }
  return counts;
}
