/**
 * Reads a synthesised cloud assembly (manifest.json + *.template.json) and builds the HubModel the local
 * runtime runs from. Intrinsics are resolved against local physical names, so the environment a function
 * sees locally carries the same kind of values (names, URLs, ARNs) as in the cloud.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import {
  type AuthorizerModel,
  type BucketModel,
  type EventBusModel,
  type EventSourceMappingModel,
  type FunctionModel,
  type HubModel,
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  type QueueModel,
  type ResourceKey,
  type RouteModel,
  type RuleModel,
  type ScheduleModel,
  type TableModel,
  type TargetModel,
  type UsagePlanModel,
} from './model';

type Json = unknown;
type JsonObject = Record<string, Json>;

interface CfnResource {
  Type: string;
  Properties?: JsonObject;
  Metadata?: JsonObject;
  Condition?: string;
}

interface CfnTemplate {
  Resources?: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: Json; Export?: { Name: Json }; Condition?: string }>;
  Parameters?: Record<string, { Type?: string; Default?: Json }>;
  Conditions?: Record<string, Json>;
  Mappings?: Record<string, Record<string, Record<string, Json>>>;
}

export interface StackTemplate {
  stackName: string;
  /** Folder asset paths in the template are relative to. */
  assemblyDir: string;
  template: CfnTemplate;
}

export interface BuildModelOptions {
  /** Base URL of the local SQS engine; queue URLs (Ref of a queue) are built on it. */
  sqsEndpoint: string;
  /** Told about template parts the local runtime deliberately does not run. */
  warn?: (message: string) => void;
}

/** The account's default bus exists in every account without being declared. */
export const DEFAULT_BUS_KEY: ResourceKey = 'default';

export function loadHubModel(assemblyDir: string, options: BuildModelOptions): HubModel {
  return buildHubModel(readAssembly(assemblyDir), options);
}

/** Every CloudFormation stack of the assembly, nested assemblies (stages) included. */
export function readAssembly(assemblyDir: string): StackTemplate[] {
  const manifestFile = join(assemblyDir, 'manifest.json');
  if (!existsSync(manifestFile))
    throw new Error(`no cloud assembly at ${assemblyDir} (manifest.json missing)`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
    artifacts?: Record<string, { type: string; displayName?: string; properties?: JsonObject }>;
  };
  const stacks: StackTemplate[] = [];
  for (const [artifactId, artifact] of Object.entries(manifest.artifacts ?? {})) {
    const props = artifact.properties ?? {};
    if (artifact.type === 'aws:cloudformation:stack') {
      const templateFile = join(assemblyDir, String(props.templateFile));
      stacks.push({
        stackName: typeof props.stackName === 'string' ? props.stackName : artifactId,
        assemblyDir,
        template: JSON.parse(readFileSync(templateFile, 'utf8')) as CfnTemplate,
      });
    } else if (artifact.type === 'cdk:cloud-assembly' && typeof props.directoryName === 'string') {
      stacks.push(...readAssembly(join(assemblyDir, props.directoryName)));
    }
  }
  return stacks;
}

export function buildHubModel(stacks: StackTemplate[], options: BuildModelOptions): HubModel {
  const resolver = new Resolver(stacks, options.sqsEndpoint);
  const warn = options.warn ?? (() => {});
  const model: HubModel = {
    tables: [],
    queues: [],
    buckets: [],
    buses: [defaultBus()],
    rules: [],
    schedules: [],
    functions: [],
    eventSourceMappings: [],
    routes: [],
    usagePlans: [],
    outputs: {},
  };
  // Identities first (names, ARNs) so that links below can find their targets by ARN.
  for (const stack of stacks) {
    for (const [logicalId, resource] of activeResources(resolver, stack)) {
      const ctx = { resolver, stack, logicalId, resource, warn };
      switch (resource.Type) {
        case 'AWS::DynamoDB::Table':
        case 'AWS::DynamoDB::GlobalTable':
          model.tables.push(tableModel(ctx));
          break;
        case 'AWS::SQS::Queue':
          model.queues.push(queueModel(ctx));
          break;
        case 'AWS::S3::Bucket':
          model.buckets.push(bucketModel(ctx));
          break;
        case 'AWS::Events::EventBus':
          model.buses.push(busModel(ctx));
          break;
        case 'AWS::Lambda::Function': {
          const fn = functionModel(ctx);
          if (fn) model.functions.push(fn);
          break;
        }
      }
    }
  }
  const index = new ArnIndex(model);
  for (const stack of stacks) {
    for (const [logicalId, resource] of activeResources(resolver, stack)) {
      const ctx = { resolver, stack, logicalId, resource, warn };
      switch (resource.Type) {
        case 'AWS::SQS::Queue':
          linkDeadLetterQueue(ctx, index);
          break;
        case 'Custom::S3BucketNotifications':
          markEventBridgeBucket(ctx, model.buckets);
          break;
        case 'AWS::Events::Rule':
          model.rules.push(ruleModel(ctx, index));
          break;
        case 'AWS::Scheduler::Schedule': {
          const schedule = scheduleModel(ctx, index);
          if (schedule) model.schedules.push(schedule);
          break;
        }
        case 'AWS::Lambda::EventSourceMapping': {
          const mapping = eventSourceMappingModel(ctx, index);
          if (mapping) model.eventSourceMappings.push(mapping);
          break;
        }
        case 'AWS::ApiGateway::Method': {
          const route = routeModel(ctx, index);
          if (route) model.routes.push(route);
          break;
        }
        case 'AWS::ApiGateway::UsagePlan':
          model.usagePlans?.push(usagePlanModel(ctx));
          break;
      }
    }
    model.outputs[stack.stackName] = stackOutputs(resolver, stack);
  }
  refuseSharedRoutes(model.routes);
  return model;
}

