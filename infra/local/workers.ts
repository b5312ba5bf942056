/**
 * The local Lambda: every function runs from its esbuild bundle in worker threads of its own, each worker
 * with the function's own environment (process.env is per worker), so two functions never share module
 * state, clients or variables. A small pool per function gives concurrency; a timeout or a crash kills the
 * worker and the next invocation gets a fresh one (a cold start), as Lambda does.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import type { InvokeMessage, ResultMessage, WorkerInit } from './function-worker';
import {
  type FunctionHost,
  type FunctionModel,
  type HubModel,
  LOCAL_REGION,
  type LocalEndpoints,
  type ResourceKey,
} from './model';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '../..');
export const DEV_CLIENTS_FILE = join(here, 'clients.dev.json');
const DEFAULT_POOL_SIZE = 5;
/** DEVELOPMENT ONLY: the key local functions HMAC ID numbers with; the cloud reads its key from Secrets Manager. */
export const DEV_ID_HMAC_KEY = 'dev-only-id-hmac-key-not-secret-do-not-use-in-production';

export interface FunctionHostOptions {
  model: HubModel;
  endpoints: LocalEndpoints;
  /** Concurrent workers per function (default 5). */
  poolSize?: number;
  /** Each function's output is also appended to <logDir>/<functionName>.log. */
  logDir?: string;
  /** Where compiled runtime files go; a temporary folder when absent. */
  runtimeDir?: string;
  /** Receives every output line of every worker, prefixed with the function name. */
  log?: (line: string) => void;
  /** Variables every function gets locally in place of a cloud service (e.g. the token signing key file). */
  localEnvironment?: Record<string, string>;
}

export interface FunctionStats {
  invocations: number;
  errors: number;
  timeouts: number;
  crashes: number;
  coldStarts: number;
}

export interface LocalFunctionHost extends FunctionHost {
  stats(): Record<ResourceKey, FunctionStats>;
  /**
   * Reliability tests: kills one worker of the function while it runs an invocation, as a Lambda sandbox
   * dying mid-batch (the invocation fails with Runtime.ExitError). False when none of its workers is busy.
   */
  crashBusyWorker(functionKey: ResourceKey): boolean;
}

/** Raised for an invocation that ran out of time, like Lambda's `Task timed out after N seconds`. */
export class FunctionTimeoutError extends Error {
  override name = 'FunctionTimeoutError';
}

/** The handler threw or rejected; errorType is the handler's error name. */
export class FunctionError extends Error {
  override name = 'FunctionError';
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startFunctionHost(options: FunctionHostOptions): Promise<LocalFunctionHost> {
  for (const fn of options.model.functions) assertBundle(fn);
  const ownRuntimeDir = options.runtimeDir ? undefined : mkdtempSync(join(tmpdir(), 'zwfw-hub-runtime-'));
  const workerFile = await compileWorkerEntry(options.runtimeDir ?? (ownRuntimeDir as string));
  if (options.logDir) mkdirSync(options.logDir, { recursive: true });
  const pools = new Map(
    options.model.functions.map((fn) => [fn.key, new FunctionPool(fn, workerFile, options)] as const),
  );
  return {
    async invoke(functionKey, event) {
      const pool = pools.get(functionKey);
      if (!pool) throw new Error(`no local function ${functionKey}`);
      return pool.invoke(event);
    },
    async stop() {
      await Promise.all([...pools.values()].map((pool) => pool.stop()));
      if (ownRuntimeDir) rmSync(ownRuntimeDir, { recursive: true, force: true });
    },
    stats() {
      return Object.fromEntries([...pools].map(([key, pool]) => [key, { ...pool.stats }]));
    },
    crashBusyWorker(functionKey) {
      return pools.get(functionKey)?.crashBusy() ?? false;
    },
  };
}

function assertBundle(fn: FunctionModel): void {
  const modulePath = fn.handler.slice(0, fn.handler.lastIndexOf('.'));
  const found = ['.mjs', '.js', '.cjs'].some((extension) =>
    existsSync(join(fn.bundleDir, modulePath + extension)),
  );
  if (!found) throw new Error(`${fn.key}: bundle ${join(fn.bundleDir, modulePath)}.mjs|.js not found`);
}

/** Workers cannot load TypeScript under every runner (vitest, tsx), so the entry is compiled once. */
async function compileWorkerEntry(runtimeDir: string): Promise<string> {
  mkdirSync(runtimeDir, { recursive: true });
  const outfile = join(runtimeDir, 'function-worker.mjs');
  await build({
    entryPoints: [join(here, 'function-worker.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
  });
  return outfile;
}

export function functionEnvironment(
  fn: FunctionModel,
  endpoints: LocalEndpoints,
  localEnvironment: Record<string, string> = {},
): Record<string, string> {
  return {
    ...fn.environment,
    ...localEnvironment,
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.eventbridge,
    // s3rver would store the SDK's aws-chunked framing as object content.
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
    HUB_CLIENTS_FILE: DEV_CLIENTS_FILE,
    HUB_ID_HMAC_KEY: DEV_ID_HMAC_KEY,
  };
}

interface PendingInvocation {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

class FunctionWorker {
  readonly worker: Worker;
  private pending: PendingInvocation | undefined;
  alive = true;

  constructor(
    private readonly fn: FunctionModel,
    workerFile: string,
    endpoints: LocalEndpoints,
    localEnvironment: Record<string, string> | undefined,
    private readonly stats: FunctionStats,
    output: (line: string) => void,
  ) {
    const init: WorkerInit = {
      bundleDir: fn.bundleDir,
      handler: fn.handler,
      functionName: fn.functionName,
      functionArn: fn.arn,
      memoryMb: fn.memoryMb,
    };
    this.worker = new Worker(workerFile, {
      workerData: init,
      env: functionEnvironment(fn, endpoints, localEnvironment),
      stdout: true,
      stderr: true,
      // Approximates the function's memory setting; a runaway handler dies instead of the hub.
      resourceLimits: { maxOldGenerationSizeMb: Math.max(fn.memoryMb, 256) },
    });
    for (const stream of [this.worker.stdout, this.worker.stderr]) {
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', output);
    }
    this.worker.on('message', (message: ResultMessage) => this.settle(message));
    this.worker.on('error', (error) => {
      this.stats.crashes++;
      this.fail(new FunctionError('Runtime.ExitError', `${fn.functionName} crashed: ${error.message}`));
    });
    this.worker.on('exit', (code) =>
      this.fail(new FunctionError('Runtime.ExitError', `${fn.functionName} exited with code ${code}`)),
    );
  }

  run(event: unknown): Promise<unknown> {
    const timeoutMs = this.fn.timeoutSeconds * 1000;
    const message: InvokeMessage = {
      type: 'invoke',
      requestId: randomUUID(),
      event,
      deadline: Date.now() + timeoutMs,
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.stats.timeouts++;
        this.fail(
          new FunctionTimeoutError(
            `${this.fn.functionName}: Task timed out after ${this.fn.timeoutSeconds} seconds`,
          ),
        );
        void this.worker.terminate();
      }, timeoutMs);
      this.pending = { resolve, reject, timer };
      this.worker.postMessage(message);
    });
  }

  terminate(): Promise<unknown> {
    this.fail(new Error(`${this.fn.functionName}: the function host stopped`));
    return this.worker.terminate();
  }

  private settle(message: ResultMessage): void {
    const pending = this.take();
    if (!pending) return;
    if (message.ok) pending.resolve(message.value);
    else pending.reject(new FunctionError(message.error.errorType, message.error.errorMessage));
  }

  private fail(error: Error): void {
    this.alive = false;
    this.take()?.reject(error);
  }

  private take(): PendingInvocation | undefined {
    const pending = this.pending;
    this.pending = undefined;
    if (pending) clearTimeout(pending.timer);
    return pending;
  }
}

class FunctionPool {
  readonly stats: FunctionStats = { invocations: 0, errors: 0, timeouts: 0, crashes: 0, coldStarts: 0 };
  private readonly idle: FunctionWorker[] = [];
  private readonly all = new Set<FunctionWorker>();
  private readonly waiting: ((worker: FunctionWorker) => void)[] = [];
  private readonly logFile: WriteStream | undefined;
  private stopped = false;

