import { Duration, Stack } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { DeadLetterQueue } from './dead-letter-queue';
import type { HubFunction } from './hub-function';
import { acknowledgeNag, nagArnReference } from './nag';

/** Statistics days are China Standard Time days (DESIGN §1.3). */
export const HUB_TIMEZONE = 'Asia/Shanghai';

export interface HubScheduleProps {
  config: StageConfig;
  encryptionKey: IKey;
  alarmTopic: ITopic;
  /** Kebab-case name (`daily-rollup`); names the runbook anchor of the DLQ alarm. */
  purpose: string;
  /** What does not happen when an invocation is dead-lettered. */
  impact: string;
  /** `cron(0 1 * * ? *)`, `rate(1 hour)` or `at(2026-01-01T00:00:00)`, read in `timezone`. */
  expression: string;
  target: HubFunction;
  /** Passed to the function as its event (JSON). */
  input?: Record<string, unknown>;
  timezone?: string;
  retryAttempts?: number;
  maxEventAge?: Duration;
  enabled?: boolean;
}

/**
 * An EventBridge Scheduler schedule invoking a hub function, with its own invoke-only role, a retry
 * policy and a dead-letter queue whose alarm states the impact.
 */
export class HubSchedule extends Construct {
  readonly schedule: CfnSchedule;
  readonly deadLetterQueue: DeadLetterQueue;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: HubScheduleProps) {
    super(scope, id);
    const account = Stack.of(this).account;
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
      description: `EventBridge Scheduler role of ${props.purpose}`,
    });
    props.target.grantInvoke(this.role);
    acknowledgeNag(
      this.role,
      'IAM5',
      `lambda:InvokeFunction on the ${props.target.node.id} function and its versions/aliases (CDK grantInvoke); nothing else.`,
      `Resource::${nagArnReference(props.target.node.defaultChild as CfnFunction)}:*`,
    );

    this.deadLetterQueue = new DeadLetterQueue(this, 'Dlq', {
      config: props.config,
      encryptionKey: props.encryptionKey,
      purpose: props.purpose,
      impact: props.impact,
      alarmTopic: props.alarmTopic,
      feeder: 'scheduler',
    });
    // Scheduler delivers to the DLQ with the schedule's role.
    this.deadLetterQueue.queue.grantSendMessages(this.role);
    acknowledgeNag(
      this.role,
      'IAM5',
      "Sending to the KMS-encrypted DLQ needs data keys of that queue's one key (CDK grant).",
      'Action::kms:GenerateDataKey*',
    );
    acknowledgeNag(
      this.role,
      'IAM5',
      "Sending to the KMS-encrypted DLQ needs data keys of that queue's one key (CDK grant).",
      'Action::kms:ReEncrypt*',
    );

    this.schedule = new CfnSchedule(this, 'Schedule', {
      description: props.impact,
      scheduleExpression: props.expression,
      scheduleExpressionTimezone: props.timezone ?? HUB_TIMEZONE,
      flexibleTimeWindow: { mode: 'OFF' },
      state: props.enabled === false ? 'DISABLED' : 'ENABLED',
      target: {
        arn: props.target.functionArn,
        roleArn: this.role.roleArn,
        input: JSON.stringify(props.input ?? {}),
        retryPolicy: {
          maximumRetryAttempts: props.retryAttempts ?? 3,
          maximumEventAgeInSeconds: (props.maxEventAge ?? Duration.hours(1)).toSeconds(),
        },
        deadLetterConfig: { arn: this.deadLetterQueue.queue.queueArn },
      },
    });
  }
}
