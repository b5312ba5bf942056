import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { LOCAL_S3_CREDENTIALS } from '../../local/engines/s3';
import { LOCAL_REGION } from '../../local/model';
import { ENDPOINTS_FILE, readEndpoints } from '../../local/outputs';
import type { CliIo } from '../cli';
import { localStateDir, parseCommandLine, wholeNumber } from '../command-kit';
import { CliError, UsageError } from '../errors';
import { progressBar } from '../progress';
import { localHubFile } from '../target';

/**
 * `redrive [QUEUE]`: moves the messages a queue's dead-letter queue holds back to the queue, once the cause of
 * their failure is fixed. Consumers are idempotent per message, so a redriven message is applied once. Body and
 * message attributes (the correlation id) travel unchanged; a message is deleted from the DLQ only after the
 * queue has taken it, so an interrupted run loses nothing (at worst a message is sent twice, which consumers
 * absorb). Without QUEUE it lists every queue that has a DLQ, with the DLQ's depth.
 */

export const REDRIVE_HELP = `Usage: npm run hub -- redrive [QUEUE] [options]

Moves the messages in QUEUE's dead-letter queue back to QUEUE (fix the cause first: a message that
fails again returns to the DLQ after the queue's maxReceiveCount receives). QUEUE is a queue URL, a
queue name, or any unique part of a name, case-insensitive (e.g. case-ingest); naming the DLQ itself
works too. Without QUEUE: lists the queues that have a DLQ, and how many messages each DLQ holds.

Options:
  --max N            move at most N messages (default: all)
  --dry-run          say what would move, move nothing
  -h, --help         this help

Target (default: the local hub started by npm start, from <state-dir>/endpoints.json):
  --endpoint URL     an SQS endpoint (e.g. LocalStack's http://127.0.0.1:4566)
  --aws              the AWS SDK's own endpoint, region and credentials (a deployed stage)
  --state-dir DIR    the local hub's state folder (default: .hub, or HUB_STATE_DIR)`;

const OPTIONS = {
  max: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  endpoint: { type: 'string' },
  aws: { type: 'boolean', default: false },
  'state-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const SQS_BATCH = 10;
/** Long enough to send and delete a batch; a crash leaves the messages to reappear in the DLQ after it. */
const MOVE_VISIBILITY_SECONDS = 60;
const MAX_MOVE = 10_000_000;

interface RedrivePair {
  queueUrl: string;
  dlqUrl: string;
}

export async function redrive(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS);
  if (values.help) {
    io.stdout.write(`${REDRIVE_HELP}\n`);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError('Name one queue.');
  if (values.aws && values.endpoint) throw new UsageError('Give --endpoint or --aws, not both.');
  const max = wholeNumber('max', values.max, MAX_MOVE, { min: 1, max: MAX_MOVE });
  const sqs = sqsClientFor(values, io);
  try {
    const pairs = await redrivePairs(sqs);
    const [wanted] = positionals;
    if (wanted === undefined) return await listPairs(sqs, pairs, io);
    const pair = choosePair(pairs, wanted);
    const depth = await approximateDepth(sqs, pair.dlqUrl);
    if (values['dry-run']) {
      io.stdout.write(
        `would move up to ${Math.min(depth, max)} of ${depth} messages\n  from ${pair.dlqUrl}\n  to   ${pair.queueUrl}\n`,
      );
      return 0;
    }
    const moved = await moveMessages(sqs, pair, { max, io, expected: Math.min(depth, max) });
    io.stdout.write(`moved ${moved} messages\n  from ${pair.dlqUrl}\n  to   ${pair.queueUrl}\n`);
    return 0;
  } finally {
    sqs.destroy();
  }
}

function sqsClientFor(
  values: { endpoint?: string; aws: boolean; 'state-dir'?: string },
  io: CliIo,
): SQSClient {
  if (values.aws) return new SQSClient({});
  const endpoint = values.endpoint ?? localSqsEndpoint(values, io);
  // Local engines take any credentials; never send a developer's real ones to them.
  return new SQSClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_S3_CREDENTIALS });
}

function localSqsEndpoint(values: { 'state-dir'?: string }, io: CliIo): string {
  const stateDir = localStateDir(values, io);
  localHubFile(stateDir, ENDPOINTS_FILE);
  return readEndpoints(stateDir).sqs;
}

/** Every queue with a redrive policy, and the URL of its DLQ (found among the listed queues by ARN). */
async function redrivePairs(sqs: SQSClient): Promise<RedrivePair[]> {
  const urls = await listQueueUrls(sqs);
  const byArn = new Map<string, string>();
  const policies: { queueUrl: string; dlqArn: string }[] = [];
  for (const queueUrl of urls) {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn', 'RedrivePolicy'] }),
    );
    if (Attributes.QueueArn) byArn.set(Attributes.QueueArn, queueUrl);
    const dlqArn = Attributes.RedrivePolicy ? deadLetterTargetOf(Attributes.RedrivePolicy) : undefined;
    if (dlqArn) policies.push({ queueUrl, dlqArn });
  }
  return policies.flatMap(({ queueUrl, dlqArn }) => {
    const dlqUrl = byArn.get(dlqArn);
    return dlqUrl ? [{ queueUrl, dlqUrl }] : [];
  });
}

