import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Metafile } from 'esbuild';
import { HUB_BUNDLING } from '../../infra/constructs/hub-function';
import {
  type BuiltBundle,
  buildHubBundle,
  contributors,
  type FunctionEntry,
  hubFunctionEntries,
  REPO_ROOT,
  sdkBaselineSource,
  sdkClientPackages,
} from '../infra/bundles';
import { median } from './support/measure';
import { type Benchmark, type Figure, figure, type Rate } from './support/types';

/**
 * Per function of the synthesised app (both clouds, dev stage): the size of its bundle as HubFunction builds it,
 * against the 250 KB goal, and its cold import in a fresh Node process against a baseline bundle that only
 * imports the same AWS SDK clients (derived from the function's own metafile), goal ≤ 1.5×.
 *
 * Bundles are written under node_modules/.cache so that a bundle leaving `@aws-sdk/*` out resolves it from the
 * repository's node_modules, as the local runtime does and as Lambda's nodejs22.x runtime would from its own.
 */

const SIZE_GOAL_KB = 250;
const INIT_GOAL_RATIO = 1.5;
/** Fresh processes per measurement; subject and baseline alternate so machine noise hits both alike. */
const SPAWNS = 7;
/** Fresh processes for the runtime-provided-SDK variant, reported in the notes only. */
const EXTERNAL_SDK_SPAWNS = 3;
const TOP_CONTRIBUTORS = 8;
const OUT_DIR = join(REPO_ROOT, 'node_modules/.cache/zwfw-hub-bundles');
/** What Powertools' tracer brings along (the X-Ray SDK and its helpers), measured because we keep it. */
const TRACER_PACKAGES = [
  '@aws-lambda-powertools/tracer',
  'aws-xray-sdk-core',
  'cls-hooked',
  'semver',
  'async-hook-jl',
  'emitter-listener',
  'shimmer',
  'stack-chain',
  'atomic-batcher',
];

const run = promisify(execFile);
const kb = (bytes: number) => Math.round(bytes / 102.4) / 10;
const KB = (bytes: number) => `${kb(bytes)} KB`;
const shortName = (entry: string) => entry.replace(/^functions\//, '').replace(/\.ts$/, '');
const bundleFile = (name: string, variant: string) =>
  join(OUT_DIR, `${name.replaceAll('/', '--')}.${variant}.mjs`);

/** One cold import: its wall time, and the CPU time (user + system, every thread) the process spent in it. */
interface ColdImport {
  wallMs: number;
  cpuMs: number;
}

/**
 * What a fresh `node` spends importing the bundle (load, compile, evaluate its top level) and calling nothing, with
 * the flags a deployed function has (NODE_OPTIONS=--enable-source-maps) and no cloud variables. The figure is the
 * CPU time: on this shared machine the wall time mostly measures the other processes' load (the same baseline
 * bundle measured 71–376 ms wall in one run), while the CPU time is what an uncontended Lambda vCPU would spend.
 */
async function coldImport(file: string): Promise<ColdImport> {
  const script =
    'const c = process.cpuUsage(); const t = performance.now(); await import(process.argv[1]); ' +
    'const wall = performance.now() - t; const cpu = process.cpuUsage(c); ' +
    "process.stdout.write(wall + ' ' + (cpu.user + cpu.system) / 1000); process.exit(0);";
  const { stdout } = await run(
    process.execPath,
    ['--enable-source-maps', '--input-type=module', '-e', script, pathToFileURL(file).href],
    {
      cwd: REPO_ROOT,
      timeout: 30_000,
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'cn-north-1',
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
      },
    },
  );
  const [wallMs, cpuMs] = stdout.split(' ').map(Number);
  if (!(wallMs && cpuMs && wallMs > 0 && cpuMs > 0)) {
    throw new Error(`${file}: the import printed ${stdout.slice(0, 80)}`);
  }
  return { wallMs, cpuMs };
}

/** Alternating spawns of each file (a, b, c, a, b, c…), `counts[i]` of file i. */
async function alternatingColdImports(files: string[], counts: number[]): Promise<ColdImport[][]> {
  const times = files.map(() => [] as ColdImport[]);
  for (let round = 0; round < Math.max(...counts); round++) {
    for (const [i, file] of files.entries()) {
      if (round < (counts[i] ?? 0)) times[i]?.push(await coldImport(file));
    }
  }
  return times;
}

const cpuOf = (imports: ColdImport[] = []) => imports.map((i) => i.cpuMs);
const wallOf = (imports: ColdImport[] = []) => imports.map((i) => i.wallMs);

const sizeRate = (label: string, bytes: number, method: string): Rate => ({
  label,
  unit: 'KB',
  per: 'bundle',
  perSecond: kb(bytes),
  rounds: [kb(bytes)],
  method,
});