/**
 * A route is one API's: the same method and path twice in one API cannot be told apart and is refused. Both APIs
 * may declare the same route (token introspection is served by each cloud): the hub serves each API on its own
 * port as well, and its shared port gives such a route to the private API (`routesOfSharedPort`).
 */
function refuseSharedRoutes(routes: readonly RouteModel[]): void {
  const seen = new Set<string>();
  for (const route of routes) {
    const id = `${route.apiKey} ${route.method} ${route.resourcePath}`;
    if (seen.has(id))
      throw new Error(`${route.method} ${route.resourcePath} is declared twice by ${route.apiKey}`);
    seen.add(id);
  }
}

/** The routes of the REST APIs of one stack (e.g. the public cloud's), for a port that serves only that cloud. */
export function routesOfStack(routes: readonly RouteModel[], stackName: string): RouteModel[] {
  return routes.filter((route) => route.apiKey.startsWith(`${stackName}/`));
}

/**
 * The routes of the port that serves both clouds (the hub's contract: every route on one port): every route, and
 * where both APIs declare one, only the preferred stack's (the private cloud's, whose introspection sees
 * revocations).
 */
export function routesOfSharedPort(routes: readonly RouteModel[], preferredStackName: string): RouteModel[] {
  const preferred = new Set(
    routesOfStack(routes, preferredStackName).map((route) => `${route.method} ${route.resourcePath}`),
  );
  return routes.filter(
    (route) =>
      route.apiKey.startsWith(`${preferredStackName}/`) ||
      !preferred.has(`${route.method} ${route.resourcePath}`),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Resource models

interface ResourceContext {
  resolver: Resolver;
  stack: StackTemplate;
  logicalId: string;
  resource: CfnResource;
  warn: (message: string) => void;
}

const keyOf = (stack: StackTemplate, logicalId: string): ResourceKey => `${stack.stackName}/${logicalId}`;

function activeResources(resolver: Resolver, stack: StackTemplate): [string, CfnResource][] {
  return Object.entries(stack.template.Resources ?? {}).filter(
    ([, resource]) => !resource.Condition || resolver.condition(stack, resource.Condition),
  );
}

function props(ctx: ResourceContext): JsonObject {
  return ctx.resolver.resolve(ctx.stack, ctx.resource.Properties ?? {}, ctx.logicalId) as JsonObject;
}

function tableModel(ctx: ResourceContext): TableModel {
  const p = props(ctx);
  const ttl = p.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
  const stream = p.StreamSpecification as { StreamViewType?: string } | undefined;
  const gsis = (p.GlobalSecondaryIndexes ?? []) as TableModel['globalSecondaryIndexes'];
  return {
    key: keyOf(ctx.stack, ctx.logicalId),
    tableName: ctx.resolver.physicalName(ctx.stack, ctx.logicalId),
    keySchema: p.KeySchema as TableModel['keySchema'],
    attributeDefinitions: p.AttributeDefinitions as TableModel['attributeDefinitions'],
    globalSecondaryIndexes: gsis.map(({ IndexName, KeySchema, Projection }) => ({
      IndexName,
      KeySchema,
      Projection,
    })),
    ...(ttl?.AttributeName && ttl.Enabled !== false ? { ttlAttribute: ttl.AttributeName } : {}),
    ...(stream?.StreamViewType ? { streamViewType: stream.StreamViewType } : {}),
  };
}

function queueModel(ctx: ResourceContext): QueueModel {
  const p = props(ctx);
  const queueName = ctx.resolver.physicalName(ctx.stack, ctx.logicalId);
  return {
    key: keyOf(ctx.stack, ctx.logicalId),
    queueName,
    queueUrl: ctx.resolver.ref(ctx.stack, ctx.logicalId),
    arn: ctx.resolver.getAtt(ctx.stack, ctx.logicalId, 'Arn'),
    visibilityTimeoutSeconds: numberOr(p.VisibilityTimeout, 30),
    ...(p.MessageRetentionPeriod !== undefined
      ? { messageRetentionSeconds: Number(p.MessageRetentionPeriod) }
      : {}),
    fifo: p.FifoQueue === true || p.FifoQueue === 'true',
  };
}

function linkDeadLetterQueue(ctx: ResourceContext, index: ArnIndex): void {
  const redrive = props(ctx).RedrivePolicy as
    | { deadLetterTargetArn?: string; maxReceiveCount?: Json }
    | undefined;
  if (!redrive?.deadLetterTargetArn) return;
  const queue = index.queueByKey(keyOf(ctx.stack, ctx.logicalId));
  const dlq = index.queueByArn(redrive.deadLetterTargetArn);
  if (!queue || !dlq) {
    throw new Error(
      `${keyOf(ctx.stack, ctx.logicalId)}: dead-letter queue ${redrive.deadLetterTargetArn} not found`,
    );
  }
  queue.deadLetter = { targetKey: dlq.key, maxReceiveCount: numberOr(redrive.maxReceiveCount, 10) };
}

function bucketModel(ctx: ResourceContext): BucketModel {
  const p = props(ctx);
  const notification = p.NotificationConfiguration as { EventBridgeConfiguration?: JsonObject } | undefined;
  return {
    key: keyOf(ctx.stack, ctx.logicalId),
    bucketName: ctx.resolver.physicalName(ctx.stack, ctx.logicalId),
    arn: ctx.resolver.getAtt(ctx.stack, ctx.logicalId, 'Arn'),
    eventBridgeEnabled: isEventBridgeEnabled(notification?.EventBridgeConfiguration),
  };
}

/** CDK switches S3 → EventBridge on through a custom resource rather than the bucket's own property. */
function markEventBridgeBucket(ctx: ResourceContext, buckets: BucketModel[]): void {
  const p = props(ctx);
  const notification = p.NotificationConfiguration as { EventBridgeConfiguration?: JsonObject } | undefined;
  if (!isEventBridgeEnabled(notification?.EventBridgeConfiguration)) return;
  const bucket = buckets.find((b) => b.bucketName === p.BucketName);
  if (bucket) bucket.eventBridgeEnabled = true;
}

const isEventBridgeEnabled = (config: JsonObject | undefined): boolean =>
  config !== undefined && config.EventBridgeEnabled !== false;

function busModel(ctx: ResourceContext): EventBusModel {
  return {
    key: keyOf(ctx.stack, ctx.logicalId),
    busName: ctx.resolver.physicalName(ctx.stack, ctx.logicalId),
    arn: ctx.resolver.getAtt(ctx.stack, ctx.logicalId, 'Arn'),
  };
}

function defaultBus(): EventBusModel {
  return { key: DEFAULT_BUS_KEY, busName: 'default', arn: arnFor('AWS::Events::EventBus', 'default') };
}

function functionModel(ctx: ResourceContext): FunctionModel | undefined {
  const p = props(ctx);
  const key = keyOf(ctx.stack, ctx.logicalId);
  const runtime = String(p.Runtime ?? '');
  const assetPath = ctx.resource.Metadata?.['aws:asset:path'];
  // CDK's own custom-resource plumbing (inline Python, provider frameworks) is deploy-time only.
  if (!runtime.startsWith('nodejs') || typeof assetPath !== 'string') {
    ctx.warn(
      `${key}: not run locally (runtime ${runtime || 'none'}, ${assetPath ? 'bundled' : 'no bundle'})`,
    );
    return undefined;
  }
  const variables = ((p.Environment as JsonObject | undefined)?.Variables ?? {}) as JsonObject;
  return {
    key,
    functionName: ctx.resolver.physicalName(ctx.stack, ctx.logicalId),
    arn: ctx.resolver.getAtt(ctx.stack, ctx.logicalId, 'Arn'),
    bundleDir: isAbsolute(assetPath) ? assetPath : resolvePath(ctx.stack.assemblyDir, assetPath),
    handler: String(p.Handler ?? 'index.handler'),
    runtime,
    timeoutSeconds: numberOr(p.Timeout, 3),
    memoryMb: numberOr(p.MemorySize, 128),
    ...(p.ReservedConcurrentExecutions === undefined
      ? {}
      : { reservedConcurrency: Number(p.ReservedConcurrentExecutions) }),
    environment: Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, String(value)])),
  };
}