async function listQueueUrls(sqs: SQSClient): Promise<string[]> {
  const urls: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await sqs.send(new ListQueuesCommand({ MaxResults: 1000, NextToken }));
    urls.push(...(page.QueueUrls ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return urls;
}

function deadLetterTargetOf(policy: string): string | undefined {
  try {
    const parsed = JSON.parse(policy) as { deadLetterTargetArn?: unknown };
    return typeof parsed.deadLetterTargetArn === 'string' ? parsed.deadLetterTargetArn : undefined;
  } catch {
    return undefined;
  }
}

const queueNameOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

/** A URL or a name matches exactly; otherwise a case-insensitive fragment must name exactly one pair. */
export function choosePair(pairs: readonly RedrivePair[], wanted: string): RedrivePair {
  const exact = pairs.filter(
    (p) =>
      [p.queueUrl, p.dlqUrl].includes(wanted) || [p.queueUrl, p.dlqUrl].map(queueNameOf).includes(wanted),
  );
  if (exact.length === 1 && exact[0]) return exact[0];
  const fragment = wanted.toLowerCase();
  const matches = pairs.filter((p) => queueNameOf(p.queueUrl).toLowerCase().includes(fragment));
  if (matches.length === 1 && matches[0]) return matches[0];
  if (matches.length === 0) {
    throw new CliError(
      `No queue with a dead-letter queue matches "${wanted}". Run redrive without QUEUE to list them.`,
    );
  }
  throw new CliError(
    `"${wanted}" matches ${matches.length} queues: ${matches.map((p) => queueNameOf(p.queueUrl)).join(', ')}. Be more specific.`,
  );
}

async function listPairs(sqs: SQSClient, pairs: readonly RedrivePair[], io: CliIo): Promise<number> {
  if (pairs.length === 0) {
    io.stdout.write('No queue has a dead-letter queue.\n');
    return 0;
  }
  for (const pair of pairs) {
    const depth = await approximateDepth(sqs, pair.dlqUrl);
    io.stdout.write(
      `${String(depth).padStart(8)}  ${queueNameOf(pair.queueUrl)}  (DLQ ${queueNameOf(pair.dlqUrl)})\n`,
    );
  }
  return 0;
}

async function approximateDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages ?? 0);
}

async function moveMessages(
  sqs: SQSClient,
  pair: RedrivePair,
  options: { max: number; expected: number; io: CliIo },
): Promise<number> {
  const progress = progressBar(options.io.stderr, 'redrive', 'messages');
  progress.start(options.expected);
  let moved = 0;
  try {
    while (moved < options.max) {
      const batch = await receiveBatch(sqs, pair.dlqUrl, Math.min(SQS_BATCH, options.max - moved));
      if (batch.length === 0) break;
      moved += await sendThenDelete(sqs, pair, batch);
      progress.update(moved, moved);
    }
  } finally {
    progress.stop();
  }
  return moved;
}

async function receiveBatch(sqs: SQSClient, queueUrl: string, count: number): Promise<Message[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: count,
      VisibilityTimeout: MOVE_VISIBILITY_SECONDS,
      WaitTimeSeconds: 0,
      MessageAttributeNames: ['All'],
      // local-aws-sqs reads only the older parameter (DESIGN §6); AWS accepts both.
      AttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return Messages;
}

/** Sends the batch to the queue, then deletes from the DLQ only what the queue took. Returns how many moved. */
async function sendThenDelete(sqs: SQSClient, pair: RedrivePair, batch: Message[]): Promise<number> {
  const entries = batch.map(
    (message, i): SendMessageBatchRequestEntry => ({
      Id: String(i),
      MessageBody: message.Body ?? '',
      ...(message.MessageAttributes && Object.keys(message.MessageAttributes).length > 0
        ? { MessageAttributes: message.MessageAttributes }
        : {}),
      ...(message.Attributes?.MessageGroupId ? { MessageGroupId: message.Attributes.MessageGroupId } : {}),
      ...(message.Attributes?.MessageDeduplicationId
        ? { MessageDeduplicationId: message.Attributes.MessageDeduplicationId }
        : {}),
    }),
  );
  const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl: pair.queueUrl, Entries: entries }));
  const taken = (sent.Successful ?? []).map((s) => batch[Number(s.Id)]).filter((m) => m !== undefined);
  if (taken.length > 0) {
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: pair.dlqUrl,
        Entries: taken.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    if ((deleted.Failed ?? []).length > 0) {
      // Sent but still in the DLQ: it will be moved again later; consumers dedupe, so say it and go on.
      throw new CliError(
        `${deleted.Failed?.length} messages were sent back but could not be deleted from the DLQ; run redrive again (consumers apply a message once).`,
      );
    }
  }
  if ((sent.Failed ?? []).length > 0) {
    throw new CliError(
      `The queue refused ${sent.Failed?.length} messages (${sent.Failed?.[0]?.Code ?? 'unknown'}); they stay in the DLQ.`,
    );
  }
  return taken.length;
}
