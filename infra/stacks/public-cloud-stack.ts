import { Arn, ArnFormat, Aws, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { EventBus, Match, Rule } from 'aws-cdk-lib/aws-events';
import { EventBus as EventBusTarget } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { AlarmTopic } from '../constructs/alarm-topic';
import { DeadLetterQueue } from '../constructs/dead-letter-queue';
import { EventArchive } from '../constructs/event-archive';
import { createHubBucket } from '../constructs/hub-bucket';
import { PUBLIC_TO_PRIVATE_DETAIL_TYPES, PUBLIC_TO_PRIVATE_SOURCE_PREFIX } from '../cross-cloud';

export interface PublicCloudStackProps extends StackProps {
  config: StageConfig;
}

/**
 * The public cloud (internet-facing): no personal data at rest. For now its event bus, the rule that
 * forwards the allow-listed detail types to the private bus, and the bucket of published assessment
 * snapshots; the public API, WAF and authorizer arrive with issue 7.
 */
export class PublicCloudStack extends Stack {
  readonly key: Key;
  readonly eventBus: EventBus;
  readonly forwardingRule?: Rule;
  readonly snapshotsBucket: Bucket;

  constructor(scope: Construct, id: string, props: PublicCloudStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.key = new Key(this, 'Key', {
      description: `zwfw-hub ${config.stage} public cloud: bus, snapshots, alarms`,
      enableKeyRotation: true,
      removalPolicy: config.removalPolicy,
    });
    const alarmTopic = new AlarmTopic(this, 'Alarms', {
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
      description: 'Every public cloud event, for replay',
    });
    this.forwardingRule = this.forwardToPrivateCloud(config, alarmTopic);
    this.snapshotsBucket = this.createSnapshotsBucket(config);

    new CfnOutput(this, 'PublicEventBusName', { value: this.eventBus.eventBusName });
    new CfnOutput(this, 'SnapshotsBucketName', { value: this.snapshotsBucket.bucketName });
  }

  /**
   * The private bus is addressed by its ARN (built from its fixed name), never by a cross-stack
   * reference: in production it lives in another account, where references cannot reach.
   */
  private forwardToPrivateCloud(config: StageConfig, alarmTopic: AlarmTopic['topic']): Rule | undefined {
    if (PUBLIC_TO_PRIVATE_DETAIL_TYPES.length === 0) return undefined;
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
      alarmTopic,
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
      description: 'Forwards the allow-listed detail types (infra/cross-cloud.ts) to the private cloud bus',
      eventPattern: {
        source: Match.prefix(PUBLIC_TO_PRIVATE_SOURCE_PREFIX),
        detailType: PUBLIC_TO_PRIVATE_DETAIL_TYPES.map((entry) => entry.detailType),
      },
      targets: [new EventBusTarget(privateBus, { deadLetterQueue: dlq.queue })],
    });
  }

  private createSnapshotsBucket(config: StageConfig): Bucket {
    return createHubBucket(this, 'SnapshotsBucket', {
      encryptionKey: this.key,
      accessLogsPrefix: 'snapshots/',
      removalPolicy: config.removalPolicy,
    });
  }
}
