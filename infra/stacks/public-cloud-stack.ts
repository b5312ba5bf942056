import {
  Arn,
  ArnFormat,
  Aws,
  CfnOutput,
  type IResource,
  SecretValue,
  Stack,
  type StackProps,
  Tags,
} from 'aws-cdk-lib';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { EventBus as EventBusTarget } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { AlarmTopic } from '../constructs/alarm-topic';
import { type ClientAuthorizer, createClientAuthorizer } from '../constructs/client-authorizer';
import { DeadLetterQueue } from '../constructs/dead-letter-queue';
import { EventArchive } from '../constructs/event-archive';
import { HubRestApi } from '../constructs/hub-rest-api';
import { HubTable } from '../constructs/hub-table';
import { acknowledgeNag } from '../constructs/nag';
import type { FunctionPlatform } from '../constructs/platform';
import { PublicDashboard } from '../constructs/public-dashboard';
import { PublicEvaluationSubmission } from '../constructs/public-evaluation-submission';
import { PublicTokenIntrospection } from '../constructs/public-token-introspection';
import { createPublishedSnapshotsBucket, PublishedAssessments } from '../constructs/snapshot-publication';
import { PUBLIC_TO_PRIVATE_DETAIL_TYPES, publicToPrivateEventPattern } from '../cross-cloud';
import { CONTENTS_TAG, type PublicStoreContents } from '../personal-data';

export interface PublicCloudStackProps extends StackProps {
  config: StageConfig;
}

/**
 * The public cloud (internet-facing): no personal data at rest. A REGIONAL REST API behind WAF with the signature
 * authorizer and usage plans per client kind, serving the citizen app; its own bus, whose one forwarding rule
 * carries the allow-listed events (infra/cross-cloud.ts) to the private bus; the bucket of published assessment
 * snapshots, and the dashboard page served from it (infra/constructs/public-dashboard.ts); and, for the signed HTTP stack, a nonce table, an idempotency table and a client registry of its own.
 * It is the platform of its own functions: no VPC (nothing here to protect but keys), no ID-number key.
 */
export class PublicCloudStack extends Stack implements FunctionPlatform {
  readonly config: StageConfig;
  readonly key: Key;
  readonly eventBus: EventBus;
  readonly alarmTopic: ITopic;
  readonly noncesTable: HubTable;
  readonly idempotencyTable: HubTable;
  readonly clientsSecret: Secret;
  readonly forwardingRule?: Rule;
  readonly snapshotsBucket: Bucket;
  readonly api: HubRestApi;
  readonly clientAuthorizer: ClientAuthorizer;
  readonly evaluationSubmission: PublicEvaluationSubmission;
  readonly tokenIntrospection: PublicTokenIntrospection;
  readonly publishedAssessments: PublishedAssessments;
  readonly dashboard: PublicDashboard;

  constructor(scope: Construct, id: string, props: PublicCloudStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    this.key = new Key(this, 'Key', {
      description: `zwfw-hub ${config.stage} public cloud: bus, platform tables, alarms`,
      enableKeyRotation: true,
      removalPolicy: config.removalPolicy,
    });
    this.alarmTopic = new AlarmTopic(this, 'Alarms', {
      topicName: `zwfw-${config.stage}-public-alarms`,
      encryptionKey: this.key,
    }).topic;

    this.eventBus = new EventBus(this, 'Bus', {
      eventBusName: config.publicEventBusName,
      description: 'zwfw-hub public cloud events',
      kmsKey: this.key,
    });
    new EventArchive(this, 'Archive', {
      eventBus: this.eventBus,
      eventBusName: config.publicEventBusName,
      encryptionKey: this.key,
      retention: config.eventArchiveRetention,
      description: 'Public cloud events for replay, except those that cross (the private archive keeps them)',
      // A citizen's evaluation carries free text: it is kept at rest only in the private cloud.
      excludeDetailTypes: PUBLIC_TO_PRIVATE_DETAIL_TYPES,
    });
    this.forwardingRule = this.forwardToPrivateCloud(config);
    this.snapshotsBucket = this.createSnapshotsBucket(config);

    // Nonces (access key id + nonce) and idempotency records of the public routes: nothing personal.
    this.noncesTable = new HubTable(this, 'NoncesTable', { config, encryptionKey: this.key, expires: true });
    this.idempotencyTable = new HubTable(this, 'IdempotencyTable', {
      config,
      encryptionKey: this.key,
      keySchema: { partitionKey: 'id', ttlAttribute: 'expiration' },
    });
    declareContents(this.noncesTable, 'nonces');
    declareContents(this.idempotencyTable, 'idempotency');
    this.clientsSecret = new Secret(this, 'ClientRegistry', {
      description:
        'Clients allowed on the public API (citizen apps), same shape as infra/local/clients.dev.json',
      encryptionKey: this.key,
      // Filled out of band by onboarding; an empty registry rejects every request.
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify({ clients: [] })),
      removalPolicy: config.removalPolicy,
    });
    acknowledgeNag(
      this.clientsSecret,
      'SMG4',
      'Client secrets are rotated per client through the registry; a blind Secrets Manager rotation would lock every app out.',
    );