const importRate = (label: string, times: number[], method: string): Rate => ({
  label,
  unit: 'ms',
  per: 'cold import',
  perSecond: median(times),
  rounds: times,
  method,
});

function topContributorsNote(metafile: Metafile): string {
  const top = contributors(metafile)
    .slice(0, TOP_CONTRIBUTORS)
    .map((c) => `${c.name} ${KB(c.bytes)}`);
  return `top contributors (esbuild metafile, bytes in output): ${top.join(', ')}`;
}

function tracerNote(metafile: Metafile): string {
  const bytes = contributors(metafile)
    .filter((c) => TRACER_PACKAGES.includes(c.name))
    .reduce((sum, c) => sum + c.bytes, 0);
  return `X-Ray tracer (Powertools tracer + aws-xray-sdk-core and its helpers): ${KB(bytes)}`;
}

interface BaselineBundle {
  packages: string[];
  bundle: BuiltBundle;
}

/** One baseline bundle per distinct set of SDK clients, built once. */
function baselineBuilder() {
  const built = new Map<string, Promise<BaselineBundle>>();
  return (packages: string[]): Promise<BaselineBundle> => {
    const key = packages.join('+') || 'no-sdk';
    let baseline = built.get(key);
    if (!baseline) {
      baseline = (async () => {
        const contents = await sdkBaselineSource(packages);
        const bundle = await buildHubBundle(
          { contents, name: `sdk-baseline-${key}.ts` },
          bundleFile(`baseline-${key.replaceAll('@aws-sdk/', '')}`, 'bundled'),
        );
        return { packages, bundle };
      })();
      built.set(key, baseline);
    }
    return baseline;
  };
}

const clientsText = (packages: string[]) =>
  packages.length === 0 ? 'no SDK client' : packages.map((p) => p.replace('@aws-sdk/', '')).join(', ');

interface FunctionFigures {
  size: Figure;
  init: Figure;
}

async function measureFunction(
  fn: FunctionEntry,
  baselineOf: (packages: string[]) => Promise<BaselineBundle>,
  progress: (message: string) => void,
): Promise<FunctionFigures> {
  const name = shortName(fn.entry);
  const bundled = await buildHubBundle(fn.entry, bundleFile(name, 'bundled'));
  const external = await buildHubBundle(fn.entry, bundleFile(name, 'runtime-sdk'), { bundleAwsSDK: false });
  const packages = sdkClientPackages(bundled.metafile);
  const baseline = await baselineOf(packages);
  const [subjectImports, baselineImports, externalImports] = await alternatingColdImports(
    [bundled.file, baseline.bundle.file, external.file],
    [SPAWNS, SPAWNS, EXTERNAL_SDK_SPAWNS],
  );
  const subjectTimes = cpuOf(subjectImports);
  const baselineTimes = cpuOf(baselineImports);
  const subjectMs = median(subjectTimes);
  const externalMs = median(cpuOf(externalImports));
  const [subjectWall, baselineWall] = [median(wallOf(subjectImports)), median(wallOf(baselineImports))];
  progress(`${name}: ${KB(bundled.bytes)}, cold import ${subjectMs.toFixed(0)} ms CPU`);
  const builtWith = `esbuild with HubFunction's options (hubEsbuildOptions: ESM, minified, node22, AWS SDK bundled); bytes of the .mjs without its source map`;
  const size = figure(
    `bundle size: ${name}`,
    sizeRate(`${name} bundle`, bundled.bytes, builtWith),
    sizeRate(`baseline: a handler importing ${clientsText(packages)}`, baseline.bundle.bytes, builtWith),
    {
      goalAtMost: SIZE_GOAL_KB,
      goalOf: 'subject',
      notes: [
        topContributorsNote(bundled.metafile),
        tracerNote(bundled.metafile),
        `with @aws-sdk/* left to the nodejs22.x runtime (CDK's default): ${KB(external.bytes)}`,
        `deployed as ${fn.functions.join(', ')}`,
      ],
    },
  );
  const spawned = (count: number) =>
    `median of ${count} fresh \`node --enable-source-maps\` processes importing the bundle and calling nothing (CPU time of the import inside the process, user + system)`;
  const init = figure(
    `cold init: ${name}`,
    importRate(`${name} bundle`, subjectTimes, spawned(SPAWNS)),
    importRate(`baseline: a handler importing ${clientsText(packages)}`, baselineTimes, spawned(SPAWNS)),
    {
      goalAtMost: INIT_GOAL_RATIO,
      notes: [
        `wall time of the same imports (machine load included): ${subjectWall.toFixed(0)} ms against ` +
          `${baselineWall.toFixed(0)} ms, ${(subjectWall / baselineWall).toFixed(2)}×`,
        `with @aws-sdk/* resolved from node_modules instead of bundled (as the nodejs22.x runtime provides it): ` +
          `${externalMs.toFixed(0)} ms CPU median of ${EXTERNAL_SDK_SPAWNS}, ${(externalMs / subjectMs).toFixed(2)}× the bundled import`,
      ],
    },
  );
  return { size, init };
}

