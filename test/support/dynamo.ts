import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { localAwsConfig } from './aws';

/** Clients for the run's DynamoDB Local (started by global-setup.ts). */
export function localDynamo() {
  const client = new DynamoDBClient(localAwsConfig(inject('dynamoEndpoint')));
  return {
    client,
    doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
  };
}

/** A table name no other test file uses. */
export const uniqueTableName = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** A further global secondary index, with string keys, as a store's constants name it (e.g. DUE_INDEX). */
export interface TestIndex {
  indexName: string;
  partitionKey: string;
  sortKey: string;
  /** ALL unless told otherwise. */
  projection?: 'ALL' | 'KEYS_ONLY';
}

export interface TestTableOptions {
  /** Adds the project's `gsi1` index on gsi1pk / gsi1sk, projecting everything. */
  gsi1?: boolean;
  /** Further indexes, after gsi1: the table as CDK declares it for a store that reads them. */
  indexes?: readonly TestIndex[];
  /** Hash key, then optional range key, all strings; the project's pk / sk by default. */
  keySchema?: [hash: string, range?: string];
}

const keys = (names: (string | undefined)[]) =>
  names
    .filter((n): n is string => n !== undefined)
    .map((AttributeName, i) => ({
      AttributeName,
      KeyType: i === 0 ? ('HASH' as const) : ('RANGE' as const),
    }));

const GSI1: TestIndex = { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' };

/** Creates an on-demand table with string keys (pk / sk unless told otherwise) and resolves to its name. */
export async function createTestTable(
  client: DynamoDBClient,
  name: string,
  { gsi1 = false, indexes = [], keySchema = ['pk', 'sk'] }: TestTableOptions = {},
): Promise<string> {
  const keySchemaEntries = keys(keySchema);
  const gsis = [...(gsi1 ? [GSI1] : []), ...indexes].map((index) => ({
    IndexName: index.indexName,
    KeySchema: keys([index.partitionKey, index.sortKey]),
    Projection: { ProjectionType: index.projection ?? ('ALL' as const) },
  }));
  const attributes = new Set(
    [...keySchemaEntries, ...gsis.flatMap((gsi) => gsi.KeySchema)].map((key) => key.AttributeName),
  );
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: keySchemaEntries,
      AttributeDefinitions: [...attributes].map((AttributeName) => ({
        AttributeName,
        AttributeType: 'S' as const,
      })),
      ...(gsis.length > 0 ? { GlobalSecondaryIndexes: gsis } : {}),
    }),
  );
  return name;
}

/** Uniquely named tables for one test file, created on demand and all deleted by dropAll(). */
export function scratchTables(client: DynamoDBClient) {
  const names: string[] = [];
  return {
    async create(prefix: string, options?: TestTableOptions): Promise<string> {
      const name = await createTestTable(client, uniqueTableName(prefix), options);
      names.push(name);
      return name;
    },
    dropAll: () => Promise.all(names.map((TableName) => client.send(new DeleteTableCommand({ TableName })))),
  };
}
