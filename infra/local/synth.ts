/**
 * Synthesises the CDK app with the pinned CLI into the hub's own assembly folder, so that what runs locally is
 * what deploys. A fingerprint of the sources the app reads is kept in the state folder: a restart with nothing
 * changed skips the ~6 s synth.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';

export interface SynthOptions {
  repoRoot: string;
  outDir: string;
  stateDir: string;
  /** Synthesise even when the sources have not changed. */
  force?: boolean;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/** What the CDK app reads; infra/local is the runtime itself and never shapes the templates. */
const SOURCE_DIRS = ['infra', 'functions', 'shared', 'events'];
const SOURCE_FILES = ['cdk.json', 'package-lock.json', 'tsconfig.json'];
/** npm's complaints about the machine's npmrc say nothing about the synth. */
const NOISE = /^npm warn /;
const IGNORED = [/^infra\/local\//, /(^|\/)node_modules\//, /\.test\.ts$/, /(^|\/)README\.md$/];

export async function synth(options: SynthOptions): Promise<{ skipped: boolean }> {
  const log = options.log ?? (() => {});
  const fingerprintFile = join(options.stateDir, 'synth.fingerprint.json');
  const fingerprint = sourceFingerprint(options.repoRoot, options.outDir);
  if (
    !options.force &&
    existsSync(join(options.outDir, 'manifest.json')) &&
    readText(fingerprintFile) === fingerprint
  ) {
    log('synth: sources unchanged since the last synth, reusing the cloud assembly');
    return { skipped: true };
  }
  log('synth: cdk synth (bundling functions with esbuild)…');
  await runCdkSynth(options, log);
  mkdirSync(options.stateDir, { recursive: true });
  writeFileSync(fingerprintFile, fingerprint);
  log(`synth: cloud assembly written to ${relative(options.repoRoot, options.outDir) || '.'}`);
  return { skipped: false };
}

/** Paths, sizes and modification times of every source file: cheap, and any edit changes it. */
export function sourceFingerprint(repoRoot: string, outDir: string): string {
  const hash = createHash('sha256').update(outDir);
  const files = [
    ...SOURCE_DIRS.flatMap((dir) => listFiles(repoRoot, join(repoRoot, dir))),
    ...SOURCE_FILES.map((file) => join(repoRoot, file)).filter((file) => existsSync(file)),
  ].sort();
  for (const file of files) {
    const path = relative(repoRoot, file).split('\\').join('/');
    if (IGNORED.some((pattern) => pattern.test(path))) continue;
    const stat = statSync(file);
    hash.update(`${path}\0${stat.size}\0${stat.mtimeMs}\n`);
  }
  return hash.digest('hex');
}

function listFiles(repoRoot: string, dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : listFiles(repoRoot, path);
    return entry.isFile() ? [path] : [];
  });
}

function runCdkSynth(options: SynthOptions, log: (line: string) => void): Promise<void> {
  const cli = join(options.repoRoot, 'node_modules', '.bin', 'cdk');
  if (!existsSync(cli)) return Promise.reject(new Error(`synth: ${cli} not found; run npm ci first`));
  const args = ['synth', '--quiet', '--no-notices', '--no-version-reporting', '-o', options.outDir];
  const child = spawn(cli, args, {
    cwd: options.repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: an abort must also end the app and the esbuild processes the CLI starts.
    detached: true,
    env: {
      ...process.env,
      CDK_DISABLE_VERSION_CHECK: 'true',
      CDK_DISABLE_CLI_TELEMETRY: 'true',
      // Offline machines would otherwise wait on the EC2 metadata service looking for credentials.
      AWS_EC2_METADATA_DISABLED: 'true',
      CDK_DEFAULT_ACCOUNT: process.env.CDK_DEFAULT_ACCOUNT ?? '000000000000',
      CDK_DEFAULT_REGION: process.env.CDK_DEFAULT_REGION ?? 'us-east-1',
    },
  });
  const tail: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 60) tail.shift();
      if (line.trim() && !NOISE.test(line)) log(`synth: ${line}`);
    });
  }
  const killGroup = () => {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
  };
  options.signal?.addEventListener('abort', killGroup, { once: true });
  return new Promise<void>((resolve, reject) => {
    child.once('error', (error) => reject(new Error(`synth: cannot run the CDK CLI: ${error.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(new Error(`synth: cdk synth failed (${signal ?? `exit code ${code}`}):\n${tail.join('\n')}`));
    });
  });
}

function readText(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}
