import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningEngine } from '../../../infra/local/engines/dynamodb';
import { startS3 } from '../../../infra/local/engines/s3';
import { startSqs } from '../../../infra/local/engines/sqs';
import type { HubModel } from '../../../infra/local/model';
import { ensureTable, type LocalClients, localClients, provision } from '../../../infra/local/provision';
import { loadHubModel } from '../../../infra/local/template';
import { uniqueTableName } from '../../support/dynamo';

const assemblyDir = join(import.meta.dirname, '../../fixtures/templates/hub');
const PRIVATE = 'zwfw-dev-private';
const s3Dir = mkdtempSync(join(tmpdir(), 'zwfw-s3-'));

let sqsEngine: RunningEngine;
let s3Engine: RunningEngine;
let clients: LocalClients;
let model: HubModel;

beforeAll(async () => {
  [sqsEngine, s3Engine] = await Promise.all([startSqs({ port: 0 }), startS3({ port: 0, directory: s3Dir })]);
  clients = localClients({
    dynamodb: inject('dynamoEndpoint'),
    sqs: sqsEngine.endpoint,
    s3: s3Engine.endpoint,
  });
  const loaded = loadHubModel(assemblyDir, { sqsEndpoint: sqsEngine.endpoint });
  // The run shares one DynamoDB Local: unique table names keep this file apart from the others.
  model = {
    ...loaded,
    tables: loaded.tables.map((t) => ({ ...t, tableName: uniqueTableName(t.tableName) })),
  };
});

afterAll(async () => {
  for (const client of Object.values(clients ?? {})) client.destroy();
  await Promise.all([sqsEngine?.stop(), s3Engine?.stop()]);
  rmSync(s3Dir, { recursive: true, force: true });
});

const tableNamed = (key: string) => model.tables.find((t) => t.key === key)?.tableName as string;

describe('provision', () => {
  it('creates every resource and can run again over existing ones', async () => {
    await provision(model, clients);
    await provision(model, clients);

    const { Table } = await clients.dynamodb.send(
      new DescribeTableCommand({ TableName: tableNamed(`${PRIVATE}/CasesTable8A7B6C5D`) }),
    );
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(['gsi1']);
    expect(Table?.StreamSpecification).toMatchObject({
      StreamEnabled: true,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    });
    const ttl = await clients.dynamodb.send(
      new DescribeTimeToLiveCommand({ TableName: tableNamed(`${PRIVATE}/CasesTable8A7B6C5D`) }),
    );
    expect(ttl.TimeToLiveDescription).toMatchObject({
      AttributeName: 'expiresAt',
      TimeToLiveStatus: 'ENABLED',
    });

    const queue = model.queues.find((q) => q.key === `${PRIVATE}/CaseQueueBEEF`);
    const { Attributes } = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue?.queueUrl, AttributeNames: ['All'] }),
    );
    expect(Attributes?.VisibilityTimeout).toBe('2');
    expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: model.queues.find((q) => q.key === `${PRIVATE}/CaseQueueDlqF00D`)?.arn,
      maxReceiveCount: 2,
    });
  });

  it('adds a GSI the template gained after the table was first created', async () => {
    const cases = model.tables.find((t) => t.key === `${PRIVATE}/CasesTable8A7B6C5D`);
    if (!cases) throw new Error('fixture table missing');
    const table = { ...cases, tableName: uniqueTableName('grown'), ttlAttribute: undefined };
    const keyAttributes = table.attributeDefinitions.filter((a) => ['pk', 'sk'].includes(a.AttributeName));
    await ensureTable(clients.dynamodb, {
      ...table,
      attributeDefinitions: keyAttributes,
      globalSecondaryIndexes: [],
    });
    await ensureTable(clients.dynamodb, table);
    const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: table.tableName }));
    expect(Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(['gsi1']);
  });

  it('stores objects byte for byte in s3rver and keeps them across an engine restart', async () => {
    const bucket = model.buckets.find((b) => b.key === `${PRIVATE}/SnapshotsBucketC0FFEE`)
      ?.bucketName as string;
    const body = JSON.stringify({ snapshot: '2026-11-21', rate: 0.97 });
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'snap/one.json', Body: body }));

    await s3Engine.stop();
    s3Engine = await startS3({ port: 0, directory: s3Dir });
    clients.s3.destroy();
    clients = {
      ...clients,
      s3: localClients({ ...clients, dynamodb: '', sqs: '', s3: s3Engine.endpoint }).s3,
    };

    await provision({ ...model, tables: [], queues: [] }, clients);
    const object = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'snap/one.json' }));
    expect(await object.Body?.transformToString()).toBe(body);
  });
});