  constructor(
    private readonly fn: FunctionModel,
    private readonly workerFile: string,
    private readonly options: FunctionHostOptions,
  ) {
    this.logFile = options.logDir
      ? createWriteStream(join(options.logDir, `${fn.functionName}.log`), { flags: 'a' })
      : undefined;
  }

  async invoke(event: unknown): Promise<unknown> {
    if (this.stopped) throw new Error(`${this.fn.functionName}: the function host stopped`);
    const worker = await this.acquire();
    this.stats.invocations++;
    try {
      return await worker.run(event);
    } catch (error) {
      this.stats.errors++;
      throw error;
    } finally {
      this.release(worker);
    }
  }

  crashBusy(): boolean {
    const busy = [...this.all].find((worker) => worker.alive && !this.idle.includes(worker));
    if (!busy) return false;
    this.stats.crashes++;
    void busy.worker.terminate();
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.all].map((worker) => worker.terminate()));
    this.all.clear();
    await new Promise<void>((resolve) => (this.logFile ? this.logFile.end(resolve) : resolve()));
  }

  private acquire(): Promise<FunctionWorker> {
    let worker = this.idle.pop();
    // A worker can die while idle (a stray timer throwing after its invocation ended).
    while (worker && !worker.alive) {
      this.all.delete(worker);
      worker = this.idle.pop();
    }
    if (worker) return Promise.resolve(worker);
    // As many workers as the SQS pollers' five concurrent batches (sqs-poller.ts); spawned only when needed.
    if (this.all.size < (this.options.poolSize ?? DEFAULT_POOL_SIZE)) return Promise.resolve(this.spawn());
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(worker: FunctionWorker): void {
    let next = worker;
    if (!worker.alive) {
      this.all.delete(worker);
      if (this.stopped || this.waiting.length === 0) return;
      next = this.spawn();
    }
    const waiter = this.waiting.shift();
    if (waiter) waiter(next);
    else this.idle.push(next);
  }

  private spawn(): FunctionWorker {
    this.stats.coldStarts++;
    const worker = new FunctionWorker(
      this.fn,
      this.workerFile,
      this.options.endpoints,
      this.options.localEnvironment,
      this.stats,
      (line) => this.output(line),
    );
    this.all.add(worker);
    return worker;
  }

  private output(line: string): void {
    this.logFile?.write(`${line}\n`);
    (this.options.log ?? ((l) => process.stdout.write(`${l}\n`)))(`[${this.fn.functionName}] ${line}`);
  }
}
