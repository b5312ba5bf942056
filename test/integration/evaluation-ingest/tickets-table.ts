import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DUE_INDEX, LIST_INDEX } from '../../../functions/evaluation-ingest/ticket-store';
import { createTestTable, uniqueTableName } from '../../support/dynamo';

/** The tickets table as the CDK wiring must declare it: pk/sk, the list index (all) and the due index (keys only). */
export const createTicketsTable = (client: DynamoDBClient): Promise<string> =>
  createTestTable(client, uniqueTableName('tickets'), {
    indexes: [LIST_INDEX, { ...DUE_INDEX, projection: 'KEYS_ONLY' }],
  });
