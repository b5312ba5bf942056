import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { requestHandler, traced } from './client-options';

export const createDynamoDbClient = (): DynamoDBClient => traced(new DynamoDBClient({ requestHandler }));

export const createDocumentClient = (client: DynamoDBClient): DynamoDBDocumentClient =>
  // removeUndefinedValues: optional fields of domain objects may be undefined; DynamoDB rejects them.
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

/**
 * Built once per process, on import, and reused across invocations. Unlike the other clients these are module-level:
 * every HTTP function needs DynamoDB for its nonces and idempotency records (shared/http.ts), so there is nothing
 * to save by deferring them.
 */
export const dynamoDb = createDynamoDbClient();
export const documentClient = createDocumentClient(dynamoDb);

/** The same clients, in the shape the other client modules give theirs. */
export const dynamoDbClients = () => ({ dynamoDb, documentClient });
