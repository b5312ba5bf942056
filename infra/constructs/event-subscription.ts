import { Duration, Stack } from 'aws-cdk-lib';
import { type IEventBus, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Key } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { DeadLetterQueue } from './dead-letter-queue';
import type { SqsConsumer } from './sqs-consumer';

export interface EventSubscriptionProps {
  ruleId: string;
  description: string;
  bus: IEventBus;
  pattern: { source: readonly string[]; detailType: readonly string[] };
  /** The capability's queue and consumer the events go to. */
  consumer: SqsConsumer;
  /** Where EventBridge parks what it could not deliver. */
  deliveryDlq: DeadLetterQueue;
  /** The capability key both queues are encrypted with. */
  key: Key;
  /** Deliver only this part of the event (`$.detail`) as the message body; default the whole envelope. */
  inputPath?: string;
  /** Statement ids, unique within the key policy and the queue policy. */
  keyStatementSid: string;
  queueStatementSid: string;
}

/**
 * How a capability learns another's events: a rule on the private bus into its own encrypted queue. EventBridge
 * may use the capability key only on this account's behalf, and — because CDK's SqsQueue target lets
 * EventBridge send to an encrypted queue without naming the rule — a Deny makes this rule the only sender.
 */
export function subscribeQueueToEvents(scope: Construct, props: EventSubscriptionProps): Rule {
  const events = new ServicePrincipal('events.amazonaws.com');
  props.key.addToResourcePolicy(
    new PolicyStatement({
      sid: props.keyStatementSid,
      principals: [events],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
  );
  const rule = new Rule(scope, props.ruleId, {
    eventBus: props.bus,
    description: props.description,
    eventPattern: { source: [...props.pattern.source], detailType: [...props.pattern.detailType] },
    targets: [
      new SqsQueue(props.consumer.queue, {
        deadLetterQueue: props.deliveryDlq.queue,
        retryAttempts: 185,
        maxEventAge: Duration.hours(24),
        ...(props.inputPath ? { message: RuleTargetInput.fromEventPath(props.inputPath) } : {}),
      }),
    ],
  });
  props.consumer.queue.addToResourcePolicy(
    new PolicyStatement({
      sid: props.queueStatementSid,
      effect: Effect.DENY,
      principals: [events],
      actions: ['sqs:SendMessage'],
      resources: [props.consumer.queue.queueArn],
      conditions: { ArnNotEquals: { 'aws:SourceArn': rule.ruleArn } },
    }),
  );
  return rule;
}