function eventSourceMappingModel(ctx: ResourceContext, index: ArnIndex): EventSourceMappingModel | undefined {
  const p = props(ctx);
  const key = keyOf(ctx.stack, ctx.logicalId);
  const queue = index.queueByArn(String(p.EventSourceArn));
  if (!queue) {
    ctx.warn(`${key}: event source ${String(p.EventSourceArn)} is not a queue; not polled locally`);
    return undefined;
  }
  const fn = index.functionByNameOrArn(String(p.FunctionName));
  if (!fn) throw new Error(`${key}: function ${String(p.FunctionName)} not found`);
  const responseTypes = (p.FunctionResponseTypes ?? []) as string[];
  const scaling = p.ScalingConfig as { MaximumConcurrency?: Json } | undefined;
  return {
    key,
    functionKey: fn.key,
    queueKey: queue.key,
    batchSize: numberOr(p.BatchSize, 10),
    maximumBatchingWindowSeconds: numberOr(p.MaximumBatchingWindowInSeconds, 0),
    reportBatchItemFailures: responseTypes.includes('ReportBatchItemFailures'),
    ...(scaling?.MaximumConcurrency !== undefined
      ? { maximumConcurrency: Number(scaling.MaximumConcurrency) }
      : {}),
    enabled: p.Enabled !== false && p.Enabled !== 'false',
  };
}

