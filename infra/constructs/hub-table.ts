import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';

export const TTL_ATTRIBUTE = 'expiresAt';
export const GSI1 = { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' } as const;

export interface HubTableProps {
  config: StageConfig;
  encryptionKey: IKey;
  /** Items carry `expiresAt` (epoch seconds); DynamoDB Local never deletes them, so reads filter on it too. */
  expires?: boolean;
  /** Adds the generic `gsi1` (gsi1pk/gsi1sk, all attributes projected). */
  gsi1?: boolean;
  /**
   * Only for tables whose key schema a library dictates (Powertools idempotency: `id`, TTL `expiration`).
   * Everything of ours uses the single-table convention `pk`/`sk`.
   */
  keySchema?: { partitionKey: string; sortKey?: string; ttlAttribute?: string };
}

/**
 * A DynamoDB table with the hub's non-negotiables: on-demand, point-in-time recovery, a customer-managed
 * KMS key, and deletion protection / retention as the stage requires.
 */
export class HubTable extends Table {
  /** True when grants on this table include `<arn>/index/*`. */
  readonly hasIndexes: boolean;

  constructor(scope: Construct, id: string, props: HubTableProps) {
    const keys = props.keySchema ?? { partitionKey: 'pk', sortKey: 'sk' };
    const ttlAttribute = props.keySchema
      ? props.keySchema.ttlAttribute
      : props.expires
        ? TTL_ATTRIBUTE
        : undefined;
    super(scope, id, {
      partitionKey: { name: keys.partitionKey, type: AttributeType.STRING },
      sortKey: keys.sortKey ? { name: keys.sortKey, type: AttributeType.STRING } : undefined,
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      timeToLiveAttribute: ttlAttribute,
      deletionProtection: props.config.deletionProtection,
      removalPolicy: props.config.removalPolicy,
    });
    if (props.gsi1) {
      this.addGlobalSecondaryIndex({
        indexName: GSI1.indexName,
        partitionKey: { name: GSI1.partitionKey, type: AttributeType.STRING },
        sortKey: { name: GSI1.sortKey, type: AttributeType.STRING },
        projectionType: ProjectionType.ALL,
      });
    }
    this.hasIndexes = props.gsi1 === true;
  }
}
