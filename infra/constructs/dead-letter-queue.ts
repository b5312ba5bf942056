import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { acknowledgeNag } from './nag';

export interface DeadLetterQueueProps {
  config: StageConfig;
  encryptionKey: IKey;
  /** Short kebab-case name of what fails into this queue (`case-ingest`); names the runbook anchor. */
  purpose: string;
  /** What is not happening while messages sit here, in words the on-call understands. */
  impact: string;
  alarmTopic: ITopic;
  /**
   * `redrive` when an SQS queue's RedrivePolicy points here; otherwise the AWS service that sends
   * undeliverable events itself (EventBridge rule target, Scheduler).
   */
  feeder: 'redrive' | 'eventbridge' | 'scheduler';
}

export const runbookAnchor = (purpose: string) => `README.md#runbook-${purpose}`;

/** A KMS-encrypted, TLS-only dead-letter queue and the alarm that says what its messages mean. */
export class DeadLetterQueue extends Construct {
  readonly queue: Queue;
  readonly alarm: Alarm;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id);
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      // The longest SQS allows: time for a fix and a redrive.
      retentionPeriod: Duration.days(14),
      removalPolicy: props.config.removalPolicy,
    });
    if (props.feeder !== 'redrive') {
      acknowledgeNag(
        this.queue,
        'SQS3',
        `This queue is itself the dead-letter queue of an ${props.feeder === 'eventbridge' ? 'EventBridge rule target' : 'EventBridge Scheduler schedule'}, not a queue that is consumed.`,
      );
    }
    this.alarm = new Alarm(this, 'Alarm', {
      alarmDescription: `${props.impact} Runbook: ${runbookAnchor(props.purpose)}`,
      metric: this.queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: props.config.dlqAlarmThreshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.alarm.addAlarmAction(new SnsAction(props.alarmTopic));
  }
}
