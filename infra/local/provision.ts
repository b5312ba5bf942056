/**
 * Creates what the templates declare on the local engines: tables (with GSIs, TTL, streams), queues (DLQs
 * first, then their sources with the redrive policy) and buckets. Idempotent: a restarted hub finds its
 * tables in DynamoDB Local's data folder and its buckets in s3rver's, and leaves their contents alone.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_S3_CREDENTIALS } from './engines/s3';
import {
  type BucketModel,
  type HubModel,
  LOCAL_REGION,
  type LocalEndpoints,
  type QueueModel,
  type TableModel,
} from './model';

export interface LocalClients {
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  s3: S3Client;
}

export function localClients(endpoints: Pick<LocalEndpoints, 'dynamodb' | 'sqs' | 's3'>): LocalClients {
  const common = { region: LOCAL_REGION, credentials: LOCAL_S3_CREDENTIALS };
  return {
    dynamodb: new DynamoDBClient({ ...common, endpoint: endpoints.dynamodb }),
    sqs: new SQSClient({ ...common, endpoint: endpoints.sqs }),
    s3: new S3Client({
      ...common,
      endpoint: endpoints.s3,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
  };
}

export async function provision(model: HubModel, clients: LocalClients): Promise<void> {
  await Promise.all([
    ...model.tables.map((table) => ensureTable(clients.dynamodb, table)),
    ensureQueues(clients.sqs, model.queues),
    ...model.buckets.map((bucket) => ensureBucket(clients.s3, bucket)),
  ]);
}

export async function ensureTable(dynamodb: DynamoDBClient, table: TableModel): Promise<void> {
  const existing = await describeTable(dynamodb, table.tableName);
  if (!existing) {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: table.tableName,
        KeySchema: table.keySchema,
        AttributeDefinitions: table.attributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
        ...(table.globalSecondaryIndexes.length
          ? {
              GlobalSecondaryIndexes: table.globalSecondaryIndexes.map((gsi) => ({
                IndexName: gsi.IndexName,
                KeySchema: gsi.KeySchema,
                Projection: gsi.Projection as never,
              })),
            }
          : {}),
        ...(table.streamViewType
          ? { StreamSpecification: { StreamEnabled: true, StreamViewType: table.streamViewType as never } }
          : {}),
      }),
    );
  } else {
    await addMissingIndexes(dynamodb, table, new Set(existing));
  }
  if (table.ttlAttribute) {
    await enableTtl(dynamodb, table.tableName, table.ttlAttribute);
  }
}

async function describeTable(dynamodb: DynamoDBClient, tableName: string): Promise<string[] | undefined> {
  try {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    return (Table?.GlobalSecondaryIndexes ?? []).map((gsi) => gsi.IndexName ?? '');
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

/** A GSI added to the template after the table was first created locally. */
async function addMissingIndexes(
  dynamodb: DynamoDBClient,
  table: TableModel,
  existing: Set<string>,
): Promise<void> {
  for (const gsi of table.globalSecondaryIndexes.filter((g) => !existing.has(g.IndexName))) {
    await dynamodb.send(
      new UpdateTableCommand({
        TableName: table.tableName,
        AttributeDefinitions: table.attributeDefinitions,
        GlobalSecondaryIndexUpdates: [
          {
            Create: {
              IndexName: gsi.IndexName,
              KeySchema: gsi.KeySchema,
              Projection: gsi.Projection as never,
            },
          },
        ],
      }),
    );
  }
}

async function enableTtl(dynamodb: DynamoDBClient, tableName: string, attribute: string): Promise<void> {
  try {
    await dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
      }),
    );
  } catch (error) {
    // Already enabled on a table kept from an earlier run.
    if (!(error instanceof Error && /already enabled/i.test(error.message))) throw error;
  }
}

/** DLQs must exist before a queue's RedrivePolicy can name them. */
export async function ensureQueues(sqs: SQSClient, queues: QueueModel[]): Promise<void> {
  const byKey = new Map(queues.map((q) => [q.key, q]));
  const created = new Set<string>();
  const create = async (queue: QueueModel): Promise<void> => {
    if (created.has(queue.key)) return;
    created.add(queue.key);
    const dlq = queue.deadLetter ? byKey.get(queue.deadLetter.targetKey) : undefined;
    if (queue.deadLetter && !dlq)
      throw new Error(`${queue.key}: dead-letter queue ${queue.deadLetter.targetKey} missing`);
    if (dlq) await create(dlq);
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: queue.queueName, Attributes: queueAttributes(queue, dlq) }),
    );
    if (QueueUrl !== queue.queueUrl) {
      throw new Error(
        `${queue.key}: the engine named the queue ${QueueUrl}, the model expects ${queue.queueUrl}`,
      );
    }
  };
  for (const queue of queues) await create(queue);
}

function queueAttributes(queue: QueueModel, dlq: QueueModel | undefined): Record<string, string> {
  return {
    VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
    ...(queue.messageRetentionSeconds !== undefined
      ? { MessageRetentionPeriod: String(queue.messageRetentionSeconds) }
      : {}),
    ...(queue.fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'true' } : {}),
    ...(dlq && queue.deadLetter
      ? {
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: dlq.arn,
            maxReceiveCount: queue.deadLetter.maxReceiveCount,
          }),
        }
      : {}),
  };
}

export async function ensureBucket(s3: S3Client, bucket: BucketModel): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket.bucketName }));
    return;
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw error;
  }
  await s3.send(new CreateBucketCommand({ Bucket: bucket.bucketName }));
}