function ruleModel(ctx: ResourceContext, index: ArnIndex): RuleModel {
  const p = props(ctx);
  const key = keyOf(ctx.stack, ctx.logicalId);
  const busRef = p.EventBusName === undefined ? 'default' : String(p.EventBusName);
  const bus = index.busByNameOrArn(busRef);
  if (!bus) throw new Error(`${key}: event bus ${busRef} not found`);
  const targets: TargetModel[] = [];
  for (const target of (p.Targets ?? []) as JsonObject[]) {
    const model = targetModel(String(target.Arn), target, index);
    if (model) targets.push(model);
    else ctx.warn(`${key}: target ${String(target.Arn)} is not a local function, queue or bus; skipped`);
    if (target.InputTransformer) ctx.warn(`${key}: InputTransformer is not applied locally`);
  }
  return {
    key,
    busKey: bus.key,
    eventPattern: (p.EventPattern ?? {}) as Record<string, unknown>,
    enabled: p.State === undefined || p.State === 'ENABLED',
    targets,
  };
}

function scheduleModel(ctx: ResourceContext, index: ArnIndex): ScheduleModel | undefined {
  const p = props(ctx);
  const key = keyOf(ctx.stack, ctx.logicalId);
  const target = p.Target as JsonObject;
  const model = targetModel(String(target.Arn), target, index);
  if (!model) {
    ctx.warn(`${key}: schedule target ${String(target.Arn)} is not a local function, queue or bus; skipped`);
    return undefined;
  }
  return {
    key,
    expression: String(p.ScheduleExpression),
    timezone: typeof p.ScheduleExpressionTimezone === 'string' ? p.ScheduleExpressionTimezone : 'UTC',
    enabled: p.State === undefined || p.State === 'ENABLED',
    target: model,
  };
}

function targetModel(arn: string, target: JsonObject, index: ArnIndex): TargetModel | undefined {
  const input = typeof target.Input === 'string' ? { input: target.Input } : {};
  const inputPath = typeof target.InputPath === 'string' ? { inputPath: target.InputPath } : {};
  const fn = index.functionByNameOrArn(arn);
  if (fn) return { kind: 'function', functionKey: fn.key, ...input, ...inputPath };
  const queue = index.queueByArn(arn);
  if (queue) return { kind: 'queue', queueKey: queue.key, ...input, ...inputPath };
  const bus = index.busByNameOrArn(arn);
  if (bus) return { kind: 'bus', busKey: bus.key };
  return undefined;
}

function routeModel(ctx: ResourceContext, index: ArnIndex): RouteModel | undefined {
  const raw = ctx.resource.Properties ?? {};
  const p = props(ctx);
  const key = keyOf(ctx.stack, ctx.logicalId);
  const integration = p.Integration as { Type?: string; Uri?: string } | undefined;
  // CORS preflights (MOCK) and non-Lambda integrations have no function to run.
  if (integration?.Type !== 'AWS_PROXY' || typeof integration.Uri !== 'string') return undefined;
  const fn = functionOfInvocationUri(integration.Uri, index);
  if (!fn) throw new Error(`${key}: integration ${integration.Uri} names no local function`);
  const apiLogicalId = refTarget(raw.RestApiId);
  if (!apiLogicalId) throw new Error(`${key}: RestApiId must reference a RestApi of the same stack`);
  // API Gateway ignores an AuthorizerId unless the method's authorization type is CUSTOM.
  const authorizationType = p.AuthorizationType === undefined ? 'CUSTOM' : String(p.AuthorizationType);
  const authorizer =
    authorizationType === 'CUSTOM' ? authorizerModel(ctx, raw.AuthorizerId, index) : undefined;
  if (authorizationType !== 'CUSTOM' && authorizationType !== 'NONE') {
    ctx.warn(`${key}: ${authorizationType} authorization is not enforced locally; the route is open`);
  }
  return {
    apiKey: keyOf(ctx.stack, apiLogicalId),
    method: String(p.HttpMethod).toUpperCase(),
    resourcePath: resourcePath(ctx.stack, raw.ResourceId, key),
    functionKey: fn.key,
    ...(authorizer ? { authorizerFunctionKey: authorizer.functionKey, authorizer } : {}),
    ...(p.ApiKeyRequired === true || p.ApiKeyRequired === 'true' ? { apiKeyRequired: true } : {}),
  };
}

/** API Gateway's default for `AuthorizerResultTtlInSeconds`. */
const DEFAULT_AUTHORIZER_TTL_SECONDS = 300;
const HEADER_IDENTITY_SOURCE = /^method\.request\.header\.(.+)$/;

