import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { synth } from '../../../infra/local/synth';
import { REPO_ROOT } from '../../../infra/local/workers';

/**
 * One cloud assembly for every end-to-end file of a run. Each hub used to synthesise its own (ten esbuild
 * bundles, 15–30 s on two cores); now the first file synthesises under a lock and the others reuse it —
 * synth.ts skips when the sources' fingerprint is unchanged, so a later run with no source change skips too.
 */
const CACHE_DIR = join(REPO_ROOT, 'node_modules', '.cache', 'zwfw-e2e');
const ASSEMBLY_DIR = join(CACHE_DIR, 'cdk.out');
const LOCK_DIR = join(CACHE_DIR, 'synth.lock');
const LOCK_WAIT_MS = 300_000;

export async function sharedAssembly(): Promise<{ assemblyDir: string; skipSynth: true }> {
  mkdirSync(CACHE_DIR, { recursive: true });
  await acquireLock();
  try {
    await synth({ repoRoot: REPO_ROOT, outDir: ASSEMBLY_DIR, stateDir: CACHE_DIR });
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
  return { assemblyDir: ASSEMBLY_DIR, skipSynth: true };
}

/** mkdir is atomic: whoever creates the folder holds the lock; a lock whose owner died is taken over. */
async function acquireLock(): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(join(LOCK_DIR, 'pid'), String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (ownerGone()) rmSync(LOCK_DIR, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`waited ${LOCK_WAIT_MS} ms for the e2e synth lock`);
      else await sleep(200);
    }
  }
}

function ownerGone(): boolean {
  try {
    const pid = Number(readFileSync(join(LOCK_DIR, 'pid'), 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // No pid file yet (the owner is between mkdir and write) counts as alive; ESRCH means it died.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
