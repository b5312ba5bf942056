import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { CreateTableCommand, type DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CASES_TABLE_INDEXES } from '../../../functions/case-aggregate/store';
import { type RunningEngine, startDynamoDbLocal } from '../../../infra/local/engines/dynamodb';
import { freePort } from '../../../infra/local/engines/ports';
import { startS3 } from '../../../infra/local/engines/s3';
import { LOCAL_REGION } from '../../../infra/local/model';

/**
 * Engines and tables for benchmarks that measure the case-aggregate stores directly, without the hub: an
 * in-memory DynamoDB Local of their own (so hundreds of thousands of items neither wait for the hub's on-disk
 * engine nor stay behind in it) and the cases / statistics tables with the key schema CDK declares.
 */

/** A private in-memory DynamoDB Local; stop it when done (its items go with it). */
export async function startScratchDynamo(): Promise<RunningEngine> {
  return startDynamoDbLocal({ port: await freePort() });
}

/** s3rver in a temporary folder with one bucket, for code that writes snapshots; stop() removes the folder. */
export async function startScratchS3(bucket: string): Promise<{ s3: S3Client; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'zwfw-bench-s3-'));
  const engine = await startS3({ port: 0, directory: dir });
  const s3 = new S3Client({
    endpoint: engine.endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    s3,
    stop: async () => {
      s3.destroy();
      await engine.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const keySchema = (hash: string, range: string) => [
  { AttributeName: hash, KeyType: 'HASH' as const },
  { AttributeName: range, KeyType: 'RANGE' as const },
];

/** The cases table as CDK declares it (CaseAggregation): pk/sk and its keys-only indexes (applicant, due). */
export async function createCasesTable(client: DynamoDBClient, name: string): Promise<string> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: keySchema('pk', 'sk'),
      AttributeDefinitions: [
        'pk',
        'sk',
        ...CASES_TABLE_INDEXES.flatMap((i) => [i.partitionKey, i.sortKey]),
      ].map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const })),
      GlobalSecondaryIndexes: CASES_TABLE_INDEXES.map((index) => ({
        IndexName: index.indexName,
        KeySchema: keySchema(index.partitionKey, index.sortKey),
        Projection: { ProjectionType: 'KEYS_ONLY' as const },
      })),
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: name });
  return name;
}

/** The statistics table as CDK declares it: pk/sk, no index. */
export async function createStatsTable(client: DynamoDBClient, name: string): Promise<string> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: keySchema('pk', 'sk'),
      AttributeDefinitions: ['pk', 'sk'].map((AttributeName) => ({
        AttributeName,
        AttributeType: 'S' as const,
      })),
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: name });
  return name;
}

/** Capacity units of one ConsumedCapacity answer (a single entry, or one per table). */
export const capacityUnits = (consumed: ConsumedCapacity | ConsumedCapacity[] | undefined): number =>
  (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce(
    (sum, c) => sum + (c.CapacityUnits ?? 0),
    0,
  );