function authorizerModel(
  ctx: ResourceContext,
  authorizerId: Json,
  index: ArnIndex,
): AuthorizerModel | undefined {
  const logicalId = refTarget(authorizerId);
  if (!logicalId) return undefined;
  const key = keyOf(ctx.stack, logicalId);
  const authorizer = ctx.stack.template.Resources?.[logicalId];
  if (authorizer?.Type !== 'AWS::ApiGateway::Authorizer') {
    throw new Error(`${keyOf(ctx.stack, ctx.logicalId)}: AuthorizerId ${logicalId} is not an authorizer`);
  }
  const p = ctx.resolver.resolve(ctx.stack, authorizer.Properties ?? {}, logicalId) as JsonObject;
  const type = String(p.Type ?? '');
  if (type !== 'REQUEST' && type !== 'TOKEN') {
    ctx.warn(`${key}: ${type || 'untyped'} authorizers are not run locally; its routes are open`);
    return undefined;
  }
  const uri = p.AuthorizerUri;
  const fn = typeof uri === 'string' ? functionOfInvocationUri(uri, index) : undefined;
  if (!fn) throw new Error(`${key}: authorizer ${String(uri)} names no local function`);
  const sources =
    typeof p.IdentitySource === 'string' && p.IdentitySource.trim() !== ''
      ? p.IdentitySource.split(',').map((source) => source.trim())
      : [];
  const identityHeaders: string[] = [];
  for (const source of sources) {
    const header = HEADER_IDENTITY_SOURCE.exec(source)?.[1];
    if (header) identityHeaders.push(header);
    else ctx.warn(`${key}: identity source ${source} is not checked locally (headers only)`);
  }
  return {
    key,
    functionKey: fn.key,
    type,
    identityHeaders,
    resultTtlSeconds: numberOr(p.AuthorizerResultTtlInSeconds, DEFAULT_AUTHORIZER_TTL_SECONDS),
  };
}

function usagePlanModel(ctx: ResourceContext): UsagePlanModel {
  const raw = ctx.resource.Properties ?? {};
  const p = props(ctx);
  const key = keyOf(ctx.stack, ctx.logicalId);
  const apiKeys = ((raw.ApiStages ?? []) as JsonObject[]).flatMap((stage) => {
    const apiLogicalId = refTarget(stage.ApiId);
    if (apiLogicalId) return [keyOf(ctx.stack, apiLogicalId)];
    ctx.warn(`${key}: an API stage that is not a RestApi of this stack is not metered locally`);
    return [];
  });
  const throttle = p.Throttle as { RateLimit?: Json; BurstLimit?: Json } | undefined;
  const quota = p.Quota as { Limit?: Json; Period?: Json } | undefined;
  const tags = (p.Tags ?? []) as { Key: string; Value: string }[];
  return {
    key,
    name: typeof p.UsagePlanName === 'string' ? p.UsagePlanName : ctx.logicalId,
    apiKeys,
    ...(throttle?.RateLimit !== undefined && throttle.BurstLimit !== undefined
      ? { throttle: { rateLimit: Number(throttle.RateLimit), burstLimit: Number(throttle.BurstLimit) } }
      : {}),
    ...(quota?.Limit !== undefined
      ? { quota: { limit: Number(quota.Limit), period: String(quota.Period) as 'DAY' | 'WEEK' | 'MONTH' } }
      : {}),
    tags: Object.fromEntries(tags.map((tag) => [tag.Key, String(tag.Value)])),
  };
}

function functionOfInvocationUri(uri: string, index: ArnIndex): FunctionModel | undefined {
  const match = /\/functions\/(.+)\/invocations$/.exec(uri);
  return match?.[1] ? index.functionByNameOrArn(match[1]) : undefined;
}

/** Walks ParentId up to the API's root resource, joining PathParts. */
function resourcePath(stack: StackTemplate, resourceId: Json, methodKey: string): string {
  const parts: string[] = [];
  let current = resourceId;
  for (let depth = 0; depth < 100; depth++) {
    if (isRootResourceId(current)) return `/${parts.reverse().join('/')}`;
    const logicalId = refTarget(current);
    const resource = logicalId ? stack.template.Resources?.[logicalId] : undefined;
    if (resource?.Type !== 'AWS::ApiGateway::Resource') {
      throw new Error(`${methodKey}: cannot walk API resource ${JSON.stringify(current)} up to the root`);
    }
    parts.push(String(resource.Properties?.PathPart));
    current = resource.Properties?.ParentId;
  }
  throw new Error(`${methodKey}: API resource path deeper than 100 levels`);
}

function isRootResourceId(value: Json): boolean {
  const getAtt = (value as JsonObject | undefined)?.['Fn::GetAtt'];
  const parts = typeof getAtt === 'string' ? getAtt.split('.') : getAtt;
  return Array.isArray(parts) && parts[1] === 'RootResourceId';
}

function refTarget(value: Json): string | undefined {
  const ref = (value as JsonObject | undefined)?.Ref;
  return typeof ref === 'string' ? ref : undefined;
}

function stackOutputs(resolver: Resolver, stack: StackTemplate): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const [name, output] of Object.entries(stack.template.Outputs ?? {})) {
    if (output.Condition && !resolver.condition(stack, output.Condition)) continue;
    outputs[name] = String(resolver.resolve(stack, output.Value, `Outputs.${name}`));
  }
  return outputs;
}

const numberOr = (value: Json, fallback: number): number => (value === undefined ? fallback : Number(value));

class ArnIndex {
  constructor(private readonly model: HubModel) {}

  queueByKey(key: ResourceKey): QueueModel | undefined {
    return this.model.queues.find((q) => q.key === key);
  }

  queueByArn(arn: string): QueueModel | undefined {
    return this.model.queues.find((q) => q.arn === arn || q.queueUrl === arn);
  }

  busByNameOrArn(nameOrArn: string): EventBusModel | undefined {
    return this.model.buses.find((b) => b.busName === nameOrArn || b.arn === nameOrArn);
  }

