import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHub, startHub } from '../../../infra/local/hub';
import { readEndpoints, readOutputs } from '../../../infra/local/outputs';
import { localAwsConfig } from '../../support/aws';

const assemblyDir = join(import.meta.dirname, '../../fixtures/templates/hub');
const stateDir = mkdtempSync(join(tmpdir(), 'zwfw-hub-state-'));
const PRIVATE = 'zwfw-dev-private';
const CONSUMER_MAPPING = `${PRIVATE}/ConsumerMapping7788`;

let hub: RunningHub;
const lines: string[] = [];

const start = () =>
  startHub({ port: 0, stateDir, assemblyDir, skipSynth: true, log: (line) => lines.push(line) });

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  hub = await start();
});

afterAll(async () => {
  await hub?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('local hub', () => {
  it('answers GET /health with 200 once started', async () => {
    const response = await fetch(`http://127.0.0.1:${hub.port}/health`);
    expect(response.status).toBe(200);
  });

  it('writes outputs.json in the shape of cdk deploy --outputs-file, and endpoints.json', () => {
    const outputs = readOutputs(stateDir);
    expect(outputs[PRIVATE]?.CasesTableName).toBe(`${PRIVATE}-CasesTable8A7B6C5D`);
    expect(outputs[PRIVATE]?.CaseQueueUrl).toBe(`${hub.endpoints.sqs}/000000000000/${PRIVATE}-CaseQueueBEEF`);
    expect(outputs['zwfw-dev-public']?.PrivateBusName).toBe(`${PRIVATE}-bus`);
    expect(readEndpoints(stateDir)).toEqual(hub.endpoints);
    expect(hub.endpoints.gateway).toBe(`http://127.0.0.1:${hub.port}`);
  });

  it('routes an API request to its function', async () => {
    const before = hub.host.stats()[`${PRIVATE}/IngestFunction1122`]?.invocations ?? 0;
    await fetch(`http://127.0.0.1:${hub.port}/v1/cases/330000%3A0001`);
    expect(hub.host.stats()[`${PRIVATE}/IngestFunction1122`]?.invocations).toBe(before + 1);
  });

  it('polls queues from the template: good messages are consumed, a poison one ends in the DLQ', async () => {
    const sqs = new SQSClient(localAwsConfig(hub.endpoints.sqs));
    const queueUrl = hub.outputs[PRIVATE]?.CaseQueueUrl as string;
    for (const body of ['case-a', 'poison-b', 'case-c'])
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    await hub.drained({ timeoutMs: 20_000 });

    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: hub.outputs[PRIVATE]?.CaseDlqUrl, MaxNumberOfMessages: 10 }),
    );
    expect(Messages.map((m) => m.Body)).toEqual(['poison-b']);
    expect(hub.pollers.counters()[CONSUMER_MAPPING]).toMatchObject({ succeeded: 2, deadLettered: 1 });
    sqs.destroy();
  });

  it('delivers an event put on the bus to the rule targets, and drained() waits for the queue it fills', async () => {
    const before = hub.pollers.counters()[CONSUMER_MAPPING]?.succeeded ?? 0;
    const events = new EventBridgeClient(localAwsConfig(hub.endpoints.eventbridge));
    const bucketArn = `arn:aws:s3:::${hub.outputs[PRIVATE]?.SnapshotsBucketName}`;
    const { FailedEntryCount } = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: `${PRIVATE}-bus`,
            Source: 'zwfw.case-aggregate',
            DetailType: 'CaseStatusChanged',
            Resources: [bucketArn],
            Detail: JSON.stringify({ version: 1 }),
          },
        ],
      }),
    );
    expect(FailedEntryCount).toBe(0);
    await hub.drained({ timeoutMs: 20_000 });
    // The queue target carries the rule's fixed Input; the consumer accepts it.
    expect(hub.pollers.counters()[CONSUMER_MAPPING]?.succeeded).toBe(before + 1);
    events.destroy();
  });

  it('stops everything, the DynamoDB Local JVM included, and finds its tables and queued messages again on restart', async () => {
    const tableName = hub.outputs[PRIVATE]?.CasesTableName as string;
    // The DLQ has no poller, so this message is still queued when the hub stops.
    const sqsBefore = new SQSClient(localAwsConfig(hub.endpoints.sqs));
    await sqsBefore.send(
      new SendMessageCommand({ QueueUrl: hub.outputs[PRIVATE]?.CaseDlqUrl, MessageBody: 'kept' }),
    );
    sqsBefore.destroy();
    const item = { pk: 'CASE#330000:0001', sk: 'META', status: 'accepted' };
    const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(localAwsConfig(hub.endpoints.dynamodb)));
    await dynamo.send(new PutCommand({ TableName: tableName, Item: item }));
    dynamo.destroy();

    const pid = hub.dynamoDbPid;
    expect(pid).toBeTypeOf('number');
    await hub.stop();
    expect(processAlive(pid as number)).toBe(false);
    await expect(fetch(`http://127.0.0.1:${hub.port}/health`)).rejects.toThrow();

    hub = await start();
    const again = DynamoDBDocumentClient.from(new DynamoDBClient(localAwsConfig(hub.endpoints.dynamodb)));
    const { Item } = await again.send(
      new GetCommand({ TableName: tableName, Key: { pk: item.pk, sk: item.sk } }),
    );
    expect(Item).toEqual(item);
    again.destroy();

    const sqsAfter = new SQSClient(localAwsConfig(hub.endpoints.sqs));
    const { Messages = [] } = await sqsAfter.send(
      new ReceiveMessageCommand({ QueueUrl: hub.outputs[PRIVATE]?.CaseDlqUrl, MaxNumberOfMessages: 10 }),
    );
    // poison-b, received by an earlier test and still invisible then, may or may not be saved beside it.
    expect(Messages.map((m) => m.Body)).toContain('kept');
    sqsAfter.destroy();
  });
});
