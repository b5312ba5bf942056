import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deploymentOf, MissingInputError, measuredInputsOf } from '../../capacity/inputs';
import { computeCapacity } from '../../capacity/model';
import { ASSUMPTION_NOTES, ASSUMPTIONS } from '../../capacity/profile';
import { renderReport } from '../../capacity/render';
import { synth } from '../../local/synth';
import { REPO_ROOT } from '../../local/workers';
import type { CliIo } from '../cli';
import { localStateDir, parseCommandLine, resolvePath } from '../command-kit';
import { CliError, UsageError } from '../errors';

export const CAPACITY_HELP = `Usage: npm run hub -- capacity --scale N [options]

The capacity model: a month of national traffic at N × the 2019 figures (26.78 M verifications, 2.18 M
licence calls, 49.89 M cases in 53 days), with the capacity every operation consumed in the latest bench run
(results.json) and the functions' memory and queue mappings from the synthesised templates. Prints Lambda
invocations and GB-seconds, DynamoDB WCU/RCU per table with the hottest partition, SQS requests,
EventBridge events, S3 requests and storage, the on-demand cost (infra/capacity/prices.ts) and every limit
the peak would exceed. Assumptions: infra/capacity/profile.ts (also printed).

Options:
  --scale N            multiple of the 2019 national load (required; e.g. 1 or 10)
  --peak-factor F      peak second ÷ average second (default: 3)
  --days D             days in the modelled period (default: 30, a month)
  --results FILE       bench results (default: test/bench/results.json, written by npm run bench)
  --assembly DIR       cloud assembly to read (default: the local hub's, synthesised first if stale)
  --state-dir DIR      the local hub's state folder (default: HUB_STATE_DIR, else .hub in the repository)
  --json               the report as one JSON document
  -h, --help           this help

Exit status: 0 done (exceeded limits are reported, not failed); 1 a measured input or a function is
missing (the message names it); 2 usage error.`;

const options = {
  scale: { type: 'string' },
  'peak-factor': { type: 'string', default: '3' },
  days: { type: 'string', default: '30' },
  results: { type: 'string' },
  assembly: { type: 'string' },
  'state-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function positiveNumber(name: string, raw: string | undefined, max: number): number {
  const value = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new UsageError(`--${name} must be a number above 0 and at most ${max}.`);
  }
  return value;
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new CliError(`Cannot read ${what} ${file}.`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`${what} ${file} is not JSON.`);
  }
}

async function assemblyDir(values: { assembly?: string; 'state-dir'?: string }, io: CliIo): Promise<string> {
  if (values.assembly) return resolvePath(io.cwd, values.assembly);
  // The local hub's assembly, as npm start keeps it: synthesised again only when the sources changed.
  const stateDir = localStateDir(values, io);
  const outDir = join(stateDir, 'cdk.out');
  await synth({ repoRoot: REPO_ROOT, outDir, stateDir, log: (line) => io.stderr.write(`${line}\n`) });
  return outDir;
}

function templatesIn(dir: string): unknown[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.template.json'));
  } catch {
    throw new CliError(`Cannot read the cloud assembly ${dir}.`);
  }
  if (files.length === 0)
    throw new CliError(`No *.template.json in ${dir}: synthesise first (npm run synth).`);
  return files.sort().map((f) => readJson(join(dir, f), 'template'));
}

export async function capacityCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(args, options, false);
  if (values.help) {
    io.stdout.write(`${CAPACITY_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError('capacity takes no arguments.');
  if (values.scale === undefined) throw new UsageError('--scale is required.');
  const modelOptions = {
    scale: positiveNumber('scale', values.scale, 10_000),
    peakFactor: positiveNumber('peak-factor', values['peak-factor'], 1_000),
    days: positiveNumber('days', values.days, 366),
  };
  const resultsFile = resolvePath(io.cwd, values.results ?? join(REPO_ROOT, 'test/bench/results.json'));
  try {
    const inputs = measuredInputsOf(readJson(resultsFile, 'bench results'));
    const dir = await assemblyDir(values, io);
    const deployment = deploymentOf(templatesIn(dir));
    const report = computeCapacity(inputs, deployment, ASSUMPTIONS, modelOptions);
    if (values.json) {
      const document = {
        ...report,
        inputs: {
          results: resultsFile,
          benchRunAt: inputs.startedAt,
          assembly: dir,
          measured: inputs,
          deployment,
        },
        assumptions: { values: ASSUMPTIONS, notes: ASSUMPTION_NOTES },
      };
      io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    } else {
      io.stdout.write(
        renderReport(report, [`Measured inputs: ${resultsFile} (bench run ${inputs.startedAt}).`]),
      );
      io.stdout.write(
        `\nAssumptions (infra/capacity/profile.ts):\n${ASSUMPTION_NOTES.map((n) => `- ${n}`).join('\n')}\n`,
      );
    }
    return 0;
  } catch (error) {
    if (error instanceof MissingInputError) throw new CliError(error.message);
    throw error;
  }
}