  /** Matches a name, an ARN, or a qualified ARN (`…:function:name:alias`). */
  functionByNameOrArn(nameOrArn: string): FunctionModel | undefined {
    return this.model.functions.find(
      (f) => f.functionName === nameOrArn || f.arn === nameOrArn || nameOrArn.startsWith(`${f.arn}:`),
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Intrinsics and physical names

interface NamingRule {
  nameProperty?: string;
  maxLength: number;
  lowerCase?: boolean;
}

const NAMING: Record<string, NamingRule> = {
  'AWS::DynamoDB::Table': { nameProperty: 'TableName', maxLength: 255 },
  'AWS::DynamoDB::GlobalTable': { nameProperty: 'TableName', maxLength: 255 },
  'AWS::SQS::Queue': { nameProperty: 'QueueName', maxLength: 80 },
  'AWS::S3::Bucket': { nameProperty: 'BucketName', maxLength: 63, lowerCase: true },
  'AWS::Events::EventBus': { nameProperty: 'Name', maxLength: 256 },
  'AWS::Events::Rule': { nameProperty: 'Name', maxLength: 64 },
  'AWS::Scheduler::Schedule': { nameProperty: 'Name', maxLength: 64 },
  'AWS::Scheduler::ScheduleGroup': { nameProperty: 'Name', maxLength: 64 },
  'AWS::Lambda::Function': { nameProperty: 'FunctionName', maxLength: 64 },
  'AWS::IAM::Role': { nameProperty: 'RoleName', maxLength: 64 },
  'AWS::Logs::LogGroup': { nameProperty: 'LogGroupName', maxLength: 512 },
  'AWS::SecretsManager::Secret': { nameProperty: 'Name', maxLength: 512 },
  'AWS::SSM::Parameter': { nameProperty: 'Name', maxLength: 1011 },
};

const DEFAULT_NAMING: NamingRule = { maxLength: 128 };

const PSEUDO: Record<string, (stack: StackTemplate) => Json> = {
  'AWS::Region': () => LOCAL_REGION,
  'AWS::AccountId': () => LOCAL_ACCOUNT,
  'AWS::Partition': () => 'aws',
  'AWS::URLSuffix': () => 'amazonaws.com',
  'AWS::StackName': (stack) => stack.stackName,
  'AWS::StackId': (stack) =>
    `arn:aws:cloudformation:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stack/${stack.stackName}/${shortHash(stack.stackName, 8)}`,
  'AWS::NotificationARNs': () => [],
};

/** Marks `Ref: AWS::NoValue`: the property is removed, as CloudFormation does. */
const NO_VALUE = Symbol('AWS::NoValue');

export function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** `<stack>-<logicalId>` within the service's length limit, kept unique by a hash when shortened. */
export function defaultPhysicalName(
  stackName: string,
  logicalId: string,
  rule: NamingRule,
  fifo = false,
): string {
  const suffix = fifo ? '.fifo' : '';
  let name = `${stackName}-${logicalId}`;
  if (rule.lowerCase) {
    name = name
      .toLowerCase()
      .replace(/[^a-z0-9.-]/g, '-')
      .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  }
  const max = rule.maxLength - suffix.length;
  if (name.length > max) name = `${name.slice(0, max - 9)}-${shortHash(`${stackName}/${logicalId}`, 8)}`;
  return name + suffix;
}

function arnFor(type: string, name: string): string {
  const r = LOCAL_REGION;
  const a = LOCAL_ACCOUNT;
  switch (type) {
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable':
      return `arn:aws:dynamodb:${r}:${a}:table/${name}`;
    case 'AWS::SQS::Queue':
      return `arn:aws:sqs:${r}:${a}:${name}`;
    case 'AWS::S3::Bucket':
      return `arn:aws:s3:::${name}`;
    case 'AWS::Events::EventBus':
      return `arn:aws:events:${r}:${a}:event-bus/${name}`;
    case 'AWS::Events::Rule':
      return `arn:aws:events:${r}:${a}:rule/${name}`;
    case 'AWS::Scheduler::Schedule':
      return `arn:aws:scheduler:${r}:${a}:schedule/default/${name}`;
    case 'AWS::Scheduler::ScheduleGroup':
      return `arn:aws:scheduler:${r}:${a}:schedule-group/${name}`;
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${r}:${a}:function:${name}`;
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${a}:role/${name}`;
    case 'AWS::KMS::Key':
      return `arn:aws:kms:${r}:${a}:key/${name}`;
    case 'AWS::Logs::LogGroup':
      return `arn:aws:logs:${r}:${a}:log-group:${name}:*`;
    case 'AWS::SecretsManager::Secret':
      return `arn:aws:secretsmanager:${r}:${a}:secret:${name}-${shortHash(name, 6)}`;
    default: {
      const service = type.split('::')[1]?.toLowerCase() ?? 'unknown';
      return `arn:aws:${service}:${r}:${a}:${name}`;
    }
  }
}

/** Resolves intrinsic functions of any stack of the assembly; physical names are computed once, lazily. */
export class Resolver {
  private readonly names = new Map<string, string>();
  private readonly inProgress = new Set<string>();

  constructor(
    private readonly stacks: StackTemplate[],
    private readonly sqsEndpoint: string,
  ) {}

  resolve(stack: StackTemplate, value: Json, where: string): Json {
    const result = this.resolveValue(stack, value, where);
    return result === NO_VALUE ? undefined : result;
  }

  condition(stack: StackTemplate, name: string): boolean {
    const definition = stack.template.Conditions?.[name];
    if (definition === undefined) throw new Error(`${stack.stackName}: condition ${name} is not defined`);
    return this.guarded(`${stack.stackName}#condition:${name}`, () =>
      Boolean(this.resolve(stack, definition, `Conditions.${name}`)),
    );
  }

  physicalName(stack: StackTemplate, logicalId: string): string {
    const cacheKey = keyOf(stack, logicalId);
    const cached = this.names.get(cacheKey);
    if (cached !== undefined) return cached;
    const resource = this.resourceOf(stack, logicalId, logicalId);
    const rule = NAMING[resource.Type] ?? DEFAULT_NAMING;
    const explicit = rule.nameProperty ? resource.Properties?.[rule.nameProperty] : undefined;
    const name =
      explicit !== undefined
        ? String(this.guarded(cacheKey, () => this.resolve(stack, explicit, logicalId)))
        : this.defaultName(stack, logicalId, resource, rule);
    this.names.set(cacheKey, name);
    return name;
  }

  ref(stack: StackTemplate, logicalId: string): string {
    const resource = this.resourceOf(stack, logicalId, logicalId);
    const name = this.physicalName(stack, logicalId);
    switch (resource.Type) {
      case 'AWS::SQS::Queue':
        return `${this.sqsEndpoint}/${LOCAL_ACCOUNT}/${name}`;
      case 'AWS::SecretsManager::Secret':
        return arnFor(resource.Type, name);
      default:
        return name;
    }
  }

  getAtt(stack: StackTemplate, logicalId: string, attribute: string): string {
    const resource = this.resourceOf(stack, logicalId, logicalId);
    const name = this.physicalName(stack, logicalId);
    const type = resource.Type;
    if (attribute === 'Arn') return arnFor(type, name);
    const value = knownAttribute(type, attribute, name, this.ref(stack, logicalId));
    if (value !== undefined) return value;
    if (type in NAMING || type === 'AWS::ApiGateway::RestApi') {
      throw new Error(`${keyOf(stack, logicalId)}: attribute ${attribute} of ${type} is not known locally`);
    }
    // Resources the runtime does not model (keys, roles of other kinds...) only need a stable stand-in.
    return `${name}.${attribute}`;
  }

  private defaultName(
    stack: StackTemplate,
    logicalId: string,
    resource: CfnResource,
    rule: NamingRule,
  ): string {
    const fifo = resource.Type === 'AWS::SQS::Queue' && String(resource.Properties?.FifoQueue) === 'true';
    if (resource.Type === 'AWS::ApiGateway::RestApi' || resource.Type === 'AWS::ApiGateway::Resource') {
      return shortHash(keyOf(stack, logicalId), 10);
    }
    if (resource.Type === 'AWS::KMS::Key') return uuidFrom(keyOf(stack, logicalId));
    return defaultPhysicalName(stack.stackName, logicalId, rule, fifo);
  }

  private resourceOf(stack: StackTemplate, logicalId: string, where: string): CfnResource {
    const resource = stack.template.Resources?.[logicalId];
    if (!resource) throw new Error(`${stack.stackName}/${where}: reference to unknown resource ${logicalId}`);
    return resource;
  }

  private guarded<T>(key: string, compute: () => T): T {
    if (this.inProgress.has(key)) throw new Error(`${key}: circular reference`);
    this.inProgress.add(key);
    try {
      return compute();
    } finally {
      this.inProgress.delete(key);
    }
  }

  private resolveValue(stack: StackTemplate, value: Json, where: string): Json | typeof NO_VALUE {
    if (Array.isArray(value)) {
      return value.map((item) => this.resolveValue(stack, item, where)).filter((item) => item !== NO_VALUE);
    }
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as JsonObject);
    const [first] = entries;
    if (entries.length === 1 && first && isIntrinsic(first[0])) {
      return this.intrinsic(stack, first[0], first[1], where);
    }
    const out: JsonObject = {};
    for (const [key, item] of entries) {
      const resolved = this.resolveValue(stack, item, where);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  private intrinsic(stack: StackTemplate, fn: string, arg: Json, where: string): Json | typeof NO_VALUE {
    const r = (v: Json) => this.resolve(stack, v, where);
    switch (fn) {
      case 'Ref':
        return this.resolveRef(stack, String(arg), where);
      case 'Fn::GetAtt': {
        const [logicalId, ...attribute] = typeof arg === 'string' ? arg.split('.') : (r(arg) as string[]);
        return this.getAtt(stack, String(logicalId), attribute.join('.'));
      }
      case 'Fn::Join': {
        const [delimiter, list] = arg as [string, Json];
        return (r(list) as Json[]).map(String).join(delimiter);
      }
      case 'Fn::Sub':
        return this.sub(stack, arg, where);
      case 'Fn::Select': {
        const [indexValue, list] = arg as [Json, Json];
        const items = r(list) as Json[];
        const index = Number(r(indexValue));
        if (!Array.isArray(items) || index >= items.length)
          throw new Error(`${where}: Fn::Select out of range`);
        return items[index];
      }
      case 'Fn::Split': {
        const [delimiter, source] = arg as [string, Json];
        return String(r(source)).split(delimiter);
      }
      case 'Fn::ImportValue':
        return this.importValue(String(r(arg)), where);
      case 'Fn::If': {
        const [conditionName, whenTrue, whenFalse] = arg as [string, Json, Json];
        return this.resolveValue(stack, this.condition(stack, conditionName) ? whenTrue : whenFalse, where);
      }
      case 'Fn::Equals': {
        const [left, right] = arg as [Json, Json];
        return JSON.stringify(r(left)) === JSON.stringify(r(right));
      }
      case 'Fn::Not':
        return !(r((arg as Json[])[0]) as boolean);
      case 'Fn::And':
        return (arg as Json[]).every((c) => r(c) === true);
      case 'Fn::Or':
        return (arg as Json[]).some((c) => r(c) === true);
      case 'Condition':
        return this.condition(stack, String(arg));
      case 'Fn::FindInMap': {
        const [mapName, topKey, secondKey] = (arg as Json[]).map((v) => String(r(v)));
        const found = stack.template.Mappings?.[String(mapName)]?.[String(topKey)]?.[String(secondKey)];
        if (found === undefined)
          throw new Error(`${where}: Fn::FindInMap ${mapName}/${topKey}/${secondKey} not found`);
        return found;
      }
      case 'Fn::Base64':
        return Buffer.from(String(r(arg))).toString('base64');
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((zone) => `${LOCAL_REGION}${zone}`);
      case 'Fn::ToJsonString':
        return JSON.stringify(r(arg));
      default:
        throw new Error(`${stack.stackName}/${where}: intrinsic ${fn} is not supported locally`);
    }
  }

  private resolveRef(stack: StackTemplate, name: string, where: string): Json | typeof NO_VALUE {
    if (name === 'AWS::NoValue') return NO_VALUE;
    const pseudo = PSEUDO[name];
    if (pseudo) return pseudo(stack);
    const parameter = stack.template.Parameters?.[name];
    if (parameter) {
      if (parameter.Default === undefined)
        throw new Error(`${stack.stackName}/${where}: parameter ${name} has no default`);
      return parameter.Default;
    }
    this.resourceOf(stack, name, where);
    return this.ref(stack, name);
  }

  private sub(stack: StackTemplate, arg: Json, where: string): string {
    const [text, variables] = typeof arg === 'string' ? [arg, {}] : (arg as [string, JsonObject]);
    return text.replace(/\$\{([^}]+)\}/g, (_, expression: string) => {
      if (expression.startsWith('!')) return `\${${expression.slice(1)}}`;
      if (variables && expression in variables)
        return String(this.resolve(stack, variables[expression], where));
      const dot = expression.indexOf('.');
      if (dot > 0 && !expression.startsWith('AWS::')) {
        return this.getAtt(stack, expression.slice(0, dot), expression.slice(dot + 1));
      }
      return String(this.resolveRef(stack, expression, where));
    });
  }

  private importValue(exportName: string, where: string): Json {
    for (const stack of this.stacks) {
      for (const [outputName, output] of Object.entries(stack.template.Outputs ?? {})) {
        if (!output.Export) continue;
        const name = this.guarded(`${stack.stackName}#export:${outputName}`, () =>
          this.resolve(stack, output.Export?.Name, `Outputs.${outputName}`),
        );
        if (name === exportName) {
          return this.guarded(`${stack.stackName}#output:${outputName}`, () =>
            this.resolve(stack, output.Value, `Outputs.${outputName}`),
          );
        }
      }
    }
    throw new Error(`${where}: Fn::ImportValue ${exportName} is exported by no stack of the assembly`);
  }
}

const isIntrinsic = (key: string): boolean => key === 'Ref' || key === 'Condition' || key.startsWith('Fn::');

function knownAttribute(type: string, attribute: string, name: string, ref: string): string | undefined {
  const attributes: Record<string, Record<string, string>> = {
    'AWS::DynamoDB::Table': { StreamArn: `${arnFor(type, name)}/stream/local` },
    'AWS::DynamoDB::GlobalTable': { StreamArn: `${arnFor(type, name)}/stream/local`, TableId: name },
    'AWS::SQS::Queue': { QueueName: name, QueueUrl: ref },
    'AWS::S3::Bucket': {
      DomainName: `${name}.s3.amazonaws.com`,
      RegionalDomainName: `${name}.s3.${LOCAL_REGION}.amazonaws.com`,
      DualStackDomainName: `${name}.s3.dualstack.${LOCAL_REGION}.amazonaws.com`,
      WebsiteURL: `http://${name}.s3-website-${LOCAL_REGION}.amazonaws.com`,
    },
    'AWS::Events::EventBus': { Name: name },
    'AWS::ApiGateway::RestApi': { RootResourceId: `${name}-root` },
    'AWS::IAM::Role': { RoleId: `AROA${shortHash(name, 16).toUpperCase()}` },
    'AWS::SecretsManager::Secret': { Id: ref },
  };
  return attributes[type]?.[attribute];
}

function uuidFrom(text: string): string {
  const h = shortHash(text, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
