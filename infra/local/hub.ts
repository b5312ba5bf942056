/**
 * The whole hub on one machine, driven by the synthesised CDK template: synth → model → engines
 * (DynamoDB Local, s3rver, local-aws-sqs, local EventBridge) → resources → function workers → queue pollers,
 * scheduler → gateway. GET /health turns 200 only once all of it runs. stop() takes it down in reverse order,
 * the DynamoDB Local JVM included.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { S3Client } from '@aws-sdk/client-s3';
import { ensureLocalSigningKey } from '../../functions/auth-verify/signing-key';
/** Auth verification's public route with the token keys (infra/constructs/auth-verification.ts). */
import { JWKS_PATH } from '../constructs/user-tokens';
import { type DashboardSource, s3DashboardSource } from './dashboard-site';
import { startDynamoDbLocal } from './engines/dynamodb';
import { freePort } from './engines/ports';
import { LOCAL_S3_CREDENTIALS, startS3 } from './engines/s3';
import { startSqs } from './engines/sqs';
import { startEventBridge } from './eventbridge';
import { type FaultCounters, type FaultPlan, startFaultProxy } from './fault-proxy';
import { startGateway } from './gateway';
import { type HubModel, LOCAL_REGION, type LocalEndpoints } from './model';
import { type HubEndpoints, type StackOutputs, writeHubFiles } from './outputs';
import { localClients, provision } from './provision';
import { restoreQueueMessages, saveQueueMessages } from './queue-snapshot';
import { startS3Notifications } from './s3-notifications';
import { type RunningScheduler, startScheduler } from './scheduler';
import { seedLocalData } from './seed';
import { type SqsPollers, startSqsPollers } from './sqs-poller';
import { synth } from './synth';
import { createTargetDelivery } from './targets';
import { loadHubModel, routesOfSharedPort, routesOfStack } from './template';
import { type LocalFunctionHost, REPO_ROOT, startFunctionHost } from './workers';

export interface HubOptions {
  /** Gateway port; 0 picks a free one (tests). Default: HUB_PORT or 3000. */
  port?: number;
  /**
   * Port of the public cloud's API alone (its routes only, as the internet sees it); 0 picks a free one. Default:
   * HUB_PUBLIC_PORT, else a free port when `port` is 0, else `port` + 1.
   */
  publicPort?: number;
  /** State that survives restarts (tables, objects, logs, outputs). Default: <repo>/.hub */
  stateDir?: string;
  /** Cloud assembly to run. Default: <stateDir>/cdk.out, synthesised first. */
  assemblyDir?: string;
  /** Run the assembly as it is, without cdk synth. */
  skipSynth?: boolean;
  /** Every line the hub and its functions print. Default: stdout. */
  log?: (line: string) => void;
  /** Aborting it during startup stops what has started and rejects. */
  signal?: AbortSignal;
  /**
   * Caps every queue's visibility timeout. Tests use it so that a failed message comes back in seconds
   * rather than after the deployed 6 × function timeout; the redrive count is unchanged.
   */
  maxVisibilityTimeoutSeconds?: number;
  /** Per-client usage plans (rate limits) as in the cloud; benchmarks switch them off to measure the hub. */
  enforceUsagePlans?: boolean;
  /**
   * Reliability tests only: the functions reach DynamoDB through a proxy that throttles (and slows) a share
   * of their requests (fault-proxy.ts). The hub's own provisioning and seeding go direct.
   */
  faults?: { dynamodb?: FaultPlan };
  /**
   * Variables given to every function over the template's own, as a stage setting would: tests shorten
   * waits and unlock clocks this way (e.g. evaluation ingest's CASE_WAIT_SECONDS, CASE_RECHECK_SECONDS and
   * the rectification sweep's SWEEP_MAX_DAYS_AHEAD) without a second synthesis. The hub's own local
   * variables (signing key file, JWKS URL) and the engines' endpoints still win.
   */
  functionEnvironment?: Record<string, string>;
}

