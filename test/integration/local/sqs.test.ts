/**
 * Pins the behaviour of local-aws-sqs that the hub's poller relies on, so an upgrade that changes it fails here
 * rather than as lost or duplicated messages in end-to-end tests.
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEngine } from '../../../infra/local/engines/dynamodb';
import { startLocalSqs, stopLocalSqs } from '../../support/sqs';

let engine: RunningEngine;
let sqs: SQSClient;

beforeAll(async () => {
  ({ engine, sqs } = await startLocalSqs());
});

afterAll(() => stopLocalSqs({ engine, sqs }));

async function queueWithDlq(name: string, visibilityTimeout: number, maxReceiveCount: number) {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const redrive = JSON.stringify({
    deadLetterTargetArn: `arn:aws:sqs:us-east-1:000000000000:${name}-dlq`,
    maxReceiveCount,
  });
  const attributes = { VisibilityTimeout: String(visibilityTimeout), RedrivePolicy: redrive };
  const source = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  return { url: source.QueueUrl as string, dlqUrl: dlq.QueueUrl as string, attributes };
}

const receive = (url: string, extra: Record<string, unknown> = { AttributeNames: ['All'] }) =>
  sqs.send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, ...extra }),
  );

async function receiveUntilSome(url: string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { Messages = [] } = await receive(url);
    if (Messages.length) return Messages;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing arrived on ${url}`);
}

async function counts(url: string) {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
  );
  return {
    all: Attributes.ApproximateNumberOfMessages,
    inFlight: Attributes.ApproximateNumberOfMessagesNotVisible,
  };
}

describe('local-aws-sqs', () => {
  it('names queues with the local account and region, and CreateQueue is idempotent', async () => {
    const { url, attributes } = await queueWithDlq('naming', 30, 3);
    expect(url).toBe(`${engine.endpoint}/000000000000/naming`);
    const again = await sqs.send(new CreateQueueCommand({ QueueName: 'naming', Attributes: attributes }));
    expect(again.QueueUrl).toBe(url);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
    );
    expect(Attributes?.QueueArn).toBe('arn:aws:sqs:us-east-1:000000000000:naming');
    expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:naming-dlq',
      maxReceiveCount: 3,
    });
  });

  it('returns system attributes only for AttributeNames, not for the newer MessageSystemAttributeNames', async () => {
    const { url } = await queueWithDlq('attributes', 1, 5);
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
    const newer = await receive(url, { MessageSystemAttributeNames: ['All'] });
    expect(newer.Messages?.[0]?.Attributes).toBeUndefined();
    const older = await receiveUntilSome(url);
    expect(older[0]?.Attributes).toMatchObject({
      ApproximateReceiveCount: '2',
      SentTimestamp: expect.any(String),
    });
  });

  it('hides a received message for the visibility timeout, then hands it out again with a higher receive count', async () => {
    const { url } = await queueWithDlq('visibility', 1, 5);
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'again' }));
    const [first] = await receiveUntilSome(url);
    expect(first?.Attributes?.ApproximateReceiveCount).toBe('1');
    const whileHidden = await receive(url);
    expect(whileHidden.Messages ?? []).toHaveLength(0);
    // Unlike SQS, ApproximateNumberOfMessages counts in-flight messages too.
    expect(await counts(url)).toEqual({ all: '1', inFlight: '1' });
    const [second] = await receiveUntilSome(url);
    expect(second?.MessageId).toBe(first?.MessageId);
    expect(second?.Attributes?.ApproximateReceiveCount).toBe('2');
  });

  it('moves a message to the DLQ itself once the visibility of its maxReceiveCount-th receive runs out', async () => {
    const { url, dlqUrl } = await queueWithDlq('redrive', 1, 2);
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'poison',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'test' } },
      }),
    );
    await receiveUntilSome(url);
    await receiveUntilSome(url);
    const [dead] = await receiveUntilSome(dlqUrl);
    expect(dead?.Body).toBe('poison');
    expect(dead?.Attributes?.DeadLetterQueueSourceArn).toBe('arn:aws:sqs:us-east-1:000000000000:redrive');
    expect(await counts(url)).toEqual({ all: '0', inFlight: '0' });
  });

  it('holds a long poll for its whole wait and can return one message twice in it (the poller polls with wait 0)', async () => {
    const { url } = await queueWithDlq('long-poll', 1, 10);
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'twice' }));
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 3,
        AttributeNames: ['All'],
      }),
    );
    expect(Messages.length).toBeGreaterThan(1);
    expect(new Set(Messages.map((m) => m.MessageId)).size).toBe(1);
  });
});
