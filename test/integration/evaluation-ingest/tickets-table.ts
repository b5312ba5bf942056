import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DUE_INDEX, LIST_INDEX } from '../../../functions/evaluation-ingest/ticket-store';
import { uniqueTableName } from '../../support/dynamo';

/** The tickets table as the CDK wiring must declare it: pk/sk, the list index (all) and the due index (keys only). */
export async function createTicketsTable(client: DynamoDBClient): Promise<string> {
  const name = uniqueTableName('tickets');
  const keys = (hash: string, range: string) => [
    { AttributeName: hash, KeyType: 'HASH' as const },
    { AttributeName: range, KeyType: 'RANGE' as const },
  ];
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: keys('pk', 'sk'),
      AttributeDefinitions: [
        'pk',
        'sk',
        LIST_INDEX.partitionKey,
        LIST_INDEX.sortKey,
        DUE_INDEX.partitionKey,
        DUE_INDEX.sortKey,
      ].map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const })),
      GlobalSecondaryIndexes: [
        {
          IndexName: LIST_INDEX.indexName,
          KeySchema: keys(LIST_INDEX.partitionKey, LIST_INDEX.sortKey),
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: DUE_INDEX.indexName,
          KeySchema: keys(DUE_INDEX.partitionKey, DUE_INDEX.sortKey),
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    }),
  );
  return name;
}
