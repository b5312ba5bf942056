import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

/**
 * The one exemption from the runtime rules: the handler of CDK's BucketDeployment (the custom resource that puts the
 * public dashboard's page files into the published bucket, infra/constructs/public-dashboard.ts). It runs only
 * inside a CloudFormation deployment, which reports its failure and rolls back — there are no runtime invocations
 * for an alarm or a trace to watch — and its Python runtime is chosen and kept current by aws-cdk-lib. It must
 * still have a log group of its own with a retention. Found by what invokes it, not by name, so no other function
 * can slip in.
 */
export function deployTimeFunctionIds(template: CfnTemplate): Set<string> {
  return new Set(
    resourcesOfType(template, 'Custom::CDKBucketDeployment').flatMap(([, resource]) => {
      const id = referencedLogicalId(prop(resource, 'ServiceToken'));
      return id ? [id] : [];
    }),
  );
}

export function functionsWithoutHubDefaults(template: CfnTemplate): string[] {
  const deployTime = deployTimeFunctionIds(template);
  return resourcesOfType(template, 'AWS::Lambda::Function').flatMap(([id, fn]) => {
    const problems: string[] = [];
    const logGroupId = referencedLogicalId(prop(fn, 'LoggingConfig.LogGroup'));
    const logGroup = logGroupId ? template.Resources[logGroupId] : undefined;
    if (logGroup?.Type !== 'AWS::Logs::LogGroup') problems.push(`${id}: no log group of its own`);
    else if (typeof prop(logGroup, 'RetentionInDays') !== 'number')
      problems.push(`${id}: log group keeps logs forever`);
    if (deployTime.has(id)) return problems;
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

/** The `### runbook-…` sections of the README: an alarm may link only to one that exists. */
const README_RUNBOOKS = new Set(
  [
    ...readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8').matchAll(
      /^### (runbook-[a-z0-9-]+)$/gm,
    ),
  ].map((m) => m[1]),
);

/** Alarms whose runbook link names no section of the README: an on-call reader would land nowhere. */
export function runbookLinksWithoutSection(template: CfnTemplate): string[] {
  return resourcesOfType(template, 'AWS::CloudWatch::Alarm').flatMap(([id, alarm]) =>
    [...String(prop(alarm, 'AlarmDescription') ?? '').matchAll(/README\.md#(runbook-[a-z0-9-]+)/g)]
      .map((m) => m[1] as string)
      .filter((anchor) => !README_RUNBOOKS.has(anchor))
      .map((anchor) => `${id}: links README.md#${anchor}, which has no section`),
  );
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
  runbookLinksWithoutSection,
} as const;

// ---- Cloud isolation (issue 7) ------------------------------------------------------------------------------

const INTERNET_PATH_TYPES = [
  'AWS::EC2::InternetGateway',
  'AWS::EC2::EgressOnlyInternetGateway',
  'AWS::EC2::NatGateway',
  'AWS::EC2::VPCGatewayAttachment',
];

/** Anything that gives a VPC a way to or from the internet: gateways, NAT, default routes. */
export function internetPaths(template: CfnTemplate): string[] {
  const gateways = Object.entries(template.Resources)
    .filter(([, resource]) => INTERNET_PATH_TYPES.includes(resource.Type))
    .map(([id, resource]) => `${id}: ${resource.Type}`);
  const defaultRoutes = resourcesOfType(template, 'AWS::EC2::Route')
    .filter(
      ([, route]) =>
        prop(route, 'DestinationCidrBlock') === '0.0.0.0/0' ||
        prop(route, 'DestinationIpv6CidrBlock') === '::/0',
    )
    .map(([id]) => `${id}: default route out of the VPC`);
  return [...gateways, ...defaultRoutes];
}

export function functionsOutsideVpc(template: CfnTemplate): string[] {
  return resourcesOfType(template, 'AWS::Lambda::Function')
    .filter(([, fn]) => (prop<unknown[]>(fn, 'VpcConfig.SubnetIds') ?? []).length === 0)
    .map(([id]) => `${id}: not in the VPC`);
}

const watches = (alarm: CfnResource, namespace: string, metric: string, dimension: string, id: string) =>
  prop(alarm, 'Namespace') === namespace &&
  prop(alarm, 'MetricName') === metric &&
  (prop<Record<string, unknown>[]>(alarm, 'Dimensions') ?? []).some(
    (d) => d.Name === dimension && referencedLogicalId(d.Value) === id,
  ) &&
  (prop<unknown[]>(alarm, 'AlarmActions') ?? []).length > 0 &&
  String(prop(alarm, 'AlarmDescription') ?? '').includes(RUNBOOK_LINK);

/** Every function has actionable, explained alarms on its Errors and Throttles (deploy-time handlers aside). */
export function functionsWithoutAlarms(template: CfnTemplate): string[] {
  const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm);
  const deployTime = deployTimeFunctionIds(template);
  return resourcesOfType(template, 'AWS::Lambda::Function').flatMap(([id]) =>
    (deployTime.has(id) ? [] : ['Errors', 'Throttles'])
      .filter((metric) => !alarms.some((alarm) => watches(alarm, 'AWS/Lambda', metric, 'FunctionName', id)))
      .map((metric) => `${id}: no alarm on ${metric} that links its runbook`),
  );
}

/** Every REST API has an actionable, explained alarm on its 5xx answers. */
export function apisWithoutServerErrorAlarm(template: CfnTemplate): string[] {
  const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm);
  return resourcesOfType(template, 'AWS::ApiGateway::RestApi').flatMap(([id, api]) => {
    const name = prop(api, 'Name');
    const found = alarms.some(
      (alarm) =>
        prop(alarm, 'Namespace') === 'AWS/ApiGateway' &&
        prop(alarm, 'MetricName') === '5XXError' &&
        (prop<Record<string, unknown>[]>(alarm, 'Dimensions') ?? []).some(
          (d) => d.Name === 'ApiName' && d.Value === name,
        ) &&
        (prop<unknown[]>(alarm, 'AlarmActions') ?? []).length > 0 &&
        String(prop(alarm, 'AlarmDescription') ?? '').includes(RUNBOOK_LINK),
    );
    return found ? [] : [`${id}: no 5xx alarm that links its runbook`];
  });
}

interface PolicyStatementDoc {
  Effect: string;
  Condition?: Record<string, Record<string, unknown>>;
}

/** PRIVATE endpoint, and a resource policy that denies every call not made through a VPC endpoint of the stack. */
export function apisReachableOutsideVpcEndpoint(template: CfnTemplate): string[] {
  return resourcesOfType(template, 'AWS::ApiGateway::RestApi').flatMap(([id, api]) => {
    const problems: string[] = [];
    if (JSON.stringify(prop(api, 'EndpointConfiguration.Types')) !== '["PRIVATE"]')
      problems.push(`${id}: endpoint type is not PRIVATE`);
    const statements = prop<PolicyStatementDoc[]>(api, 'Policy.Statement') ?? [];
    const deniesOthers = statements.some((statement) => {
      const endpoint = statement.Condition?.StringNotEquals?.['aws:SourceVpce'];
      const endpointId = referencedLogicalId(endpoint);
      return (
        statement.Effect === 'Deny' &&
        endpointId !== undefined &&
        template.Resources[endpointId]?.Type === 'AWS::EC2::VPCEndpoint'
      );
    });
    if (!deniesOthers) problems.push(`${id}: resource policy does not deny calls outside its VPC endpoint`);
    const allows = statements.filter((statement) => statement.Effect === 'Allow');
    if (allows.some((statement) => statement.Condition?.StringEquals?.['aws:SourceVpce'] === undefined))
      problems.push(`${id}: an Allow without the VPC endpoint condition`);
    return problems;
  });
}

/** Every REST API stage is protected by a WAFv2 web ACL with a rate-based rule. */
export function apisWithoutWaf(template: CfnTemplate): string[] {
  const associations = resourcesOfType(template, 'AWS::WAFv2::WebACLAssociation').map(([, a]) => a);
  return resourcesOfType(template, 'AWS::ApiGateway::Stage').flatMap(([id]) => {
    const association = associations.find((a) => JSON.stringify(prop(a, 'ResourceArn')).includes(`"${id}"`));
    if (!association) return [`${id}: stage without a WAF web ACL`];
    const aclId = referencedLogicalId(prop(association, 'WebACLArn'));
    const rules = prop<Record<string, unknown>[]>(template.Resources[aclId ?? ''], 'Rules') ?? [];
    const rateLimited = rules.some((rule) =>
      JSON.stringify(rule.Statement ?? {}).includes('RateBasedStatement'),
    );
    return rateLimited ? [] : [`${id}: web ACL without a rate-based rule`];
  });
}

/** Stores (tables, buckets) without declared contents, or whose declared contents name personal data. */
export function storesHoldingPersonalData(
  template: CfnTemplate,
  contents: Record<string, readonly string[]>,
  personal: readonly string[],
  tagKey: string,
): string[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::DynamoDB::Table' || resource.Type === 'AWS::S3::Bucket')
    .flatMap(([id, store]) => {
      const tags = prop<{ Key: string; Value: string }[]>(store, 'Tags') ?? [];
      const declared = tags.find((tag) => tag.Key === tagKey)?.Value;
      const fields = declared === undefined ? undefined : contents[declared];
      if (!fields) return [`${id}: ${store.Type} without declared contents`];
      const found = fields.filter((field) => personal.includes(field));
      return found.length > 0 ? [`${id}: holds personal data (${found.join(', ')})`] : [];
    });
}
