import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../infra/local/engines/dynamodb';
import { freePort } from '../../infra/local/engines/ports';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

/** One in-memory DynamoDB Local for the whole run; test files isolate themselves by table name. */
export default async function setup(project: TestProject) {
  const dynamo = await startDynamoDbLocal({ port: await freePort() });
  project.provide('dynamoEndpoint', dynamo.endpoint);
  return async () => {
    await dynamo.stop();
  };
}
