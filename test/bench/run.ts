/**
 * `npm run bench`: runs every test/bench/*.bench.ts one after the other in this process, sharing one local hub
 * started on first use, prints progress on stderr and writes results.json and results.md next to this file.
 * A benchmark whose subject does not exist yet reports `skipped` with the reason; one that throws is reported
 * `failed` and the others still run (the exit code is then 1).
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RunningHub } from '../../infra/local/hub';
import { startTestHub, type TestHub } from '../e2e/support/test-hub';
import { describeMachine } from './support/machine';
import { type BenchResult, writeReport } from './support/report';
import type { BenchContext, Benchmark } from './support/types';

const BENCH_DIR = import.meta.dirname;
const HUB_LOG = join(tmpdir(), 'zwfw-bench-hub.log');
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** A benchmark file that does not load (its subject was renamed, say) is reported as failed, not fatal. */
async function loadBenchmark(file: string): Promise<Benchmark> {
  try {
    const module = (await import(pathToFileURL(join(BENCH_DIR, file)).href)) as { default?: Benchmark };
    if (!module.default?.run) throw new Error('no default export of a Benchmark');
    return module.default;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      name: file.replace(/\.bench\.ts$/, ''),
      description: `${file} (did not load)`,
      run: () => Promise.reject(new Error(`${file} did not load: ${message}`)),
    };
  }
}

function benchmarkFiles(only: string[]): string[] {
  return readdirSync(BENCH_DIR)
    .filter((file) => file.endsWith('.bench.ts'))
    .filter((file) => only.length === 0 || only.some((name) => file.startsWith(name)))
    .sort();
}

async function runOne(benchmark: Benchmark, context: BenchContext): Promise<BenchResult> {
  const began = performance.now();
  const seconds = () => Math.round((performance.now() - began) / 100) / 10;
  const about = { name: benchmark.name, description: benchmark.description };
  try {
    const outcome = await benchmark.run(context);
    if (outcome.status === 'skipped') context.progress(`skipped — ${outcome.reason}`);
    else {
      for (const f of outcome.figures) context.progress(`${f.name} = ${f.ratio.toFixed(3)}`);
      for (const f of outcome.unmeasured ?? []) context.progress(`${f.name} ${f.status} — ${f.reason}`);
    }
    return { ...about, seconds: seconds(), ...outcome };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    context.progress(`FAILED — ${message}`);
    return { ...about, seconds: seconds(), status: 'failed', error: message };
  }
}

/** The one hub of the run, started by the first benchmark that asks for it. */
function lazyHub() {
  let testHub: Promise<TestHub> | undefined;
  return {
    get: (): Promise<RunningHub> => {
      testHub ??= (async () => {
        log('starting a local hub (synth, engines, workers)…');
        const started = await startTestHub('bench');
        log(`local hub on 127.0.0.1:${started.hub.port}`);
        return started;
      })();
      return testHub.then((t) => t.hub);
    },
    stop: async () => {
      const started = await testHub?.catch(() => undefined);
      if (!started) return;
      log('stopping the local hub');
      await started.stop();
      // The hub's own lines (functions included) explain a failed figure; like every log, they hold no personal data.
      writeFileSync(HUB_LOG, `${started.logs.join('\n')}\n`);
      log(`hub log: ${HUB_LOG}`);
    },
  };
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const machine = describeMachine();
  log(`${machine.cores} cores, ${machine.cpuModel}, Node ${machine.node}`);
  // `npm run bench -- ingest` runs only the benchmarks whose file names start so, and leaves the committed
  // results alone: it writes its own next to the hub log.
  const only = process.argv.slice(2);
  const benchmarks = await Promise.all(benchmarkFiles(only).map(loadBenchmark));
  const hub = lazyHub();
  const results: BenchResult[] = [];
  try {
    for (const [i, benchmark] of benchmarks.entries()) {
      log(`(${i + 1}/${benchmarks.length}) ${benchmark.name}`);
      const progress = (message: string) => log(`  ${benchmark.name}: ${message}`);
      results.push(await runOne(benchmark, { progress, hub: hub.get }));
    }
  } finally {
    await hub.stop();
  }
  const dir = only.length === 0 ? BENCH_DIR : tmpdir();
  const files = { json: join(dir, 'results.json'), markdown: join(dir, 'results.md') };
  const seconds = Math.round((Date.now() - startedAt.getTime()) / 1000);
  writeReport({ startedAt: startedAt.toISOString(), seconds, machine, benchmarks: results }, files, {
    committed: dir === BENCH_DIR,
  });
  log(`wrote ${files.json} and ${files.markdown}`);
  const failed = results.some(
    (r) => r.status === 'failed' || (r.status === 'ok' && r.unmeasured?.some((f) => f.status === 'failed')),
  );
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(`bench run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
