import { Arn, ArnFormat, type Duration, Stack } from 'aws-cdk-lib';
import { Archive, type CfnArchive, type IEventBus, Match } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface EventArchiveProps {
  eventBus: IEventBus;
  /** The bus's fixed name: the key policy names the bus by an ARN built from it. */
  eventBusName: string;
  /** The bus's own key. */
  encryptionKey: IKey;
  retention: Duration;
  description: string;
  /** Detail types this archive must not keep (events whose data may rest only elsewhere). */
  excludeDetailTypes?: readonly string[];
}

/**
 * An archive of every event on a bus, encrypted with the bus's customer-managed key.
 *
 * Archive's own `kmsKey` writes the bus's GetAtt ARN into the key policy while the bus already
 * depends on the key: a circular dependency CloudFormation refuses. Naming the bus by an ARN built from
 * its fixed name breaks the cycle with the same permission.
 */
export class EventArchive extends Construct {
  readonly archive: Archive;

  constructor(scope: Construct, id: string, props: EventArchiveProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.archive = new Archive(this, 'Archive', {
      sourceEventBus: props.eventBus,
      description: props.description,
      eventPattern: {
        account: [stack.account],
        ...(props.excludeDetailTypes?.length
          ? { detailType: Match.anythingBut(...props.excludeDetailTypes) }
          : {}),
      },
      retention: props.retention,
    });
    (this.archive.node.defaultChild as CfnArchive).kmsKeyIdentifier = props.encryptionKey.keyArn;
    const busArn = Arn.format(
      {
        service: 'events',
        resource: 'event-bus',
        resourceName: props.eventBusName,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      },
      stack,
    );
    const events = new ServicePrincipal('events.amazonaws.com');
    props.encryptionKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'EventBridgeArchive',
        principals: [events],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:ReEncrypt*'],
        resources: ['*'],
        conditions: { StringEquals: { 'kms:EncryptionContext:aws:events:event-bus:arn': busArn } },
      }),
    );
    props.encryptionKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'EventBridgeDescribeKey',
        principals: [events],
        actions: ['kms:DescribeKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
  }
}
