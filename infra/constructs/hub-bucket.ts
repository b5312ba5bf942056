import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { acknowledgeNag } from './nag';

export interface HubBucketProps {
  /** The stack's customer-managed key: objects are encrypted with it (with an S3 bucket key, fewer KMS calls). */
  encryptionKey: IKey;
  /** Where this bucket's access logs go in the access-log bucket, e.g. `snapshots/`. */
  accessLogsPrefix: string;
  removalPolicy: RemovalPolicy;
}

/**
 * A bucket of published records: KMS-encrypted, versioned (an overwritten object keeps its earlier versions),
 * TLS only, no public access, its access logged to an `AccessLogsBucket` of the same scope (a year kept).
 *
 * A function, not a Construct: the buckets keep the logical IDs they had in the scope (AccessLogsBucket…,
 * <id>…), so a deployed bucket is never replaced. One scope holds at most one such bucket.
 */
export function createHubBucket(scope: Construct, id: string, props: HubBucketProps): Bucket {
  const accessLogs = createAccessLogsBucket(scope, props.removalPolicy);
  return new Bucket(scope, id, {
    encryption: BucketEncryption.KMS,
    encryptionKey: props.encryptionKey,
    bucketKeyEnabled: true,
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    versioned: true,
    serverAccessLogsBucket: accessLogs,
    serverAccessLogsPrefix: props.accessLogsPrefix,
    removalPolicy: props.removalPolicy,
  });
}

/**
 * The server access log destination of a bucket, created in the scope with the logical id `AccessLogsBucket`
 * (so a deployed one is never replaced).
 */
export function createAccessLogsBucket(scope: Construct, removalPolicy: RemovalPolicy): Bucket {
  const accessLogs = new Bucket(scope, 'AccessLogsBucket', {
    // The access-log delivery service writes only to SSE-S3 buckets.
    encryption: BucketEncryption.S3_MANAGED,
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    // Log delivery is granted by bucket policy (cdk.json: serverAccessLogsUseBucketPolicy), so ACLs stay off.
    objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [{ expiration: Duration.days(365) }],
    removalPolicy,
  });
  acknowledgeNag(
    accessLogs,
    'S1',
    'This bucket is the server access log destination; logging it into itself would loop.',
  );
  return accessLogs;
}
