import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_REGION } from '../../../infra/local/model';

/** SDK clients for the hub's own DynamoDB Local, so baselines run on the engine the hub runs on. */
export function hubDynamo(endpoint: string) {
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return { client, doc: DynamoDBDocumentClient.from(client) };
}

/** A pk/sk table for a baseline, in the hub's engine; delete it when done. */
export async function createScratchTable(client: DynamoDBClient, name: string): Promise<string> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: name });
  return name;
}

export const deleteTable = (client: DynamoDBClient, name: string) =>
  client.send(new DeleteTableCommand({ TableName: name })).then(() => undefined);

/** Writes up to 25 items with one BatchWriteItem, retrying what the engine leaves unprocessed. */
export async function batchWrite(
  doc: DynamoDBDocumentClient,
  table: string,
  items: readonly Record<string, unknown>[],
): Promise<void> {
  if (items.length > 25) throw new Error('BatchWriteItem takes at most 25 items');
  let requests = items.map((Item) => ({ PutRequest: { Item } }));
  while (requests.length > 0) {
    const reply = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
    requests = (reply.UnprocessedItems?.[table] ?? []).flatMap((r) =>
      r.PutRequest?.Item ? [{ PutRequest: { Item: r.PutRequest.Item } }] : [],
    );
  }
}
