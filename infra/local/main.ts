/**
 * `npm start`: the whole hub on 127.0.0.1:HUB_PORT (default 3000). Ctrl-C (SIGINT) or SIGTERM stops every
 * part — gateway, pollers, workers, engines, the DynamoDB Local JVM — and exits 0.
 */
import { join, relative } from 'node:path';
import { type RunningHub, startHub } from './hub';
import { DEV_CLIENTS_FILE, REPO_ROOT } from './workers';

const startedAt = Date.now();
const stateDir = process.env.HUB_STATE_DIR ?? join(REPO_ROOT, '.hub');
const port = Number(process.env.HUB_PORT ?? 3000);
const startup = new AbortController();
let starting: Promise<RunningHub> | undefined;
let stopping = false;
let firstSignalAt = 0;
// Ctrl-C reaches us more than once: the terminal signals the whole process group, and npm relays the
// signal to its child as well. Copies arriving within this window are one Ctrl-C, not an impatient second.
const RELAYED_SIGNAL_WINDOW_MS = 2_000;

async function shutdown(signal: string): Promise<void> {
  if (stopping && Date.now() - firstSignalAt < RELAYED_SIGNAL_WINDOW_MS) return;
  if (stopping) {
    // A second Ctrl-C while stopping: the user wants out now. Engines still get their kill from stop().
    process.stderr.write(`\n${signal} again: exiting without waiting\n`);
    process.exit(1);
  }
  stopping = true;
  firstSignalAt = Date.now();
  process.stdout.write(`\n${signal}: stopping the hub…\n`);
  startup.abort();
  // Mid-startup, startHub itself stops what it has started (the JVM included) before it rejects.
  const hub = await starting?.catch(() => undefined);
  await hub?.stop();
  process.stdout.write('hub stopped\n');
  process.exit(0);
}

process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

try {
  process.stdout.write(
    `zwfw-hub: starting the local hub (state in ${relative(REPO_ROOT, stateDir) || '.'}/)\n`,
  );
  starting = startHub({ port, stateDir, signal: startup.signal });
  const hub = await starting;
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  process.stdout.write(
    [
      '',
      `zwfw-hub is up in ${seconds} s`,
      `  API         ${hub.endpoints.gateway}   (GET /health)`,
      `  state       ${stateDir}`,
      `  outputs     ${join(stateDir, 'outputs.json')}   endpoints: ${join(stateDir, 'endpoints.json')}`,
      `  clients     ${DEV_CLIENTS_FILE}   (development secrets only)`,
      `  functions   ${hub.model.functions.length}, routes ${hub.model.routes.length}, queues ${hub.model.queues.length}, tables ${hub.model.tables.length}`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
} catch (error) {
  if (!stopping) {
    process.stderr.write(
      `zwfw-hub failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  }
}
