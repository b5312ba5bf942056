/**
 * Policy checks over a synthesised CloudFormation template. Each returns the violations it finds
 * (`<logicalId>: <what is wrong>`), so a failing test names every offender at once.
 */

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DeletionPolicy?: string;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown }>;
}

/**
 * Statements that may name `Resource: '*'`, each with the reason. Anything else must name its resources.
 */
export const WILDCARD_RESOURCE_ALLOW_LIST: Record<string, string> = {
  'xray:PutTraceSegments': 'X-Ray has no resource-level permissions',
  'xray:PutTelemetryRecords': 'X-Ray has no resource-level permissions',
};

const MIN_NODE_MAJOR = 22;
const RUNBOOK_LINK = 'Runbook: README.md#runbook-';

type Entry = [logicalId: string, resource: CfnResource];

export function resourcesOfType(template: CfnTemplate, type: string): Entry[] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/** Logical id a `Ref` or `Fn::GetAtt` points at. */
export function referencedLogicalId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.Ref === 'string') return record.Ref;
  const getAtt = record['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  return undefined;
}

/** A property by dotted path (`Target.RetryPolicy.MaximumRetryAttempts`, `Targets.0.Arn`). */
export function propertyAt<T = unknown>(resource: CfnResource | undefined, path: string): T | undefined {
  return prop<T>(resource, path);
}

/** The one resource of a type; fails the test naming the type when there are none or several. */
export function onlyResource(template: CfnTemplate, type: string): CfnResource {
  const found = resourcesOfType(template, type);
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  return (found[0] as Entry)[1];
}

function prop<T = unknown>(resource: CfnResource | undefined, path: string): T | undefined {
  if (!resource) return undefined;
  let current: unknown = resource.Properties;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current as T | undefined;
}

function isCustomerManagedKey(template: CfnTemplate, reference: unknown): boolean {
  const keyId = referencedLogicalId(reference);
  return keyId !== undefined && template.Resources[keyId]?.Type === 'AWS::KMS::Key';
}

/** Queues something dead-letters into: SQS redrive, EventBridge rule targets, Scheduler schedules. */
export function deadLetterQueueIds(template: CfnTemplate): Set<string> {
  const ids = new Set<string>();
  const add = (reference: unknown) => {
    const id = referencedLogicalId(reference);
    if (id) ids.add(id);
  };
  for (const [, queue] of resourcesOfType(template, 'AWS::SQS::Queue')) {
    add(prop(queue, 'RedrivePolicy.deadLetterTargetArn'));
  }
  for (const [, rule] of resourcesOfType(template, 'AWS::Events::Rule')) {
    for (const target of prop<Record<string, unknown>[]>(rule, 'Targets') ?? []) {
      add((target.DeadLetterConfig as Record<string, unknown> | undefined)?.Arn);
    }
  }
  for (const [, schedule] of resourcesOfType(template, 'AWS::Scheduler::Schedule')) {
    add(prop(schedule, 'Target.DeadLetterConfig.Arn'));
  }
  return ids;
}

export function queuesWithoutDeadLetterQueue(template: CfnTemplate): string[] {
  const deadLetterQueues = deadLetterQueueIds(template);
  return resourcesOfType(template, 'AWS::SQS::Queue')
    .filter(([id, queue]) => !deadLetterQueues.has(id) && !prop(queue, 'RedrivePolicy.deadLetterTargetArn'))
    .map(([id]) => `${id}: queue without a dead-letter queue`);
}

export function deadLetterQueuesWithoutAlarm(template: CfnTemplate): string[] {
  const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm);
  return [...deadLetterQueueIds(template)]
    .filter(
      (queueId) =>
        !alarms.some((alarm) => {
          const watchesQueue =
            prop(alarm, 'Namespace') === 'AWS/SQS' &&
            prop(alarm, 'MetricName') === 'ApproximateNumberOfMessagesVisible' &&
            (prop<Record<string, unknown>[]>(alarm, 'Dimensions') ?? []).some(
              (dimension) =>
                dimension.Name === 'QueueName' && referencedLogicalId(dimension.Value) === queueId,
            );
          const actionable = (prop<unknown[]>(alarm, 'AlarmActions') ?? []).length > 0;
          const explained = String(prop(alarm, 'AlarmDescription') ?? '').includes(RUNBOOK_LINK);
          return watchesQueue && actionable && explained;
        }),
    )
    .map((id) => `${id}: dead-letter queue without an actionable alarm that links its runbook`);
}

export function queuesWithoutCustomerManagedKey(template: CfnTemplate): string[] {
  return resourcesOfType(template, 'AWS::SQS::Queue')
    .filter(([, queue]) => !isCustomerManagedKey(template, prop(queue, 'KmsMasterKeyId')))
    .map(([id]) => `${id}: queue not encrypted with a customer-managed key of this stack`);
}

export function tablesWithoutPitrAndCustomerManagedKey(template: CfnTemplate): string[] {
  return resourcesOfType(template, 'AWS::DynamoDB::Table').flatMap(([id, table]) => {
    const problems: string[] = [];
    if (prop(table, 'PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled') !== true) {
      problems.push(`${id}: point-in-time recovery is off`);
    }
    const sseOn =
      prop(table, 'SSESpecification.SSEEnabled') === true &&
      prop(table, 'SSESpecification.SSEType') === 'KMS';
    if (!sseOn || !isCustomerManagedKey(template, prop(table, 'SSESpecification.KMSMasterKeyId'))) {
      problems.push(`${id}: not encrypted with a customer-managed key of this stack`);
    }
    return problems;
  });
}

