/**
 * What the local runtime reads out of the synthesised CloudFormation templates (cdk.out/*.template.json).
 * Every resource is named by its stack and logical id; the runtime gives each a local physical name
 * and resolves Ref / Fn::GetAtt / Fn::Join / Fn::Sub / Fn::ImportValue against those names.
 *
 * template.ts builds a HubModel; provisioning, workers, pollers, the gateway, the bus and the
 * scheduler all consume it. Keep this file the single contract between those parts.
 */

/** `${stackName}/${logicalId}` — unique across both stacks. */
export type ResourceKey = string;

export interface TableModel {
  key: ResourceKey;
  /** Local physical name, e.g. `zwfw-dev-private-CasesTable1A2B3C`. */
  tableName: string;
  keySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  attributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
  globalSecondaryIndexes: {
    IndexName: string;
    KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
    Projection: { ProjectionType?: string; NonKeyAttributes?: string[] };
  }[];
  ttlAttribute?: string;
  streamViewType?: string;
}

export interface QueueModel {
  key: ResourceKey;
  queueName: string;
  /** http://127.0.0.1:<sqsPort>/<account>/<queueName> once provisioned */
  queueUrl: string;
  arn: string;
  visibilityTimeoutSeconds: number;
  messageRetentionSeconds?: number;
  fifo: boolean;
  deadLetter?: { targetKey: ResourceKey; maxReceiveCount: number };
}

export interface BucketModel {
  key: ResourceKey;
  bucketName: string;
  arn: string;
  /** S3 → EventBridge notifications switched on (issue 6). */
  eventBridgeEnabled: boolean;
}

export interface EventBusModel {
  key: ResourceKey;
  busName: string;
  arn: string;
}

export type TargetModel =
  | { kind: 'function'; functionKey: ResourceKey; input?: string; inputPath?: string }
  | { kind: 'queue'; queueKey: ResourceKey; input?: string; inputPath?: string }
  | { kind: 'bus'; busKey: ResourceKey };

export interface RuleModel {
  key: ResourceKey;
  busKey: ResourceKey;
  /** The EventPattern object exactly as in the template. */
  eventPattern: Record<string, unknown>;
  enabled: boolean;
  targets: TargetModel[];
}

export interface ScheduleModel {
  key: ResourceKey;
  /** `cron(0 1 * * ? *)`, `rate(5 minutes)` or `at(...)` as in AWS::Scheduler::Schedule. */
  expression: string;
  timezone: string;
  enabled: boolean;
  target: TargetModel;
}

export interface FunctionModel {
  key: ResourceKey;
  functionName: string;
  arn: string;
  /** Absolute path of the esbuild bundle folder (cdk.out/asset.<hash>). */
  bundleDir: string;
  /** `index.handler` → file `index.mjs|index.js` in bundleDir, export `handler`. */
  handler: string;
  runtime: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** `ReservedConcurrentExecutions`: at most this many invocations at once (asynchronous ones wait their turn). */
  reservedConcurrency?: number;
  /** Resolved: every Ref/GetAtt replaced by local names, URLs and ARNs. */
  environment: Record<string, string>;
}

export interface EventSourceMappingModel {
  key: ResourceKey;
  functionKey: ResourceKey;
  queueKey: ResourceKey;
  batchSize: number;
  maximumBatchingWindowSeconds: number;
  reportBatchItemFailures: boolean;
  maximumConcurrency?: number;
  enabled: boolean;
}

export interface RouteModel {
  /** Which REST API (`<stack>/<logical id>`); the hub serves each API's routes on its own port too. */
  apiKey: ResourceKey;
  method: string; // GET, POST, ... or ANY
  /** Resource path with API Gateway placeholders, e.g. `/v1/cases/{caseId}` or `/v1/cases:batch`. */
  resourcePath: string;
  functionKey: ResourceKey;
  /** Authorizer function for the route, when the template has one (issue 3); `authorizer` has the rest. */
  authorizerFunctionKey?: ResourceKey;
  /** The Lambda authorizer API Gateway runs before the route's function. */
  authorizer?: AuthorizerModel;
  /** `ApiKeyRequired`: the call is metered under the usage plan of the key the authorizer names. */
  apiKeyRequired?: boolean;
}

export interface AuthorizerModel {
  /** The AWS::ApiGateway::Authorizer resource; results are cached per authorizer and identity. */
  key: ResourceKey;
  functionKey: ResourceKey;
  type: 'REQUEST' | 'TOKEN';
  /**
   * Header names out of `method.request.header.<Name>` identity sources. A request missing any of them is
   * refused with 401 before the authorizer runs; their values are the cache key.
   */
  identityHeaders: string[];
  /** `AuthorizerResultTtlInSeconds` (API Gateway's default 300); 0 disables caching. */
  resultTtlSeconds: number;
}

/** An AWS::ApiGateway::UsagePlan: per-client throttling on the API stages it lists. */
export interface UsagePlanModel {
  key: ResourceKey;
  name: string;
  /** The REST APIs (their ResourceKey, as in RouteModel.apiKey) the plan applies to. */
  apiKeys: ResourceKey[];
  throttle?: { rateLimit: number; burstLimit: number };
  quota?: { limit: number; period: 'DAY' | 'WEEK' | 'MONTH' };
  /** The plan's tags; the hub tags each plan with the client kind it meters (infra/rate-limits.ts). */
  tags: Record<string, string>;
}

export interface HubModel {
  tables: TableModel[];
  queues: QueueModel[];
  buckets: BucketModel[];
  buses: EventBusModel[];
  rules: RuleModel[];
  schedules: ScheduleModel[];
  functions: FunctionModel[];
  eventSourceMappings: EventSourceMappingModel[];
  routes: RouteModel[];
  /** Usage plans; always filled by template.ts, optional for models built by hand. */
  usagePlans?: UsagePlanModel[];
  /** Stack outputs, resolved, in the shape of `cdk deploy --outputs-file`: { [stackName]: { [outputKey]: value } } */
  outputs: Record<string, Record<string, string>>;
}

/** Invokes a function by its key, in its own worker, as Lambda would; resolves to the handler's result. */
export interface FunctionHost {
  invoke(functionKey: ResourceKey, event: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

/** Endpoints of the local engines, handed to functions as AWS_ENDPOINT_URL_* variables. */
export interface LocalEndpoints {
  dynamodb: string;
  s3: string;
  sqs: string;
  eventbridge: string;
}

export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';
