import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  ASSESSMENT_EVENT_SOURCE,
  BackfillRangeError,
  backfill,
  type PeriodReport,
  publishAssessmentsWith,
  validateBackfillRange,
} from '../../../functions/case-aggregate/rollup';
import { createRollupStore } from '../../../functions/case-aggregate/rollup-store';
import { isCalendarDay } from '../../../shared/calendar';
import { createEventPublisher } from '../../../shared/events';
import { LOCAL_S3_CREDENTIALS } from '../../local/engines/s3';
import { LOCAL_REGION } from '../../local/model';
import { ENDPOINTS_FILE, OUTPUTS_FILE, readEndpoints, readOutputs } from '../../local/outputs';
import type { CliIo } from '../cli';
import { localStateDir, parseCommandLine, wholeNumber } from '../command-kit';
import { CliError, UsageError } from '../errors';
import { progressBar } from '../progress';
import { privateStackName } from '../target';
import { SEEDED_FILE } from './seed';

/**
 * `rollup --from --to`: backfill of the scheduled aggregation (functions/case-aggregate/rollup.ts) — every day
 * of the range from its statistics buckets, then each month it touches from its day rollups, each with its
 * snapshots in S3 and an AssessmentPublished event. Re-running a range overwrites the same items and objects.
 */

/** Stack outputs naming what the rollup touches (infra/stacks/private-cloud-stack.ts). */
export const STATS_TABLE_OUTPUT = 'StatsTableName';
export const ASSESSMENTS_BUCKET_OUTPUT = 'AssessmentsBucketName';
export const EVENT_BUS_OUTPUT = 'EventBusName';
const DEFAULT_SHARDS = 8;

export const ROLLUP_HELP = `Usage: npm run hub -- rollup [--from YYYY-MM-DD --to YYYY-MM-DD] [options]

Rolls the case statistics of every day from --from to --to (both included, Asia/Shanghai days) into
day assessments, then re-rolls each month the range touches from its day rollups; writes each
snapshot to the assessments bucket (assessments/<period>.json and .csv) and emits AssessmentPublished.
Reads statistics buckets only (32 provinces × shards Queries per day), never the cases. Safe to re-run.

Options:
  --from DAY         first day, yyyy-mm-dd
  --to DAY           last day, yyyy-mm-dd (at most 3660 days after --from)
                     Without both: the days the last \`seed\` covered, else yesterday (Asia/Shanghai)
  --shards N         STATS_SHARDS of the hub (default ${DEFAULT_SHARDS}); must match the hub's, or buckets are missed
  --skip-events      write rollups and snapshots, publish no AssessmentPublished (e.g. history)
  -h, --help         this help

Target (default: the local hub started by npm start, from <state-dir>/outputs.json and endpoints.json):
  --table NAME       stats table (output ${STATS_TABLE_OUTPUT})
  --bucket NAME      assessments bucket (output ${ASSESSMENTS_BUCKET_OUTPUT})
  --bus NAME         event bus (output ${EVENT_BUS_OUTPUT})
                     With --table, --bucket and --bus the AWS SDK's own endpoints (AWS_ENDPOINT_URL_*),
                     region and credentials are used: a deployed stack.
  --stage NAME       stage of the local hub's stacks (default: dev)
  --state-dir DIR    the local hub's state folder (default: HUB_STATE_DIR, else .hub in the repository)

Exit status: 0 done; 1 failure (periods before it were written; run the range again); 2 usage error.`;