export interface RunningHub {
  /** Every route of both clouds (where both declare one, the private cloud's), GET /health, /dashboard. */
  port: number;
  /** The public cloud's API only, and /dashboard read from the public cloud's published snapshots. */
  publicPort: number;
  endpoints: HubEndpoints;
  outputs: StackOutputs;
  model: HubModel;
  host: LocalFunctionHost;
  pollers: SqsPollers;
  scheduler: RunningScheduler;
  /** The DynamoDB Local JVM, so callers can check that stop() ended it. */
  dynamoDbPid: number | undefined;
  /** What the fault proxy did, when `faults` asked for one. */
  faultCounters(): FaultCounters | undefined;
  /** Changes the fault plan of a hub started with `faults` (e.g. ends an outage); throws on a hub without. */
  setDynamoDbFaults(plan: FaultPlan): void;
  /** Resolves once no event is being delivered and every polled queue is empty with nothing in flight. */
  drained(options?: { timeoutMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

export async function startHub(options: HubOptions = {}): Promise<RunningHub> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const logEntry = (entry: Record<string, unknown>) => log(`[hub] ${JSON.stringify(entry)}`);
  const stateDir = resolve(options.stateDir ?? join(REPO_ROOT, '.hub'));
  const assemblyDir = resolve(options.assemblyDir ?? join(stateDir, 'cdk.out'));
  const stoppers: { name: string; stop: () => Promise<unknown> | unknown }[] = [];
  const stopAll = async () => {
    for (const { name, stop } of stoppers.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        logEntry({ level: 'ERROR', message: `failed to stop ${name}`, error: String(error) });
      }
    }
  };
  const checkAborted = () => {
    if (options.signal?.aborted) throw new Error('hub startup aborted');
  };
  let ready = false;

  try {
    if (!options.skipSynth) {
      await synth({
        repoRoot: REPO_ROOT,
        outDir: assemblyDir,
        stateDir,
        log,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    }
    checkAborted();
    const [dynamoPort, sqsPort, eventBridgePort] = await Promise.all([freePort(), freePort(), freePort()]);
    const model = loadHubModel(assemblyDir, {
      sqsEndpoint: `http://127.0.0.1:${sqsPort}`,
      warn: (message) => log(`[hub] template: ${message}`),
    });
    if (options.maxVisibilityTimeoutSeconds !== undefined) {
      for (const queue of model.queues) {
        queue.visibilityTimeoutSeconds = Math.min(
          queue.visibilityTimeoutSeconds,
          options.maxVisibilityTimeoutSeconds,
        );
      }
    }

    const dynamoDir = join(stateDir, 'dynamodb');
    mkdirSync(dynamoDir, { recursive: true });
    const [dynamo, sqsEngine, s3Engine] = await Promise.all([
      startDynamoDbLocal({ port: dynamoPort, dataDir: dynamoDir }).then((engine) => {
        stoppers.push({ name: 'DynamoDB Local', stop: engine.stop });
        return engine;
      }),
      startSqs({ port: sqsPort }).then((engine) => {
        stoppers.push({ name: 'SQS engine', stop: engine.stop });
        return engine;
      }),
      startS3({ port: 0, directory: join(stateDir, 's3') }).then((engine) => {
        stoppers.push({ name: 'S3 engine', stop: engine.stop });
        return engine;
      }),
    ]);
    checkAborted();
    const endpoints: LocalEndpoints = {
      dynamodb: dynamo.endpoint,
      sqs: sqsEngine.endpoint,
      s3: s3Engine.endpoint,
      eventbridge: `http://127.0.0.1:${eventBridgePort}`,
    };
    const dynamoFaults = options.faults?.dynamodb
      ? await startFaultProxy(endpoints.dynamodb, options.faults.dynamodb)
      : undefined;
    if (dynamoFaults) stoppers.push({ name: 'DynamoDB fault proxy', stop: dynamoFaults.stop });
    const functionEndpoints: LocalEndpoints = dynamoFaults
      ? { ...endpoints, dynamodb: dynamoFaults.endpoint }
      : endpoints;
    const clients = localClients(endpoints);
    stoppers.push({
      name: 'clients',
      stop: () => {
        for (const client of Object.values(clients)) client.destroy();
      },
    });
    await provision(model, clients);
    await seedLocalData({ model, dynamodb: clients.dynamodb, stateDir, log: logEntry });
    const queueSnapshot = join(stateDir, 'queues.json');
    const restored = await restoreQueueMessages(clients.sqs, model, queueSnapshot, (message) =>
      logEntry({ level: 'WARN', message }),
    );
    if (restored > 0) logEntry({ level: 'INFO', message: `restored ${restored} queued messages` });
    // Registered here, it runs after pollers, workers and the bus have stopped and before the engine does.
    stoppers.push({
      name: 'queue snapshot',
      stop: async () => {
        const saved = await saveQueueMessages(clients.sqs, model, queueSnapshot);
        if (saved > 0)
          logEntry({ level: 'INFO', message: `saved ${saved} queued messages for the next start` });
      },
    });
    checkAborted();

    // Locally a key file plays the KMS signing key; kept in the state folder so tokens survive restarts.
    const signingKeyFile = join(stateDir, 'keys', 'token-signing.jwk');
    await ensureLocalSigningKey(signingKeyFile);
    // Chosen before the functions start: they must know where the gateway serves the hub's JWKS.
    const requestedPort = options.port ?? Number(process.env.HUB_PORT ?? 3000);
    const gatewayPort = requestedPort === 0 ? await freePort() : requestedPort;
    const host = await startFunctionHost({
      model,
      endpoints: functionEndpoints,
      logDir: join(stateDir, 'logs'),
      runtimeDir: join(stateDir, 'runtime'),
      log,
      localEnvironment: {
        ...options.functionEnvironment,
        HUB_SIGNING_KEY_FILE: signingKeyFile,
        // The template's JWKS URL names the cloud API's execute-api host; locally the gateway serves that route.
        TOKEN_JWKS_URL: `http://127.0.0.1:${gatewayPort}${JWKS_PATH}`,
      },
    });
    stoppers.push({ name: 'function workers', stop: host.stop });

    const eventBridgeClient = new EventBridgeClient({
      endpoint: endpoints.eventbridge,
      region: LOCAL_REGION,
      credentials: LOCAL_S3_CREDENTIALS,
    });
    stoppers.push({ name: 'EventBridge client', stop: () => eventBridgeClient.destroy() });
    const deliver = createTargetDelivery({
      model,
      host,
      sqs: clients.sqs,
      eventBridge: eventBridgeClient,
      log: logEntry,
    });
    const eventBridge = await startEventBridge({
      model,
      port: eventBridgePort,
      deliver,
      logFile: join(stateDir, 'logs', 'events.jsonl'),
      log: logEntry,
    });
    stoppers.push({ name: 'local EventBridge', stop: eventBridge.stop });
    if (eventBridge.endpoint !== endpoints.eventbridge) {
      throw new Error(
        `local EventBridge listens on ${eventBridge.endpoint}, functions were told ${endpoints.eventbridge}`,
      );
    }

    // S3 puts "Object Created" on the default bus for buckets with EventBridge notifications (issue 6).
    const s3Notifications = startS3Notifications({
      model,
      s3: s3Engine,
      deliver,
      logFile: join(stateDir, 'logs', 'events.jsonl'),
      log: logEntry,
    });
    stoppers.push({ name: 'S3 notifications', stop: s3Notifications.stop });

    const pollers = startSqsPollers({ model, host, sqs: clients.sqs, log: logEntry });
    stoppers.push({ name: 'SQS pollers', stop: pollers.stop });
    const scheduler = startScheduler({ model, deliver, log: logEntry });
    stoppers.push({ name: 'scheduler', stop: () => scheduler.stop() });

    const clouds = cloudStacksOf(model);
    const usagePlans =
      options.enforceUsagePlans === undefined ? {} : { enforceUsagePlans: options.enforceUsagePlans };
    const gateway = await startGateway({
      model: { ...model, routes: routesOfSharedPort(model.routes, clouds.private) },
      host,
      port: gatewayPort,
      isReady: () => ready,
      log: logEntry,
      ...dashboardOf(model, clients.s3, clouds.private, 'AssessmentsBucketName'),
      ...usagePlans,
    });
    // The gateways stop first so that no request arrives while the rest goes down.
    stoppers.push({
      name: 'gateway',
      stop: () => {
        ready = false;
        return gateway.stop();
      },
    });
    const publicGateway = await startGateway({
      model: { ...model, routes: routesOfStack(model.routes, clouds.public) },
      host,
      port: options.publicPort ?? defaultPublicPort(requestedPort),
      isReady: () => ready,
      log: (entry) => logEntry({ ...entry, api: 'public' }),
      // What the public cloud serves: the copies the snapshot publisher made, not the private bucket.
      ...dashboardOf(model, clients.s3, clouds.public, 'SnapshotsBucketName'),
      ...usagePlans,
    });
    stoppers.push({ name: 'public gateway', stop: () => publicGateway.stop() });
    checkAborted();

    const hubEndpoints = writeHubFiles(stateDir, model, endpoints, gateway.port, publicGateway.port);
    ready = true;

    const drained = async ({ timeoutMs = 60_000 } = {}) => {
      const deadline = Date.now() + timeoutMs;
      // A consumer can publish events whose targets fill queues again: settle until both stay quiet.
      do {
        await Promise.all([eventBridge.idle(), s3Notifications.idle()]);
        await pollers.drained({ timeoutMs: Math.max(1, deadline - Date.now()) });
        await Promise.all([eventBridge.idle(), s3Notifications.idle()]);
      } while (!(await pollers.idle()) && Date.now() < deadline);
    };

    return {
      port: gateway.port,
      publicPort: publicGateway.port,
      endpoints: hubEndpoints,
      outputs: model.outputs,
      model,
      host,
      pollers,
      scheduler,
      dynamoDbPid: dynamo.pid,
      faultCounters: () => dynamoFaults?.counters(),
      setDynamoDbFaults: (plan) => {
        if (!dynamoFaults) throw new Error('the hub was started without a fault proxy (options.faults)');
        dynamoFaults.update(plan);
      },
      drained,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The names of the private and public cloud stacks of the assembly (`zwfw-<stage>-private|public`). */
function cloudStacksOf(model: HubModel): { private: string; public: string } {
  const stacks = Object.keys(model.outputs);
  const named = (suffix: string) => stacks.find((stack) => stack.endsWith(suffix)) ?? `(no${suffix} stack)`;
  return { private: named('-private'), public: named('-public') };
}

function defaultPublicPort(requestedPort: number): number {
  if (process.env.HUB_PUBLIC_PORT !== undefined) return Number(process.env.HUB_PUBLIC_PORT);
  return requestedPort === 0 ? 0 : requestedPort + 1;
}

/**
 * `/dashboard` reads the snapshots of the bucket a stack names in its outputs: the shared port the private
 * assessments bucket (what the rollup just wrote), the public port the published copies (what the cloud serves).
 */
function dashboardOf(
  model: HubModel,
  s3: S3Client,
  stack: string,
  outputKey: string,
): { dashboard?: DashboardSource } {
  const bucket = model.outputs[stack]?.[outputKey];
  return bucket ? { dashboard: s3DashboardSource(s3, bucket) } : {};
}