/** The SDK's own floor: a bundle of nothing but the DynamoDB document client, and of the tracer alone. */
async function floorNotes(progress: (message: string) => void): Promise<string[]> {
  const documentClient = await buildHubBundle(
    {
      contents: await sdkBaselineSource(['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb']),
      name: 'ddb-only.ts',
    },
    bundleFile('floor-dynamodb-document-client', 'bundled'),
  );
  const tracer = await buildHubBundle(
    {
      contents:
        "import { Tracer } from '@aws-lambda-powertools/tracer';\nexport const tracer = new Tracer();\n",
      name: 'tracer-only.ts',
    },
    bundleFile('floor-tracer', 'bundled'),
  );
  const [ddbTimes, tracerTimes] = await alternatingColdImports(
    [documentClient.file, tracer.file],
    [SPAWNS, SPAWNS],
  );
  progress('floors measured');
  return [
    `The AWS SDK alone: a bundle of only the DynamoDB document client (DynamoDBClient + DynamoDBDocumentClient) is ` +
      `${KB(documentClient.bytes)}, cold import ${median(cpuOf(ddbTimes)).toFixed(0)} ms CPU — above the ${SIZE_GOAL_KB} KB goal ` +
      'by itself while the SDK is bundled.',
    `The X-Ray tracer alone (Powertools Tracer, constructed): ${KB(tracer.bytes)}, cold import ${median(cpuOf(tracerTimes)).toFixed(0)} ms CPU.`,
  ];
}

function summaryNotes(measured: FunctionFigures[]): string[] {
  const bySize = [...measured].sort((a, b) => b.size.subject.perSecond - a.size.subject.perSecond);
  const byRatio = [...measured].sort((a, b) => b.init.ratio - a.init.ratio);
  const largest = bySize[0];
  const slowest = byRatio[0];
  if (!largest || !slowest) return [];
  const overSize = measured.filter((m) => m.size.goal && !m.size.goal.met).length;
  const overInit = measured.filter((m) => m.init.goal && !m.init.goal.met).length;
  return [
    `Largest bundle: ${largest.size.name.replace('bundle size: ', '')} ${largest.size.subject.perSecond} KB ` +
      `(goal ≤ ${SIZE_GOAL_KB} KB; ${overSize} of ${measured.length} bundles over it).`,
    `Worst cold-init ratio: ${slowest.init.name.replace('cold init: ', '')} ${slowest.init.ratio.toFixed(2)}× its SDK baseline ` +
      `(goal ≤ ${INIT_GOAL_RATIO}; ${overInit} of ${measured.length} over it).`,
  ];
}

const benchmark: Benchmark = {
  name: 'bundles',
  description:
    'Every function of the synthesised app (both clouds, dev stage), one figure pair per entry file. Bundle size: the ' +
    `entry built by esbuild with HubFunction's own options (bundleAwsSDK: ${HUB_BUNDLING.bundleAwsSDK}, as deployed), ` +
    `bytes of the .mjs without its source map, against the ${SIZE_GOAL_KB} KB goal (the baseline beside it is a ` +
    'handler that only imports the same SDK clients, for scale). Cold init: a fresh Node process imports the bundle ' +
    'and calls nothing, CPU time of the import inside the process (wall time in the notes: this machine is shared), ' +
    'median of alternating spawns, against the same for that baseline ' +
    `bundle (the clients are read from the function's esbuild metafile); goal ≤ ${INIT_GOAL_RATIO}×. The notes give ` +
    "each bundle's top contributors, the X-Ray tracer's share, and the same function with @aws-sdk/* left to the runtime.",
  async run({ progress }) {
    rmSync(OUT_DIR, { recursive: true, force: true });
    mkdirSync(OUT_DIR, { recursive: true });
    try {
      const entries = hubFunctionEntries('dev');
      progress(
        `${entries.length} entry files, ${entries.reduce((n, e) => n + e.functions.length, 0)} functions`,
      );
      const baselineOf = baselineBuilder();
      const measured: FunctionFigures[] = [];
      for (const fn of entries) measured.push(await measureFunction(fn, baselineOf, progress));
      const figures = measured.flatMap((m) => [m.size, m.init]);
      return { status: 'ok', figures, notes: [...summaryNotes(measured), ...(await floorNotes(progress))] };
    } finally {
      rmSync(OUT_DIR, { recursive: true, force: true });
    }
  },
};

export default benchmark;