const options = {
  from: { type: 'string' },
  to: { type: 'string' },
  shards: { type: 'string' },
  'skip-events': { type: 'boolean' },
  table: { type: 'string' },
  bucket: { type: 'string' },
  bus: { type: 'string' },
  stage: { type: 'string', default: 'dev' },
  'state-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

interface RollupTarget {
  table: string;
  bucket: string;
  bus: string;
  /** The local hub's engines; undefined for a deployed stack (the SDK resolves endpoints itself). */
  local?: { dynamodb: string; s3: string; eventbridge: string };
}

const parse = (args: string[]) => parseCommandLine(args, options, false);

type Values = ReturnType<typeof parse>['values'];

function resolveRollupTarget(values: Values, io: CliIo): RollupTarget {
  if (values.table !== undefined && values.bucket !== undefined && values.bus !== undefined) {
    return { table: values.table, bucket: values.bucket, bus: values.bus };
  }
  const stateDir = localStateDir(values, io);
  const stack = privateStackName(values.stage);
  let outputs: Record<string, string> | undefined;
  let endpoints: ReturnType<typeof readEndpoints>;
  try {
    outputs = readOutputs(stateDir)[stack];
    endpoints = readEndpoints(stateDir);
  } catch {
    throw new CliError(
      `No local hub state in ${stateDir} (${OUTPUTS_FILE}, ${ENDPOINTS_FILE}): start the hub (npm start) once, or pass --table, --bucket and --bus.`,
    );
  }
  const output = (flag: string | undefined, name: string) => {
    const value = flag ?? outputs?.[name];
    if (!value) {
      throw new CliError(
        `${join(stateDir, OUTPUTS_FILE)} has no ${name} output for stack ${stack}: restart the hub.`,
      );
    }
    return value;
  };
  return {
    table: output(values.table, STATS_TABLE_OUTPUT),
    bucket: output(values.bucket, ASSESSMENTS_BUCKET_OUTPUT),
    bus: output(values.bus, EVENT_BUS_OUTPUT),
    local: { dynamodb: endpoints.dynamodb, s3: endpoints.s3, eventbridge: endpoints.eventbridge },
  };
}

/** SDK clients for the target: local engines with throwaway credentials, or the SDK's own resolution. */
function clientsFor(target: RollupTarget) {
  const local = target.local;
  // Local engines take any credentials; never send a developer's real ones to them.
  const localConfig = (endpoint: string) => ({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_S3_CREDENTIALS,
  });
  const dynamo = new DynamoDBClient(local ? localConfig(local.dynamodb) : {});
  return {
    dynamo,
    doc: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
    // s3rver has no virtual-host buckets and stores aws-chunked uploads verbatim (infra/local/engines/s3.ts).
    s3: new S3Client(
      local
        ? { ...localConfig(local.s3), forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' }
        : {},
    ),
    eventBridge: new EventBridgeClient(local ? localConfig(local.eventbridge) : {}),
  };
}

export async function rollupCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args);
  if (values.help) {
    io.stdout.write(`${ROLLUP_HELP}\n`);
    return 0;
  }
  const { from, to } =
    values.from === undefined && values.to === undefined ? defaultRange(values, io) : values;
  if (from === undefined || to === undefined) throw new UsageError('rollup needs --from and --to.');
  if (!isCalendarDay(from) || !isCalendarDay(to))
    throw new UsageError('--from and --to are days written yyyy-mm-dd.');
  try {
    validateBackfillRange(from, to);
  } catch (error) {
    if (error instanceof BackfillRangeError) throw new UsageError(error.message);
    throw error;
  }
  const shards = wholeNumber('shards', values.shards, DEFAULT_SHARDS, { min: 1, max: 1000 });
  const skipEvents = values['skip-events'] === true;
  const target = resolveRollupTarget(values, io);
  const clients = clientsFor(target);
  const publisher = createEventPublisher({
    client: clients.eventBridge,
    busName: target.bus,
    source: ASSESSMENT_EVENT_SOURCE,
  });
  const progress = progressBar(io.stderr, 'rolling up', 'periods');
  let reports: PeriodReport[] = [];
  try {
    reports = await backfill(
      {
        store: createRollupStore({
          doc: clients.doc,
          statsTable: target.table,
          shards,
          snapshots: { s3: clients.s3, bucket: target.bucket },
        }),
        publish: skipEvents ? async () => {} : publishAssessmentsWith(publisher),
        clock: () => new Date(),
        correlationId: `cli-rollup-${randomUUID()}`,
      },
      {
        from,
        to,
        onProgress: (done, total) => {
          if (done === 1) progress.start(total);
          progress.update(done, done);
        },
      },
    );
  } finally {
    progress.stop();
    clients.doc.destroy();
    clients.s3.destroy();
    clients.eventBridge.destroy();
  }
  printReport(io, reports, target, skipEvents);
  return 0;
}

/**
 * Without --from and --to: the days the last `seed` covered (<state-dir>/seeded.json), else yesterday — what the
 * 01:00 schedule rolls.
 */
function defaultRange(values: Values, io: CliIo): { from: string; to: string } {
  const seeded = join(localStateDir(values, io), SEEDED_FILE);
  if (values.table === undefined && existsSync(seeded)) {
    const { from, to } = JSON.parse(readFileSync(seeded, 'utf8')) as { from: string; to: string };
    io.stderr.write(`Rolling up the seeded days ${from} to ${to} (${seeded}).\n`);
    return { from, to };
  }
  const yesterday = new Date(Date.now() + 8 * 3_600_000 - 86_400_000).toISOString().slice(0, 10);
  return { from: yesterday, to: yesterday };
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

function printReport(io: CliIo, reports: PeriodReport[], target: RollupTarget, skipEvents: boolean): void {
  const days = reports.filter((r) => r.periodType === 'day');
  const months = reports.filter((r) => r.periodType === 'month');
  const readCapacity = reports.reduce((sum, r) => sum + r.readCapacity, 0);
  const queries = reports.reduce((sum, r) => sum + r.queries, 0);
  io.stdout.write(
    `Rolled up ${plural(days.length, 'day')} and ${plural(months.length, 'month')} (${months.map((m) => m.period).join(', ')}) into ${target.table}.\n`,
  );
  io.stdout.write(`Snapshots: s3://${target.bucket}/assessments/<period>.json and .csv.\n`);
  io.stdout.write(`Reads: ${queries} requests, ${readCapacity} read capacity units.\n`);
  io.stdout.write(
    skipEvents
      ? 'No AssessmentPublished sent (--skip-events).\n'
      : `AssessmentPublished sent for ${plural(reports.length, 'period')} on ${target.bus}.\n`,
  );
}
