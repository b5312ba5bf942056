import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/engines/ports';

/**
 * `npm start` as a developer runs it: the hub answers GET /health, and Ctrl-C — SIGINT to the whole
 * foreground process group, as a terminal sends it — leaves no java or node process behind.
 */

const repoRoot = join(import.meta.dirname, '../..');
const stateDir = mkdtempSync(join(tmpdir(), 'zwfw-npm-start-'));
let child: ChildProcess | undefined;

afterAll(() => {
  // Only reached with something still running when an assertion failed: do not leak it into CI.
  if (child?.pid && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
  rmSync(stateDir, { recursive: true, force: true });
});

/** Every process whose ancestry leads to `root`, read from /proc. */
function descendantsOf(root: number): { pid: number; command: string }[] {
  const parents = new Map<number, number>();
  const commands = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The command name is in parentheses and may hold spaces; the parent pid follows it.
      const afterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(pid, Number(afterName[1]));
      commands.set(pid, readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim());
    } catch {
      // The process ended while we looked.
    }
  }
  const found: { pid: number; command: string }[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift() as number;
    for (const [pid, ppid] of parents) {
      if (ppid === parent) {
        found.push({ pid, command: commands.get(pid) ?? '' });
        queue.push(pid);
      }
    }
  }
  return found;
}

/** Running, as opposed to gone or a zombie waiting for a parent that may never reap it in a container. */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

async function waitForHealth(port: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < deadline) {
    if (child?.exitCode !== null) throw new Error(`npm start exited early with ${child?.exitCode}`);
    try {
      last = (await fetch(`http://127.0.0.1:${port}/health`)).status;
      if (last === 200) return last;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return last;
}

describe('npm start', () => {
  it('serves /health and stops cleanly on Ctrl-C with no child left', async () => {
    const port = await freePort();
    let output = '';
    child = spawn('npm', ['start'], {
      cwd: repoRoot,
      env: { ...process.env, HUB_PORT: String(port), HUB_STATE_DIR: stateDir },
      // Its own process group, like a terminal's foreground job, so SIGINT can go to the whole group.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child?.once('exit', (code, signal) => resolve({ code, signal })),
    );

    // The acceptance bound is 60 s on two cores; the wait allows more so a slow CI machine reports the status.
    expect(await waitForHealth(port, 170_000), output).toBe(200);
    const running = descendantsOf(child.pid as number);
    expect(
      running.some((p) => /java/.test(p.command)),
      'DynamoDB Local runs under npm start',
    ).toBe(true);

    process.kill(-(child.pid as number), 'SIGINT');
    // npm itself dies of the SIGINT it was sent (as in a terminal); the hub beneath it stops in order.
    const { code, signal } = await exited;
    expect(code === 0 || signal === 'SIGINT', `exit ${code} ${signal}`).toBe(true);
    expect(output).toContain('hub stopped');
    // Give the kernel a moment to reap, then nothing that npm start spawned may remain.
    await new Promise((r) => setTimeout(r, 500));
    const leftovers = running.filter((p) => alive(p.pid));
    expect(leftovers, output).toEqual([]);
  }, 240_000);
});
