import { S3Client } from '@aws-sdk/client-s3';
import { requestHandler, traced } from './client-options';

const hasS3EndpointOverride = (env: NodeJS.ProcessEnv): boolean =>
  Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL);

export const createS3Client = (env: NodeJS.ProcessEnv = process.env): S3Client => {
  const local = hasS3EndpointOverride(env);
  return traced(
    new S3Client({
      requestHandler,
      // Local S3 engines (s3rver, LocalStack) have no virtual-host DNS, and s3rver stores
      // streamed uploads with their chunk framing unless checksums are only sent when required.
      forcePathStyle: local,
      ...(local ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const } : {}),
    }),
  );
};

let clients: { s3: S3Client } | undefined;
/**
 * The process's S3 client, built on first call (it reads the endpoint variables then) and reused across
 * invocations. A function, not a module-level client: a module that merely imports this one neither builds nor
 * bundles S3.
 */
export const s3Clients = (): { s3: S3Client } => {
  clients ??= { s3: createS3Client() };
  return clients;
};