export function functionsWithoutHubDefaults(template: CfnTemplate): string[] {
  return resourcesOfType(template, 'AWS::Lambda::Function').flatMap(([id, fn]) => {
    const problems: string[] = [];
    const logGroupId = referencedLogicalId(prop(fn, 'LoggingConfig.LogGroup'));
    const logGroup = logGroupId ? template.Resources[logGroupId] : undefined;
    if (logGroup?.Type !== 'AWS::Logs::LogGroup') problems.push(`${id}: no log group of its own`);
    else if (typeof prop(logGroup, 'RetentionInDays') !== 'number')
      problems.push(`${id}: log group keeps logs forever`);
    const runtime = String(prop(fn, 'Runtime') ?? '');
    const major = Number(/^nodejs(\d+)\.x$/.exec(runtime)?.[1] ?? 0);
    if (major < MIN_NODE_MAJOR)
      problems.push(`${id}: runtime ${runtime} older than nodejs${MIN_NODE_MAJOR}.x`);
    if (prop(fn, 'TracingConfig.Mode') !== 'Active') problems.push(`${id}: X-Ray tracing not active`);
    return problems;
  });
}

export function consumersWithUnsafeQueueSettings(template: CfnTemplate): string[] {
  return resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').flatMap(([id, mapping]) => {
    const queueId = referencedLogicalId(prop(mapping, 'EventSourceArn'));
    const queue = queueId ? template.Resources[queueId] : undefined;
    if (queue?.Type !== 'AWS::SQS::Queue') return [];
    const problems: string[] = [];
    const fnId = referencedLogicalId(prop(mapping, 'FunctionName'));
    const fn = fnId ? template.Resources[fnId] : undefined;
    const functionTimeout = Number((fn && prop(fn, 'Timeout')) ?? 3);
    const visibility = Number(prop(queue, 'VisibilityTimeout') ?? 30);
    if (visibility < 6 * functionTimeout) {
      problems.push(`${id}: visibility ${visibility}s < 6 × function timeout ${functionTimeout}s`);
    }
    if (!(prop<string[]>(mapping, 'FunctionResponseTypes') ?? []).includes('ReportBatchItemFailures')) {
      problems.push(`${id}: partial batch failures not reported`);
    }
    return problems;
  });
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
}

function policyStatements(template: CfnTemplate): [string, Statement][] {
  const statements: [string, Statement][] = [];
  for (const [id, policy] of resourcesOfType(template, 'AWS::IAM::Policy')) {
    for (const statement of prop<Statement[]>(policy, 'PolicyDocument.Statement') ?? [])
      statements.push([id, statement]);
  }
  for (const [id, role] of resourcesOfType(template, 'AWS::IAM::Role')) {
    for (const inline of prop<{ PolicyDocument: { Statement: Statement[] } }[]>(role, 'Policies') ?? []) {
      for (const statement of inline.PolicyDocument.Statement) statements.push([id, statement]);
    }
  }
  return statements;
}

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

export function wildcardResourceStatements(template: CfnTemplate): string[] {
  return policyStatements(template)
    .filter(([, statement]) => statement.Effect === 'Allow')
    .flatMap(([id, statement]) => {
      const actions = asArray(statement.Action);
      const problems: string[] = [];
      if (actions.includes('*')) problems.push(`${id}: allows every action`);
      if (asArray(statement.Resource).includes('*')) {
        const unlisted = actions.filter((action) => !(action in WILDCARD_RESOURCE_ALLOW_LIST));
        if (unlisted.length > 0) problems.push(`${id}: ${unlisted.join(', ')} on Resource '*'`);
      }
      return problems;
    });
}

/** Stores that are not tables or queues but still keep data at rest: buses, archives, topics, secrets. */
const KEY_PROPERTY_BY_TYPE: Record<string, string> = {
  'AWS::Events::EventBus': 'KmsKeyIdentifier',
  'AWS::Events::Archive': 'KmsKeyIdentifier',
  'AWS::SNS::Topic': 'KmsMasterKeyId',
  'AWS::SecretsManager::Secret': 'KmsKeyId',
};

export function storesWithoutCustomerManagedKey(template: CfnTemplate): string[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type in KEY_PROPERTY_BY_TYPE)
    .filter(
      ([, resource]) =>
        !isCustomerManagedKey(template, prop(resource, KEY_PROPERTY_BY_TYPE[resource.Type] as string)),
    )
    .map(
      ([id, resource]) => `${id}: ${resource.Type} not encrypted with a customer-managed key of this stack`,
    );
}

/**
 * Symmetric keys only: KMS cannot rotate asymmetric keys (the token signing key); those rotate by publishing a
 * successor in the JWKS.
 */
export function keysWithoutRotation(template: CfnTemplate): string[] {
  return resourcesOfType(template, 'AWS::KMS::Key')
    .filter(([, key]) => (prop<string>(key, 'KeySpec') ?? 'SYMMETRIC_DEFAULT') === 'SYMMETRIC_DEFAULT')
    .filter(([, key]) => prop(key, 'EnableKeyRotation') !== true)
    .map(([id]) => `${id}: key rotation off`);
}

export const ALL_POLICIES = {
  queuesWithoutDeadLetterQueue,
  deadLetterQueuesWithoutAlarm,
  queuesWithoutCustomerManagedKey,
  tablesWithoutPitrAndCustomerManagedKey,
  storesWithoutCustomerManagedKey,
  functionsWithoutHubDefaults,
  consumersWithUnsafeQueueSettings,
  wildcardResourceStatements,
  keysWithoutRotation,
} as const;
