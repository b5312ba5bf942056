import { readFileSync } from 'node:fs';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_S3_CREDENTIALS } from '../../../infra/local/engines/s3';
import type { HubOptions, RunningHub } from '../../../infra/local/hub';
import { LOCAL_REGION } from '../../../infra/local/model';
import { startTestHub } from './test-hub';

/**
 * Where an end-to-end file runs (`npm run e2e -- --target=local|localstack`, passed on as E2E_TARGET): the same test
 * code takes its API addresses, resource names and AWS clients from here.
 *
 * - `local` (default): a whole local hub of its own (test-hub.ts), on ephemeral ports.
 * - `localstack`: the stacks `npm run deploy:localstack` deployed, found through the outputs file it wrote
 *   (E2E_OUTPUTS_FILE, the shape of `cdk deploy --outputs-file`), the SDK pointed at AWS_ENDPOINT_URL.
 *
 * What only a local hub can show (its pollers' counters, its event log, its scheduler, invoking a function by its
 * template key) is under `local`, undefined on LocalStack: tests guard those assertions with it.
 */
export type TargetKind = 'local' | 'localstack';

export interface E2eTarget {
  kind: TargetKind;
  /** Base URL of the private cloud's API (locally: the port serving every route of both clouds). */
  apiUrl: string;
  /** Base URL of the public cloud's API. */
  publicApiUrl: string;
  /** A stack output, by cloud and key (e.g. `private`, `CaseQueueUrl`); throws when missing. */
  output(cloud: 'private' | 'public', key: string): string;
  /** SDK settings for a service of the target: the local engine or LocalStack's edge endpoint. */
  aws(service: 'dynamodb' | 's3' | 'sqs'): {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    forcePathStyle: boolean;
  };
  /** Options that point `npm run hub -- rollup` (and the other CLI commands with them) at this target. */
  cliTargetArgs(): string[];
  /** Resolves once the queues have nothing left to deliver (locally also the bus and every poller). */
  drained(options?: { timeoutMs?: number }): Promise<void>;
  /** The local hub, when the target is one. */
  local?: { hub: RunningHub; logs: string[]; stateDir: string };
  stop(): Promise<void>;
}

export const targetKind = (): TargetKind =>
  process.env.E2E_TARGET === 'localstack' ? 'localstack' : 'local';

/** Starts (locally) or finds (LocalStack) the target of this run. */
export async function startTarget(
  prefix: string,
  options: Omit<HubOptions, 'port' | 'stateDir' | 'log'> = {},
): Promise<E2eTarget> {
  return targetKind() === 'localstack' ? localStackTarget() : localTarget(prefix, options);
}

const STACK_SUFFIX = { private: '-private', public: '-public' } as const;

function outputReader(outputs: Record<string, Record<string, string>>) {
  return (cloud: 'private' | 'public', key: string): string => {
    const stack = Object.keys(outputs).find((name) => name.endsWith(STACK_SUFFIX[cloud]));
    const value = stack ? outputs[stack]?.[key] : undefined;
    if (!value) throw new Error(`output ${key} of the ${cloud} stack missing`);
    return value;
  };
}

async function localTarget(prefix: string, options: Omit<HubOptions, 'port' | 'stateDir' | 'log'>) {
  const { hub, logs, stop, stateDir } = await startTestHub(prefix, options);
  const engines = { dynamodb: hub.endpoints.dynamodb, s3: hub.endpoints.s3, sqs: hub.endpoints.sqs };
  const target: E2eTarget = {
    kind: 'local',
    apiUrl: `http://127.0.0.1:${hub.port}`,
    publicApiUrl: `http://127.0.0.1:${hub.publicPort}`,
    output: outputReader(hub.outputs),
    aws: (service) => ({
      endpoint: engines[service],
      region: LOCAL_REGION,
      credentials: LOCAL_S3_CREDENTIALS,
      forcePathStyle: true,
    }),
    cliTargetArgs: () => ['--state-dir', stateDir],
    drained: (drainOptions) => hub.drained(drainOptions),
    local: { hub, logs, stateDir },
    stop,
  };
  return target;
}

/**
 * LocalStack serves a REST API stage at `http://<api id>.execute-api.localhost.localstack.cloud:4566/<stage>/`; the
 * outputs name the AWS host (`https://<api id>.execute-api.<region>.amazonaws.com/<stage>/`). Unverified here (no
 * Docker on these machines): written from LocalStack's API Gateway documentation.
 */
export function localStackApiUrl(awsUrl: string, edge: string): string {
  const url = new URL(awsUrl);
  const apiId = /^([a-z0-9]+)\.execute-api\./.exec(url.hostname)?.[1];
  if (!apiId) return awsUrl.replace(/\/+$/, '');
  const edgeUrl = new URL(edge);
  return `${edgeUrl.protocol}//${apiId}.execute-api.localhost.localstack.cloud:${edgeUrl.port || '4566'}${url.pathname.replace(/\/+$/, '')}`;
}

function localStackTarget(): E2eTarget {
  const file = process.env.E2E_OUTPUTS_FILE;
  if (!file) throw new Error('E2E_OUTPUTS_FILE is not set: run through `npm run e2e -- --target=localstack`');
  const outputs = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>;
  const output = outputReader(outputs);
  const edge = process.env.AWS_ENDPOINT_URL ?? 'http://localhost:4566';
  const settings = {
    endpoint: edge,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    },
    forcePathStyle: true,
  };
  const queues = ['CaseQueueUrl', 'EvaluationQueueUrl'].map((key) => output('private', key));
  return {
    kind: 'localstack',
    apiUrl: localStackApiUrl(output('private', 'ApiUrl'), edge),
    publicApiUrl: localStackApiUrl(output('public', 'PublicApiUrl'), edge),
    output,
    aws: () => settings,
    // The CLI's clients resolve LocalStack from AWS_ENDPOINT_URL, as every SDK client does.
    cliTargetArgs: () => [
      '--table',
      output('private', 'StatsTableName'),
      '--bucket',
      output('private', 'AssessmentsBucketName'),
      '--bus',
      output('private', 'EventBusName'),
    ],
    drained: ({ timeoutMs = 60_000 } = {}) => queuesEmpty(new SQSClient(settings), queues, timeoutMs),
    stop: async () => {},
  };
}

/** The deployed queues hold nothing visible or in flight, twice in a row (a consumer may refill them). */
async function queuesEmpty(sqs: SQSClient, queueUrls: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quietRounds = 0;
  try {
    while (quietRounds < 2) {
      if (Date.now() > deadline) throw new Error(`queues not drained within ${timeoutMs} ms`);
      const depths = await Promise.all(
        queueUrls.map(async (QueueUrl) => {
          const { Attributes = {} } = await sqs.send(
            new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }),
          );
          return (
            Number(Attributes.ApproximateNumberOfMessages ?? 0) +
            Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
          );
        }),
      );
      quietRounds = depths.every((depth) => depth === 0) ? quietRounds + 1 : 0;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    sqs.destroy();
  }
}
