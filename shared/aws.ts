import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from './observability';

/**
 * SDK clients, built once per process so connections are reused across invocations.
 * Endpoints are never configured here: the SDK reads AWS_ENDPOINT_URL_DYNAMODB / _SQS / _S3 /
 * _EVENTBRIDGE (or AWS_ENDPOINT_URL) itself, so the same bundle runs locally, on LocalStack and on AWS.
 */
const requestHandler = {
  connectionTimeout: 2_000,
  requestTimeout: 10_000,
  httpAgent: { keepAlive: true },
  httpsAgent: { keepAlive: true },
};

const hasS3EndpointOverride = (env: NodeJS.ProcessEnv): boolean =>
  Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL);

export const createDynamoDbClient = (): DynamoDBClient =>
  tracer.captureAWSv3Client(new DynamoDBClient({ requestHandler }));

export const createDocumentClient = (client: DynamoDBClient): DynamoDBDocumentClient =>
  // removeUndefinedValues: optional fields of domain objects may be undefined; DynamoDB rejects them.
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

export const createSqsClient = (): SQSClient => tracer.captureAWSv3Client(new SQSClient({ requestHandler }));

export const createEventBridgeClient = (): EventBridgeClient =>
  tracer.captureAWSv3Client(new EventBridgeClient({ requestHandler }));

export const createS3Client = (env: NodeJS.ProcessEnv = process.env): S3Client => {
  const local = hasS3EndpointOverride(env);
  return tracer.captureAWSv3Client(
    new S3Client({
      requestHandler,
      // Local S3 engines (s3rver, LocalStack) have no virtual-host DNS, and s3rver stores
      // streamed uploads with their chunk framing unless checksums are only sent when required.
      forcePathStyle: local,
      ...(local ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const } : {}),
    }),
  );
};

export const dynamoDb = createDynamoDbClient();
export const documentClient = createDocumentClient(dynamoDb);
export const sqs = createSqsClient();
export const eventBridge = createEventBridgeClient();
export const s3 = createS3Client();
