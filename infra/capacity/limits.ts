/**
 * Service limits the capacity model checks a load against (default quotas of a fresh account, us-east-1; several
 * are adjustable on request, the partition limits are not).
 */
export const LIMITS = {
  /** Write capacity one DynamoDB partition serves per second (also the per-item ceiling). */
  partitionWcuPerSecond: 1_000,
  /** Read capacity one DynamoDB partition serves per second. */
  partitionRcuPerSecond: 3_000,
  /** Lambda concurrent executions per account and region, default (adjustable). */
  lambdaConcurrency: 1_000,
  /** API Gateway requests per second per account and region, across all APIs, default (adjustable). */
  apiGatewayRequestsPerSecond: 10_000,
  /** EventBridge PutEvents requests per second in us-east-1, default (adjustable; far lower in smaller regions). */
  eventBridgePutEventsPerSecond: 10_000,
  /** Messages in flight (received, not yet deleted) per standard SQS queue. */
  sqsInFlightMessages: 120_000,
} as const;

export type Limits = typeof LIMITS;
