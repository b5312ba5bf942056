import { SecretValue } from 'aws-cdk-lib';
import { type Archive, EventBus } from 'aws-cdk-lib/aws-events';
import { AccountPrincipal, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { PUBLIC_TO_PRIVATE_DETAIL_TYPES, PUBLIC_TO_PRIVATE_SOURCES } from '../cross-cloud';
import { AlarmTopic } from './alarm-topic';
import { EventArchive } from './event-archive';
import { HubTable } from './hub-table';
import { acknowledgeNag } from './nag';
import type { HubPlatform } from './platform';
import { PrivateNetwork } from './private-network';

export interface PlatformCoreProps {
  config: StageConfig;
}

/**
 * What every capability of the private cloud shares: the isolated network every function runs in, the hub
 * event bus (with an archive for replay), the nonce and idempotency tables, the client registry and the
 * ID-HMAC key (Secrets Manager), the alarm topic, and the customer-managed key that encrypts them.
 */
export class PlatformCore extends Construct implements HubPlatform {
  readonly config: StageConfig;
  readonly key: Key;
  readonly eventBus: EventBus;
  readonly eventArchive: Archive;
  readonly noncesTable: HubTable;
  readonly idempotencyTable: HubTable;
  readonly clientsSecret: Secret;
  readonly idHmacSecret: Secret;
  readonly alarmTopic: ITopic;
  readonly network: PrivateNetwork;

  constructor(scope: Construct, id: string, props: PlatformCoreProps) {
    super(scope, id);
    const { config } = props;
    this.config = config;
    this.network = new PrivateNetwork(this, 'Network', { config });
    this.key = new Key(this, 'Key', {
      description: `zwfw-hub ${config.stage} private cloud: bus, platform tables, secrets, alarms`,
      enableKeyRotation: true,
      removalPolicy: config.removalPolicy,
    });

    this.eventBus = new EventBus(this, 'Bus', {
      eventBusName: config.eventBusName,
      description: 'zwfw-hub domain events (masked identifiers only)',
      kmsKey: this.key,
    });
    this.eventArchive = new EventArchive(this, 'Archive', {
      eventBus: this.eventBus,
      eventBusName: config.eventBusName,
      encryptionKey: this.key,
      retention: config.eventArchiveRetention,
      description: 'Every hub event, for replay after a consumer bug',
    }).archive;
    this.allowForwardingFromPublicCloud(config);

    this.noncesTable = new HubTable(this, 'NoncesTable', { config, encryptionKey: this.key, expires: true });
    this.idempotencyTable = new HubTable(this, 'IdempotencyTable', {
      config,
      encryptionKey: this.key,
      // Powertools idempotency's default schema, so its DynamoDBPersistenceLayer needs no key options.
      keySchema: { partitionKey: 'id', ttlAttribute: 'expiration' },
    });

    this.clientsSecret = new Secret(this, 'ClientRegistry', {
      description:
        'Registered clients (access keys, secrets, scopes) as JSON, same shape as infra/local/clients.dev.json',
      encryptionKey: this.key,
      // Filled out of band by the onboarding procedure; an empty registry rejects every request.
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify({ clients: [] })),
      removalPolicy: config.removalPolicy,
    });
    acknowledgeNag(
      this.clientsSecret,
      'SMG4',
      'Client secrets are rotated per client through the registry with the auth issue (issue 3); a blind Secrets Manager rotation would lock every platform out.',
    );
    this.idHmacSecret = new Secret(this, 'IdHmacKey', {
      description:
        'Key of the keyed HMAC of ID numbers (citizen IDs, credit codes); generated here, never leaves AWS',
      encryptionKey: this.key,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: config.removalPolicy,
    });
    acknowledgeNag(
      this.idHmacSecret,
      'SMG4',
      'Stored records are looked up by the HMAC of their ID number: rotating the key needs a re-keying job (planned with the auth issue), not a timed rotation.',
    );

    this.alarmTopic = new AlarmTopic(this, 'Alarms', {
      topicName: `zwfw-${config.stage}-private-alarms`,
      encryptionKey: this.key,
    }).topic;
  }

  /** When the public cloud runs in another account, its forwarding rule may put only the allowed types. */
  private allowForwardingFromPublicCloud(config: StageConfig): void {
    if (!config.publicAccount || config.publicAccount === config.account) return;
    if (PUBLIC_TO_PRIVATE_DETAIL_TYPES.length === 0) return;
    this.eventBus.addToResourcePolicy(
      new PolicyStatement({
        sid: 'PublicCloudForwarding',
        principals: [new AccountPrincipal(config.publicAccount)],
        actions: ['events:PutEvents'],
        resources: [this.eventBus.eventBusArn],
        conditions: {
          'ForAllValues:StringEquals': {
            'events:detail-type': [...PUBLIC_TO_PRIVATE_DETAIL_TYPES],
            'events:source': [...PUBLIC_TO_PRIVATE_SOURCES],
          },
        },
      }),
    );
  }
}