    this.api = new HubRestApi(this, 'PublicApi', {
      config,
      cloud: 'public',
      alarmTopic: this.alarmTopic,
      description: 'zwfw-hub public API for citizen apps (internet-facing, behind WAF)',
    });
    this.clientAuthorizer = createClientAuthorizer(this, {
      platform: this,
      api: this.api,
      authorizerName: `zwfw-${config.stage}-public-client`,
    });
    this.evaluationSubmission = new PublicEvaluationSubmission(this, 'EvaluationSubmission', {
      platform: this,
      api: this.api,
    });
    this.tokenIntrospection = new PublicTokenIntrospection(this, 'TokenIntrospection', {
      platform: this,
      api: this.api,
    });
    this.publishedAssessments = new PublishedAssessments(this, 'PublishedAssessments', {
      platform: this,
      api: this.api,
      bucket: this.snapshotsBucket,
    });
    this.dashboard = new PublicDashboard(this, 'Dashboard', {
      config,
      api: this.api,
      bucket: this.snapshotsBucket,
    });

    new CfnOutput(this, 'PublicApiUrl', { value: this.api.url });
    new CfnOutput(this, 'PublicEventBusName', { value: this.eventBus.eventBusName });
    new CfnOutput(this, 'SnapshotsBucketName', { value: this.snapshotsBucket.bucketName });
    new CfnOutput(this, 'PublicNoncesTableName', { value: this.noncesTable.tableName });
  }

  /**
   * The private bus is addressed by its ARN (built from its fixed name), never by a cross-stack
   * reference: in production it lives in another account, where references cannot reach.
   */
  private forwardToPrivateCloud(config: StageConfig): Rule | undefined {
    const pattern = publicToPrivateEventPattern();
    if (!pattern) return undefined;
    const privateBus = EventBus.fromEventBusArn(
      this,
      'PrivateBus',
      Arn.format(
        {
          service: 'events',
          resource: 'event-bus',
          resourceName: config.eventBusName,
          account: config.account ?? Aws.ACCOUNT_ID,
          region: config.region ?? Aws.REGION,
          arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        },
        this,
      ),
    );
    const dlq = new DeadLetterQueue(this, 'ForwardingDlq', {
      config,
      encryptionKey: this.key,
      purpose: 'cross-cloud-forwarding',
      impact:
        'Events from the public cloud (e.g. citizen evaluations) could not be delivered to the private bus: the private cloud has not seen them until they are replayed.',
      alarmTopic: this.alarmTopic,
      feeder: 'eventbridge',
    });
    // EventBridge writes undeliverable events to the DLQ itself, so it needs the queue's key.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    return new Rule(this, 'ForwardToPrivateCloud', {
      eventBus: this.eventBus,
      description: 'Forwards the allow-listed events (infra/cross-cloud.ts) to the private cloud bus',
      eventPattern: { source: pattern.source, detailType: pattern['detail-type'] },
      targets: [new EventBusTarget(privateBus, { deadLetterQueue: dlq.queue })],
    });
  }

  /** Filled only by the private cloud's snapshot publisher (infra/constructs/snapshot-publication.ts). */
  private createSnapshotsBucket(config: StageConfig): Bucket {
    const bucket = createPublishedSnapshotsBucket(this, config);
    declareContents(bucket, 'assessment-snapshots');
    declareContents(this.node.findChild('AccessLogsBucket') as IResource, 's3-access-logs');
    return bucket;
  }
}

/** Names what a public-cloud store keeps at rest (infra/personal-data.ts); the infra tests check every store has one. */
function declareContents(store: IResource, contents: PublicStoreContents): void {
  Tags.of(store).add(CONTENTS_TAG, contents);
}
