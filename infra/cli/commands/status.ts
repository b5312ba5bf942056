import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_S3_CREDENTIALS } from '../../local/engines/s3';
import { LOCAL_REGION } from '../../local/model';
import { readEndpoints, readOutputs } from '../../local/outputs';
import type { CliIo } from '../cli';
import { localStateDir, parseCommandLine } from '../command-kit';
import { CliError, UsageError } from '../errors';
import { privateStackName } from '../target';
import { ASSESSMENTS_BUCKET_OUTPUT } from './rollup';

export const STATUS_HELP = `Usage: npm run hub -- status [options]

The local hub at a glance: whether it answers GET /health, every queue's depth (visible and in flight)
with its dead-letter queue's depth, and the last assessment rollup (the newest snapshot in the
assessments bucket).

Options:
  --json             the same as one JSON document
  --stage NAME       stage of the local hub's stacks (default: dev)
  --state-dir DIR    the local hub's state folder (default: HUB_STATE_DIR, else .hub in the repository)
  -h, --help         this help

Exit status: 0 healthy and no dead-lettered message; 1 not ready, unreachable, or messages in a DLQ;
2 usage error.`;

const options = {
  json: { type: 'boolean' },
  stage: { type: 'string', default: 'dev' },
  'state-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface QueueStatus {
  queue: string;
  visible: number;
  inFlight: number;
  deadLetterQueue?: string;
  deadLettered?: number;
}

export interface HubStatus {
  gateway: string;
  healthy: boolean;
  queues: QueueStatus[];
  lastRollup?: { period: string; publishedAt: string };
}

export async function statusCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(args, options, false);
  if (values.help) {
    io.stdout.write(`${STATUS_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError('status takes no arguments.');
  const stateDir = localStateDir(values, io);
  let endpoints: ReturnType<typeof readEndpoints>;
  try {
    endpoints = readEndpoints(stateDir);
  } catch {
    throw new CliError(`No local hub state in ${stateDir}: start the hub (npm start) first.`);
  }
  const healthy = await fetch(`${endpoints.gateway}/health`).then(
    (response) => response.status === 200,
    () => false,
  );
  if (!healthy) {
    io.stderr.write(`The hub at ${endpoints.gateway} does not answer GET /health with 200.\n`);
    return 1;
  }
  const local = { region: LOCAL_REGION, credentials: LOCAL_S3_CREDENTIALS };
  const sqs = new SQSClient({ ...local, endpoint: endpoints.sqs });
  const s3 = new S3Client({ ...local, endpoint: endpoints.s3, forcePathStyle: true });
  try {
    const bucket = readOutputs(stateDir)[privateStackName(values.stage)]?.[ASSESSMENTS_BUCKET_OUTPUT];
    const status: HubStatus = {
      gateway: endpoints.gateway,
      healthy,
      queues: await queueStatuses(sqs),
      ...(bucket ? await lastRollup(s3, bucket) : {}),
    };
    io.stdout.write(values.json ? `${JSON.stringify(status, null, 2)}\n` : render(status));
    return status.queues.some((q) => (q.deadLettered ?? 0) > 0) ? 1 : 0;
  } finally {
    sqs.destroy();
    s3.destroy();
  }
}

const nameOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

async function attributes(sqs: SQSClient, queueUrl: string) {
  const { Attributes = {} } = await sqs.send(
    // local-aws-sqs answers only for 'All' (docs/DESIGN §6).
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
  );
  return Attributes;
}

/** Each queue that is not itself a DLQ, with its DLQ's depth when it has one. */
async function queueStatuses(sqs: SQSClient): Promise<QueueStatus[]> {
  const urls: string[] = [];
  let token: string | undefined;
  do {
    const page = await sqs.send(new ListQueuesCommand({ NextToken: token, MaxResults: 1000 }));
    urls.push(...(page.QueueUrls ?? []));
    token = page.NextToken;
  } while (token);
  const all = await Promise.all(urls.map(async (url) => ({ url, attributes: await attributes(sqs, url) })));
  const byArn = new Map(all.map((q) => [q.attributes.QueueArn, q]));
  const deadLetterArns = new Set(
    all.flatMap((q) =>
      q.attributes.RedrivePolicy ? [JSON.parse(q.attributes.RedrivePolicy).deadLetterTargetArn] : [],
    ),
  );
  return all
    .filter((q) => !deadLetterArns.has(q.attributes.QueueArn))
    .map((q) => {
      const dlqArn = q.attributes.RedrivePolicy
        ? JSON.parse(q.attributes.RedrivePolicy).deadLetterTargetArn
        : undefined;
      const dlq = dlqArn ? byArn.get(dlqArn) : undefined;
      return {
        queue: nameOf(q.url),
        visible: Number(q.attributes.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(q.attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
        ...(dlq
          ? {
              deadLetterQueue: nameOf(dlq.url),
              deadLettered: Number(dlq.attributes.ApproximateNumberOfMessages ?? 0),
            }
          : {}),
      };
    })
    .sort((a, b) => a.queue.localeCompare(b.queue));
}

async function lastRollup(s3: S3Client, bucket: string): Promise<Pick<HubStatus, 'lastRollup'>> {
  let newest: { period: string; publishedAt: string } | undefined;
  let token: string | undefined;
  do {
    const page = await s3.send(
      // Delimited: period snapshots only, not the item snapshots under assessments/<period>/.
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: 'assessments/',
        Delimiter: '/',
        ContinuationToken: token,
      }),
    );
    for (const object of page.Contents ?? []) {
      if (!object.Key?.endsWith('.json') || !object.LastModified) continue;
      const publishedAt = object.LastModified.toISOString();
      if (!newest || publishedAt > newest.publishedAt) {
        newest = { period: object.Key.slice('assessments/'.length, -'.json'.length), publishedAt };
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return newest ? { lastRollup: newest } : {};
}

function render(status: HubStatus): string {
  const width = Math.max(...status.queues.map((q) => q.queue.length), 5);
  const lines = [
    `hub       ${status.gateway} (healthy)`,
    `last rollup ${status.lastRollup ? `${status.lastRollup.period} at ${status.lastRollup.publishedAt}` : 'none yet'}`,
    '',
    `${'queue'.padEnd(width)}  visible  in flight  dead-lettered`,
    ...status.queues.map(
      (q) =>
        `${q.queue.padEnd(width)}  ${String(q.visible).padStart(7)}  ${String(q.inFlight).padStart(9)}  ${
          q.deadLettered === undefined ? '(no DLQ)' : String(q.deadLettered).padStart(13)
        }`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
