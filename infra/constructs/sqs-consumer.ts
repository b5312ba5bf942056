import { Duration } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { DeadLetterQueue } from './dead-letter-queue';
import type { HubFunction } from './hub-function';

export interface SqsConsumerProps {
  config: StageConfig;
  encryptionKey: IKey;
  alarmTopic: ITopic;
  /** Kebab-case name of the flow (`case-ingest`); names the runbook anchor of the DLQ alarm. */
  purpose: string;
  /** What stops happening while messages sit in the DLQ. */
  impact: string;
  consumer: HubFunction;
  batchSize: number;
  maxBatchingWindow: Duration;
  /** Receives before a message is parked in the DLQ. */
  maxReceiveCount?: number;
  maxConcurrency?: number;
}

/**
 * A queue feeding a function, with the safe defaults baked in: KMS + TLS-only queue and DLQ, redrive after
 * `maxReceiveCount` receives, a visibility timeout of six function timeouts plus the batching window (AWS's
 * advice, so a retried batch is not redelivered while still running), partial batch failures, and an alarm
 * on the DLQ stating the impact.
 */
export class SqsConsumer extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: DeadLetterQueue;
  readonly maxReceiveCount: number;

  constructor(scope: Construct, id: string, props: SqsConsumerProps) {
    super(scope, id);
    this.maxReceiveCount = props.maxReceiveCount ?? 3;
    this.deadLetterQueue = new DeadLetterQueue(this, 'Dlq', {
      config: props.config,
      encryptionKey: props.encryptionKey,
      purpose: props.purpose,
      impact: props.impact,
      alarmTopic: props.alarmTopic,
      feeder: 'redrive',
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      visibilityTimeout: visibilityTimeoutFor(props.consumer.timeoutDuration, props.maxBatchingWindow),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue.queue, maxReceiveCount: this.maxReceiveCount },
      removalPolicy: props.config.removalPolicy,
    });
    props.consumer.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize,
        maxBatchingWindow: props.maxBatchingWindow,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency,
      }),
    );
  }
}

export function visibilityTimeoutFor(functionTimeout: Duration, batchingWindow: Duration): Duration {
  return Duration.seconds(6 * functionTimeout.toSeconds() + batchingWindow.toSeconds());
}
