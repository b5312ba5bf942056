import { PassThrough } from 'node:stream';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../infra/cli/cli';
import { type LocalSqs, startLocalSqs, stopLocalSqs } from '../../support/sqs';

let local: LocalSqs;
let run: (args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

beforeAll(async () => {
  local = await startLocalSqs();
  run = async (args) => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on('data', (c: Buffer) => out.push(c));
    stderr.on('data', (c: Buffer) => err.push(c));
    const code = await runCli([...args, '--endpoint', local.engine.endpoint], {
      stdout,
      stderr,
      env: {},
      cwd: process.cwd(),
    });
    return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  };
});
afterAll(() => stopLocalSqs(local ?? {}));

/** A queue and its DLQ as the hub provisions them: the queue's RedrivePolicy names the DLQ's ARN. */
async function queuePair(name: string) {
  const { QueueUrl: dlqUrl } = await local.sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const { Attributes } = await local.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
  );
  const { QueueUrl: queueUrl } = await local.sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: 3 }),
      },
    }),
  );
  if (!queueUrl || !dlqUrl) throw new Error('queue not created');
  return { queueUrl, dlqUrl };
}

async function deadLetter(dlqUrl: string, count: number) {
  for (let i = 0; i < count; i++) {
    await local.sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: JSON.stringify({ n: i }),
        MessageAttributes: { correlationId: { DataType: 'String', StringValue: `corr-${i}` } },
      }),
    );
  }
}

async function drain(queueUrl: string) {
  const received: { body: unknown; correlationId?: string }[] = [];
  for (;;) {
    const { Messages = [] } = await local.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return received;
    for (const m of Messages) {
      received.push({
        body: JSON.parse(m.Body ?? 'null'),
        correlationId: m.MessageAttributes?.correlationId?.StringValue,
      });
    }
  }
}

describe('npm run hub -- redrive', () => {
  it('moves every dead-lettered message back with its body and correlation id, and empties the DLQ', async () => {
    const { queueUrl, dlqUrl } = await queuePair('redrive-all-case-ingest');
    await deadLetter(dlqUrl, 23);

    const result = await run(['redrive', 'redrive-all-case']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('moved 23 messages');
    const back = await drain(queueUrl);
    expect(back.map((m) => (m.body as { n: number }).n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 23 }, (_, i) => i),
    );
    expect(back.every((m) => m.correlationId === `corr-${(m.body as { n: number }).n}`)).toBe(true);
    expect(await drain(dlqUrl)).toEqual([]);
  });

  it('moves at most --max, and --dry-run moves nothing', async () => {
    const { queueUrl, dlqUrl } = await queuePair('redrive-bounded');
    await deadLetter(dlqUrl, 12);

    const dry = await run(['redrive', 'redrive-bounded', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would move up to 12 of 12 messages');
    expect(await drain(queueUrl)).toEqual([]);

    const bounded = await run(['redrive', 'redrive-bounded-dlq', '--max', '5']);
    expect(bounded.code).toBe(0);
    expect(bounded.stdout).toContain('moved 5 messages');
    expect(await drain(queueUrl)).toHaveLength(5);
  });

  it('lists queues with their DLQ depth, and refuses an unknown or ambiguous queue with exit 1', async () => {
    await queuePair('redrive-listed-a');
    const { dlqUrl } = await queuePair('redrive-listed-b');
    await deadLetter(dlqUrl, 2);

    const listing = await run(['redrive']);
    expect(listing.code).toBe(0);
    expect(listing.stdout).toMatch(/\s2 {2}redrive-listed-b {2}\(DLQ redrive-listed-b-dlq\)/);

    const unknown = await run(['redrive', 'no-such-queue']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No queue with a dead-letter queue matches "no-such-queue"');

    const ambiguous = await run(['redrive', 'redrive-listed']);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain('matches 2 queues');
  });

  it('answers --help and refuses a bad --max with exit 2', async () => {
    const help = await run(['redrive', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: npm run hub -- redrive [QUEUE]');
    const bad = await run(['redrive', 'x', '--max', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max must be a whole number');
  });
});
