import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { StageConfig } from '../config';
import type { HubNetwork } from './private-network';

/**
 * What any hub function needs from the stack it lives in, in either cloud: the stage, its bus, the signed HTTP
 * stack's tables and client registry, and where alarms go. `network` places every function in the private cloud's
 * VPC; the public cloud has none (its functions hold no data and call only AWS services).
 */
export interface FunctionPlatform {
  readonly config: StageConfig;
  readonly eventBus: IEventBus;
  readonly noncesTable: ITable;
  readonly idempotencyTable: ITable;
  readonly clientsSecret: ISecret;
  /** Only the private cloud holds the key of the ID-number HMAC. */
  readonly idHmacSecret?: ISecret;
  /** Where operational alarms (DLQs, function errors, API 5xx, …) notify the on-call. */
  readonly alarmTopic: ITopic;
  readonly network?: HubNetwork;
}

/**
 * What every capability construct needs from the private cloud. PlatformCore provides it; a capability takes it
 * as a prop, so it can be placed in either stack.
 */
export interface HubPlatform extends FunctionPlatform {
  readonly idHmacSecret: ISecret;
}
