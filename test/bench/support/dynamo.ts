import {
  type AttributeValue,
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  paginateScan,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_REGION } from '../../../infra/local/model';
import { type Measurement, timedOperations } from './measure';

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

/** A table of a running hub, by the environment variable its functions are given (e.g. `LICENCES_TABLE`). */
export function hubTableOf(
  hub: { model: { functions: { environment: Record<string, string | undefined> }[] } },
  variable: string,
): string {
  const table = hub.model.functions.map((f) => f.environment[variable]).find((name) => name !== undefined);
  if (!table) throw new Error(`no function of the hub is given ${variable}`);
  return table;
}

/** Keys (pk/sk) of up to `limit` items of a table whose pk starts with `prefix`, for a raw-read baseline. */
export async function keysWithPrefix(
  client: DynamoDBClient,
  table: string,
  prefix: string,
  limit: number,
): Promise<Record<string, AttributeValue>[]> {
  const keys: Record<string, AttributeValue>[] = [];
  for await (const page of paginateScan({ client }, { TableName: table, ProjectionExpression: 'pk, sk' })) {
    for (const item of page.Items ?? []) {
      if (item.pk?.S?.startsWith(prefix) && item.sk) keys.push({ pk: item.pk, sk: item.sk });
      if (keys.length >= limit) return keys;
    }
  }
  return keys;
}

/**
 * Raw GetItem on existing keys at a fixed concurrency: the storage engine's read rate, the baseline of the
 * read paths (verification, licence retrieval). Every key must be found.
 */
export function rawGetItemMeasurement(
  client: DynamoDBClient,
  table: string,
  keys: readonly Record<string, AttributeValue>[],
  options: { operations: number; concurrency: number; what: string; consistentRead?: boolean },
): Measurement {
  if (keys.length === 0) throw new Error(`no ${options.what} to read`);
  return {
    label: 'DynamoDB Local GetItem',
    unit: 'reads',
    method: `${options.operations} GetItem calls per round on the ${options.what}, ${options.concurrency} in flight, over ${keys.length} existing keys${options.consistentRead ? ', strongly consistent' : ''}`,
    round: () =>
      timedOperations(options.operations, options.concurrency, async (i) => {
        const reply = await client.send(
          new GetItemCommand({
            TableName: table,
            Key: keys[i % keys.length] as Record<string, AttributeValue>,
            ...(options.consistentRead ? { ConsistentRead: true } : {}),
          }),
        );
        if (!reply.Item) throw new Error(`an existing ${options.what} key was not found`);
      }),
  };
}
