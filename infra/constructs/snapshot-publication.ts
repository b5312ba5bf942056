import { Arn, ArnFormat, Aws, Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { ArnPrincipal, type CfnRole, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Key } from 'aws-cdk-lib/aws-kms';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { DeadLetterQueue } from './dead-letter-queue';
import { createAccessLogsBucket } from './hub-bucket';
import { HubFunction } from './hub-function';
import type { HubRestApi } from './hub-rest-api';
import { acknowledgeNag, nagArnReference } from './nag';
import type { FunctionPlatform, HubPlatform } from './platform';

/**
 * Private → public: only published, non-personal assessment snapshots cross (DESIGN §4). The private cloud's
 * publisher copies each snapshot, once judged, into the public cloud's published-snapshots bucket; the public API
 * serves that bucket. Both sides address each other by fixed names (the bucket, the publisher's role), never by
 * cross-stack references: in staging and production the two clouds are two accounts.
 *
 * Why a function and not S3 replication: replication copies whatever lands under a prefix and cannot look inside an
 * object, while the rule is about content — the publisher parses the snapshot with its schema and refuses any field
 * the personal-data list names before anything leaves (functions/case-aggregate/published-snapshot.ts). It also
 * writes the index of periods, which replication could not produce, and needs a grant at one end only (a bucket
 * policy naming its role), where cross-account replication needs roles and KMS grants at both.
 */

/** Where snapshots and their index live in both buckets (functions/case-aggregate/snapshot.ts `snapshotKeysOf`). */
export const PUBLISHED_PREFIX = 'assessments/';
/** What `AssessmentPublished` is: the rollup's announcement on the private bus. */
export const ASSESSMENT_PUBLISHED_PATTERN = {
  source: ['zwfw.case-aggregate'],
  detailType: ['AssessmentPublished'],
} as const;
/** The publisher's list of what it published, in the private bucket (publish-snapshot.ts PUBLICATION_LEDGER_KEY). */
const LEDGER_KEY = 'published/index.json';

interface Accounts {
  stage: string;
  account?: string;
  publicAccount?: string;
  region?: string;
}

const privateAccountOf = (config: Accounts) => config.account ?? Aws.ACCOUNT_ID;
const publicAccountOf = (config: Accounts) => config.publicAccount ?? config.account ?? Aws.ACCOUNT_ID;

/** The public bucket's fixed, globally unique name: stage, the public account and the region. */
export function publishedSnapshotsBucketName(config: Accounts): string {
  return `zwfw-${config.stage}-published-${publicAccountOf(config)}-${config.region ?? Aws.REGION}`;
}

/** The publisher's role name, fixed so the public bucket's policy can name it in another account. */
export const snapshotPublisherRoleName = (stage: string) => `zwfw-${stage}-snapshot-publisher`;

export function snapshotPublisherRoleArn(config: Accounts): string {
  return Arn.format({
    partition: Aws.PARTITION,
    service: 'iam',
    region: '',
    account: privateAccountOf(config),
    resource: 'role',
    resourceName: snapshotPublisherRoleName(config.stage),
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Public cloud: the bucket

/**
 * The public cloud's published-snapshots bucket: versioned, TLS only, no public access, access-logged (a year), and
 * encrypted with S3-managed keys. Not KMS: what it holds is published by design (the same figures the dashboard
 * shows anyone), so a customer key protects no secret; and SSE-KMS would need the public key's policy to admit the
 * private account's publisher and every reader (API Gateway's role, the dashboard deployment) — a cross-account key
 * grant for no confidentiality gain. Integrity comes from versioning and the one writer the policy admits.
 *
 * Created in the stack's scope with the logical ids the bucket had (`SnapshotsBucket`, `AccessLogsBucket`).
 */
export function createPublishedSnapshotsBucket(
  scope: Construct,
  config: Accounts & { removalPolicy: RemovalPolicy },
): Bucket {
  const accessLogs = createAccessLogsBucket(scope, config.removalPolicy);
  const bucket = new Bucket(scope, 'SnapshotsBucket', {
    bucketName: publishedSnapshotsBucketName(config),
    encryption: BucketEncryption.S3_MANAGED,
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    versioned: true,
    // Objects the private account puts belong to this bucket's owner: no ACLs, the bucket policy decides.
    objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    serverAccessLogsBucket: accessLogs,
    serverAccessLogsPrefix: 'snapshots/',
    removalPolicy: config.removalPolicy,
  });
  // The one writer: the private cloud's publisher role, objects under assessments/ only, nothing else.
  bucket.addToResourcePolicy(
    new PolicyStatement({
      sid: 'OnlyThePrivateCloudPublisherPutsSnapshots',
      principals: [new ArnPrincipal(snapshotPublisherRoleArn(config))],
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects(`${PUBLISHED_PREFIX}*`)],
    }),
  );
  return bucket;
}

// ---------------------------------------------------------------------------------------------------------
// Private cloud: the publisher

export interface SnapshotPublisherProps {
  platform: HubPlatform;
  /** The private assessments bucket the rollup writes, and the key it is encrypted with. */
  assessmentsBucket: Bucket;
  assessmentsKey: Key;
}

/**
 * On `AssessmentPublished` (private bus) the publisher (functions/case-aggregate/publish-snapshot.ts) judges the
 * period's snapshot and copies it, with an updated index, into the public bucket. One invocation at a time
 * (reserved concurrency 1): the index is read-modify-written. A refused snapshot or a failing copy ends, after
 * Lambda's two retries, in the DLQ, whose alarm names the impact; so do events EventBridge could not deliver.
 */
export class SnapshotPublisher extends Construct {
  readonly publishFunction: HubFunction;
  readonly rule: Rule;
  readonly deadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: SnapshotPublisherProps) {
    super(scope, id);
    const { platform, assessmentsBucket, assessmentsKey } = props;
    const { config } = platform;
    this.publishFunction = new HubFunction(this, 'PublishFunction', {
      platform,
      entry: 'functions/case-aggregate/publish-snapshot.ts',
      serviceName: 'case-aggregate',
      description:
        'Copies each judged, non-personal assessment snapshot (and the index of periods) to the public cloud',
      timeout: Duration.seconds(30),
      memorySize: 512,
      environment: {
        ASSESSMENTS_BUCKET: assessmentsBucket.bucketName,
        PUBLISHED_SNAPSHOTS_BUCKET: publishedSnapshotsBucketName(config),
      },
    });
    const role = this.publishFunction.serviceRole;
    (role.node.defaultChild as CfnRole).roleName = snapshotPublisherRoleName(config.stage);
    (this.publishFunction.node.defaultChild as CfnFunction).reservedConcurrentExecutions = 1;
    this.grantPrivateReads(assessmentsBucket, assessmentsKey);
    this.grantPublicPuts(config);

    this.deadLetterQueue = new DeadLetterQueue(this, 'Dlq', {
      config,
      encryptionKey: assessmentsKey,
      purpose: 'snapshot-publication',
      impact:
        'Assessment snapshots were not copied to the public cloud (refused by the personal-data check, or the copy failed): citizens and the public dashboard see older figures until the period is published again.',
      alarmTopic: platform.alarmTopic,
      feeder: 'eventbridge',
    });
    // EventBridge writes undeliverable events to the DLQ itself, so it needs the queue's key.
    assessmentsKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'EventBridgeSendsToTheSnapshotPublicationDlq',
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.publishFunction.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(this.deadLetterQueue.queue),
    });
    acknowledgeNag(
      role,
      'IAM5',
      'CDK grants kms:GenerateDataKey*/ReEncrypt* to send to the encrypted DLQ; scoped to the one key of that queue.',
      'Action::kms:GenerateDataKey*',
    );
    acknowledgeNag(
      role,
      'IAM5',
      'CDK grants kms:GenerateDataKey*/ReEncrypt* to send to the encrypted DLQ; scoped to the one key of that queue.',
      'Action::kms:ReEncrypt*',
    );
    this.rule = new Rule(this, 'OnAssessmentPublished', {
      eventBus: platform.eventBus,
      description: 'AssessmentPublished to the snapshot publisher (private → public)',
      eventPattern: {
        source: [...ASSESSMENT_PUBLISHED_PATTERN.source],
        detailType: [...ASSESSMENT_PUBLISHED_PATTERN.detailType],
      },
      targets: [
        new LambdaFunction(this.publishFunction, {
          deadLetterQueue: this.deadLetterQueue.queue,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
  }

  /** The period's snapshots (read), and its own ledger of published periods (read and write). */
  private grantPrivateReads(bucket: Bucket, key: Key): void {
    const fn = this.publishFunction;
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects(`${PUBLISHED_PREFIX}*`), bucket.arnForObjects(LEDGER_KEY)],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects(LEDGER_KEY)] }),
    );
    key.grant(fn, 'kms:Decrypt', 'kms:GenerateDataKey');
    acknowledgeNag(
      fn.serviceRole,
      'IAM5',
      `s3:GetObject of the assessment snapshots only: the wildcard is confined to the ${PUBLISHED_PREFIX} prefix of the assessments bucket.`,
      `Resource::${nagArnReference(bucket.node.defaultChild as CfnBucket)}/${PUBLISHED_PREFIX}*`,
    );
  }

  /** PutObject under assessments/ of the public bucket, by name: it may be in another account. */
  private grantPublicPuts(config: StageConfig): void {
    const objects = `arn:${Aws.PARTITION}:s3:::${publishedSnapshotsBucketName(config)}/${PUBLISHED_PREFIX}*`;
    this.publishFunction.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:PutObject'], resources: [objects] }),
    );
    const account = config.publicAccount ?? config.account ?? '<AWS::AccountId>';
    const region = config.region ?? '<AWS::Region>';
    acknowledgeNag(
      this.publishFunction.serviceRole,
      'IAM5',
      `s3:PutObject of published snapshots only: the wildcard is confined to the ${PUBLISHED_PREFIX} prefix of the public cloud's published-snapshots bucket, whose policy admits this role alone.`,
      `Resource::arn:<AWS::Partition>:s3:::zwfw-${config.stage}-published-${account}-${region}/${PUBLISHED_PREFIX}*`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Public cloud: the read routes

export interface PublishedAssessmentsProps {
  platform: FunctionPlatform;
  api: HubRestApi;
  bucket: Bucket;
}

/**
 * `GET /v1/public/assessments` and `GET /v1/public/assessments/{period}` (functions/case-aggregate/
 * public-assessments.ts): unsigned, behind the public API's WAF, reading the published bucket — GetObject under
 * assessments/ only.
 */
export class PublishedAssessments extends Construct {
  readonly readFunction: HubFunction;

  constructor(scope: Construct, id: string, props: PublishedAssessmentsProps) {
    super(scope, id);
    const { platform, api, bucket } = props;
    this.readFunction = new HubFunction(this, 'ReadFunction', {
      platform,
      entry: 'functions/case-aggregate/public-assessments.ts',
      serviceName: 'case-aggregate',
      description:
        'Published assessment snapshots: GET /v1/public/assessments and /v1/public/assessments/{period}',
      memorySize: 512,
      environment: { PUBLISHED_SNAPSHOTS_BUCKET: bucket.bucketName },
    });
    this.readFunction.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects(`${PUBLISHED_PREFIX}*`)],
      }),
    );
    acknowledgeNag(
      this.readFunction.serviceRole,
      'IAM5',
      `s3:GetObject of published snapshots only: the wildcard is confined to the ${PUBLISHED_PREFIX} prefix of the published-snapshots bucket.`,
      `Resource::${nagArnReference(bucket.node.defaultChild as CfnBucket)}/${PUBLISHED_PREFIX}*`,
    );
    api.addRoute('GET', '/v1/public/assessments', this.readFunction, { public: true });
    api.addRoute('GET', '/v1/public/assessments/{period}', this.readFunction, { public: true });
  }
}
