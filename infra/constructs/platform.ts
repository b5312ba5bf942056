import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { StageConfig } from '../config';

/**
 * What every capability construct needs from the stack it lives in. PlatformCore provides it in the
 * private cloud; a capability takes it as a prop, so it can be placed in either stack.
 */
export interface HubPlatform {
  readonly config: StageConfig;
  readonly eventBus: IEventBus;
  readonly noncesTable: ITable;
  readonly idempotencyTable: ITable;
  readonly clientsSecret: ISecret;
  readonly idHmacSecret: ISecret;
  /** Where operational alarms (DLQs, …) notify the on-call. */
  readonly alarmTopic: ITopic;
}
