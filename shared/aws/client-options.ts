import { tracer } from '../observability';

/**
 * What every hub SDK client shares: keep-alive connections reused across invocations and bounded waits.
 * Endpoints are never configured here: the SDK reads AWS_ENDPOINT_URL_DYNAMODB / _SQS / _S3 / _EVENTBRIDGE
 * (or AWS_ENDPOINT_URL) itself, so the same bundle runs locally, on LocalStack and on AWS.
 *
 * Each client lives in its own module (`dynamodb.ts`, `sqs.ts`, `eventbridge.ts`, `s3.ts`) so a
 * function bundles and builds only the clients it imports.
 */
export const requestHandler = {
  connectionTimeout: 2_000,
  requestTimeout: 10_000,
  httpAgent: { keepAlive: true },
  httpsAgent: { keepAlive: true },
};

/** X-Ray subsegments for every call of the client (a no-op outside Lambda). */
export const traced = <Client>(client: Client): Client => tracer.captureAWSv3Client(client);
