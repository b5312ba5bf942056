import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildHubModel,
  DEFAULT_BUS_KEY,
  defaultPhysicalName,
  loadHubModel,
  readAssembly,
  type StackTemplate,
} from '../../../infra/local/template';

const assemblyDir = join(import.meta.dirname, '../../fixtures/templates/hub');
const sqsEndpoint = 'http://127.0.0.1:9324';
const warnings: string[] = [];
const model = loadHubModel(assemblyDir, { sqsEndpoint, warn: (m) => warnings.push(m) });

const PRIVATE = 'zwfw-dev-private';
const PUBLIC = 'zwfw-dev-public';

const fn = (key: string) => {
  const found = model.functions.find((f) => f.key === key);
  if (!found) throw new Error(`no function ${key}`);
  return found;
};

function stackWith(resources: Record<string, unknown>, extra: Record<string, unknown> = {}): StackTemplate[] {
  return [{ stackName: 's', assemblyDir: '/tmp', template: { Resources: resources, ...extra } as never }];
}

describe('readAssembly', () => {
  it('reads every stack named in manifest.json, with the stack name of the manifest', () => {
    expect(readAssembly(assemblyDir).map((s) => s.stackName)).toEqual([PRIVATE, PUBLIC]);
  });

  it('fails clearly when the folder is not an assembly', () => {
    expect(() => readAssembly(import.meta.dirname)).toThrow(/manifest.json missing/);
  });
});

describe('tables', () => {
  it('keeps key schema, GSIs, TTL and stream, named <stack>-<logicalId> when the template gives no name', () => {
    const cases = model.tables.find((t) => t.key === `${PRIVATE}/CasesTable8A7B6C5D`);
    expect(cases).toEqual({
      key: `${PRIVATE}/CasesTable8A7B6C5D`,
      tableName: `${PRIVATE}-CasesTable8A7B6C5D`,
      keySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      attributeDefinitions: expect.arrayContaining([{ AttributeName: 'gsi1pk', AttributeType: 'S' }]),
      globalSecondaryIndexes: [
        {
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      ttlAttribute: 'expiresAt',
      streamViewType: 'NEW_AND_OLD_IMAGES',
    });
  });

  it('uses an explicit TableName, resolving intrinsics in it', () => {
    const idempotency = model.tables.find((t) => t.key === `${PRIVATE}/IdempotencyTable`);
    expect(idempotency?.tableName).toBe(`${PRIVATE}-idempotency`);
    expect(idempotency?.ttlAttribute).toBe('expiration');
  });

  it('leaves out resources whose condition is false', () => {
    expect(model.tables.map((t) => t.key)).not.toContain(`${PRIVATE}/ProductionOnlyTable`);
    expect(model.outputs[PRIVATE]).not.toHaveProperty('ProductionOnly');
  });
});

describe('queues', () => {
  it('builds URL and ARN from the local endpoint and links the DLQ with its maxReceiveCount', () => {
    const queue = model.queues.find((q) => q.key === `${PRIVATE}/CaseQueueBEEF`);
    expect(queue).toEqual({
      key: `${PRIVATE}/CaseQueueBEEF`,
      queueName: `${PRIVATE}-CaseQueueBEEF`,
      queueUrl: `${sqsEndpoint}/000000000000/${PRIVATE}-CaseQueueBEEF`,
      arn: `arn:aws:sqs:us-east-1:000000000000:${PRIVATE}-CaseQueueBEEF`,
      visibilityTimeoutSeconds: 2,
      fifo: false,
      deadLetter: { targetKey: `${PRIVATE}/CaseQueueDlqF00D`, maxReceiveCount: 2 },
    });
    const dlq = model.queues.find((q) => q.key === `${PRIVATE}/CaseQueueDlqF00D`);
    expect(dlq).toMatchObject({ visibilityTimeoutSeconds: 30, messageRetentionSeconds: 1209600 });
    expect(dlq?.deadLetter).toBeUndefined();
  });

  it('gives an unnamed FIFO queue a .fifo name', () => {
    const fifo = model.queues.find((q) => q.key === `${PUBLIC}/OrderedQueueDD44`);
    expect(fifo?.fifo).toBe(true);
    expect(fifo?.queueName).toBe(`${PUBLIC}-OrderedQueueDD44.fifo`);
  });
});

describe('buckets', () => {
  it('detects EventBridge notifications set by the CDK custom resource and by the bucket property', () => {
    const snapshots = model.buckets.find((b) => b.key === `${PRIVATE}/SnapshotsBucketC0FFEE`);
    expect(snapshots).toEqual({
      key: `${PRIVATE}/SnapshotsBucketC0FFEE`,
      bucketName: 'zwfw-dev-private-snapshotsbucketc0ffee',
      arn: 'arn:aws:s3:::zwfw-dev-private-snapshotsbucketc0ffee',
      eventBridgeEnabled: true,
    });
    const published = model.buckets.find((b) => b.key.startsWith(`${PUBLIC}/PublishedSnapshots`));
    expect(published?.eventBridgeEnabled).toBe(true);
  });

  it('shortens long bucket names to 63 lower-case characters, keeping them distinct', () => {
    const published = model.buckets.find((b) => b.key.startsWith(`${PUBLIC}/PublishedSnapshots`));
    expect(published?.bucketName.length).toBeLessThanOrEqual(63);
    expect(published?.bucketName).toMatch(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/);
    const rule = { maxLength: 63, lowerCase: true };
    expect(defaultPhysicalName('s', `${'X'.repeat(70)}A`, rule)).not.toBe(
      defaultPhysicalName('s', `${'X'.repeat(70)}B`, rule),
    );
  });
});

describe('buses and rules', () => {
  it('always knows the default bus and names declared buses', () => {
    expect(model.buses.map((b) => [b.key, b.busName])).toEqual([
      [DEFAULT_BUS_KEY, 'default'],
      [`${PRIVATE}/HubBus5A6B`, `${PRIVATE}-bus`],
    ]);
  });

  it('maps targets to functions and queues, keeps Input, resolves the pattern, and skips foreign targets', () => {
    const rule = model.rules.find((r) => r.key === `${PRIVATE}/CaseStatusRule9900`);
    expect(rule).toEqual({
      key: `${PRIVATE}/CaseStatusRule9900`,
      busKey: `${PRIVATE}/HubBus5A6B`,
      eventPattern: {
        source: ['zwfw.case-aggregate'],
        'detail-type': ['CaseStatusChanged'],
        resources: ['arn:aws:s3:::zwfw-dev-private-snapshotsbucketc0ffee'],
      },
      enabled: true,
      targets: [
        { kind: 'function', functionKey: `${PRIVATE}/IngestFunction1122` },
        { kind: 'queue', queueKey: `${PRIVATE}/CaseQueueBEEF`, input: '{"fixed":true}' },
      ],
    });
    expect(warnings.some((w) => w.includes('CaseStatusRule9900') && w.includes(':sns:'))).toBe(true);
  });

  it('puts a rule without EventBusName on the default bus and follows a bus target imported from the other stack', () => {
    const rule = model.rules.find((r) => r.key === `${PUBLIC}/ForwardRuleCC33`);
    expect(rule).toMatchObject({
      busKey: DEFAULT_BUS_KEY,
      enabled: false,
      targets: [{ kind: 'bus', busKey: `${PRIVATE}/HubBus5A6B` }],
    });
  });
});

describe('schedules', () => {
  it('keeps expression, timezone and the target with its input', () => {
    expect(model.schedules).toEqual([
      {
        key: `${PRIVATE}/DailySchedule4455`,
        expression: 'cron(0 1 * * ? *)',
        timezone: 'Asia/Shanghai',
        enabled: true,
        target: { kind: 'function', functionKey: `${PRIVATE}/IngestFunction1122`, input: '{"job":"daily"}' },
      },
    ]);
  });
});

describe('functions', () => {
  it('resolves every environment variable to local names, URLs and ARNs', () => {
    const ingest = fn(`${PRIVATE}/IngestFunction1122`);
    expect(ingest).toMatchObject({
      functionName: `${PRIVATE}-IngestFunction1122`,
      arn: `arn:aws:lambda:us-east-1:000000000000:function:${PRIVATE}-IngestFunction1122`,
      bundleDir: join(assemblyDir, 'asset.fixture01'),
      handler: 'index.handler',
      runtime: 'nodejs20.x',
      timeoutSeconds: 29,
      memoryMb: 512,
    });
    expect(ingest.environment).toEqual({
      HUB_STAGE: 'dev',
      POWERTOOLS_SERVICE_NAME: 'case-aggregate',
      CASES_TABLE: `${PRIVATE}-CasesTable8A7B6C5D`,
      CASE_QUEUE_URL: `${sqsEndpoint}/000000000000/${PRIVATE}-CaseQueueBEEF`,
      EVENT_BUS_NAME: `${PRIVATE}-bus`,
      IDEMPOTENCY_TABLE: `${PRIVATE}-idempotency`,
      STATS_SHARDS: '8',
      DATA_KEY_ARN: expect.stringMatching(/^arn:aws:kms:us-east-1:000000000000:key\/[0-9a-f-]{36}$/),
      QUEUE_ARN_TEXT: `queue arn:aws:sqs:us-east-1:000000000000:${PRIVATE}-CaseQueueBEEF in us-east-1 (\${Literal})`,
      REGION_OR_NOT: 'local',
    });
  });

  it('applies Lambda defaults (3 s, 128 MB) and explicit FunctionName', () => {
    expect(fn(`${PUBLIC}/AuthorizerFunctionBB22`)).toMatchObject({ timeoutSeconds: 3, memoryMb: 128 });
    expect(fn(`${PRIVATE}/ConsumerFunction3344`).functionName).toBe('zwfw-dev-case-consumer');
    expect(fn(`${PRIVATE}/ConsumerFunction3344`).environment.CASE_QUEUE_NAME).toBe(
      `${PRIVATE}-CaseQueueBEEF`,
    );
  });

  it('resolves Fn::ImportValue, Fn::Select and Fn::Split across the two stacks', () => {
    expect(fn(`${PUBLIC}/PublicFunctionAA11`).environment).toEqual({
      PRIVATE_BUS_ARN: `arn:aws:events:us-east-1:000000000000:event-bus/${PRIVATE}-bus`,
      PRIVATE_BUS_NAME: `${PRIVATE}-bus`,
    });
  });

  it('does not run CDK plumbing functions without a Node bundle', () => {
    expect(model.functions.map((f) => f.key)).not.toContain(`${PRIVATE}/BucketNotificationsHandler050a0587`);
    expect(warnings.some((w) => w.includes('BucketNotificationsHandler050a0587'))).toBe(true);
  });
});

describe('event source mappings', () => {
  it('links queue and function and keeps batching settings', () => {
    expect(model.eventSourceMappings).toEqual([
      {
        key: `${PRIVATE}/ConsumerMapping7788`,
        functionKey: `${PRIVATE}/ConsumerFunction3344`,
        queueKey: `${PRIVATE}/CaseQueueBEEF`,
        batchSize: 5,
        maximumBatchingWindowSeconds: 1,
        reportBatchItemFailures: true,
        maximumConcurrency: 2,
        enabled: true,
      },
    ]);
  });
});

describe('routes', () => {
  it('builds full resource paths by walking ParentId and skips MOCK methods', () => {
    const privateRoutes = model.routes
      .filter((r) => r.apiKey === `${PRIVATE}/PrivateApi1A1A`)
      .map((r) => `${r.method} ${r.resourcePath} -> ${r.functionKey}`)
      .sort();
    expect(privateRoutes).toEqual([
      `GET / -> ${PRIVATE}/IngestFunction1122`,
      `GET /v1/cases/{caseId} -> ${PRIVATE}/IngestFunction1122`,
      `POST /v1/cases:batch -> ${PRIVATE}/IngestFunction1122`,
    ]);
  });

  it('follows an aliased integration ARN and the route authorizer', () => {
    expect(model.routes.filter((r) => r.apiKey === `${PUBLIC}/PublicApiFF66`)).toEqual([
      {
        apiKey: `${PUBLIC}/PublicApiFF66`,
        method: 'POST',
        resourcePath: '/v1/tokens/introspect',
        functionKey: `${PUBLIC}/PublicFunctionAA11`,
        authorizerFunctionKey: `${PUBLIC}/AuthorizerFunctionBB22`,
        // No IdentitySource in the fixture: nothing to require or to cache by; API Gateway's default TTL.
        authorizer: {
          key: `${PUBLIC}/SignatureAuthorizerD4E4`,
          functionKey: `${PUBLIC}/AuthorizerFunctionBB22`,
          type: 'REQUEST',
          identityHeaders: [],
          resultTtlSeconds: 300,
        },
      },
    ]);
  });
});

describe('authorizers and usage plans', () => {
  const api = { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'api' } };
  const fnResource = {
    Type: 'AWS::Lambda::Function',
    Properties: { Runtime: 'nodejs22.x', Handler: 'index.handler' },
    Metadata: { 'aws:asset:path': 'asset.x' },
  };
  const invocation = (logicalId: string) => ({
    'Fn::Join': [
      '',
      [
        'arn:aws:apigateway:',
        { Ref: 'AWS::Region' },
        ':lambda:path/2015-03-31/functions/',
        { 'Fn::GetAtt': [logicalId, 'Arn'] },
        '/invocations',
      ],
    ],
  });
  const method = (resource: string, extra: Record<string, unknown>) => ({
    Type: 'AWS::ApiGateway::Method',
    Properties: {
      HttpMethod: 'GET',
      RestApiId: { Ref: 'Api' },
      ResourceId: { Ref: resource },
      Integration: { Type: 'AWS_PROXY', Uri: invocation('Fn') },
      ...extra,
    },
  });
  const resource = (pathPart: string) => ({
    Type: 'AWS::ApiGateway::Resource',
    Properties: {
      ParentId: { 'Fn::GetAtt': ['Api', 'RootResourceId'] },
      PathPart: pathPart,
      RestApiId: { Ref: 'Api' },
    },
  });
  const stacks = () =>
    stackWith({
      Api: api,
      Fn: fnResource,
      AuthFn: fnResource,
      Guarded: resource('guarded'),
      Public: resource('public'),
      Ignored: resource('ignored'),
      Cognito: resource('cognito'),
      ClientAuthorizer: {
        Type: 'AWS::ApiGateway::Authorizer',
        Properties: {
          Type: 'REQUEST',
          RestApiId: { Ref: 'Api' },
          AuthorizerUri: invocation('AuthFn'),
          IdentitySource: 'method.request.header.X-Hub-Key, method.request.querystring.v',
          AuthorizerResultTtlInSeconds: 120,
        },
      },
      UserPool: { Type: 'AWS::ApiGateway::Authorizer', Properties: { Type: 'COGNITO_USER_POOLS' } },
      GuardedGET: method('Guarded', {
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: 'ClientAuthorizer' },
        ApiKeyRequired: true,
      }),
      PublicGET: method('Public', { AuthorizationType: 'NONE' }),
      // An authorizer id with authorization NONE is ignored by API Gateway.
      IgnoredGET: method('Ignored', { AuthorizationType: 'NONE', AuthorizerId: { Ref: 'ClientAuthorizer' } }),
      CognitoGET: method('Cognito', {
        AuthorizationType: 'COGNITO_USER_POOLS',
        AuthorizerId: { Ref: 'UserPool' },
      }),
      Stage: { Type: 'AWS::ApiGateway::Stage', Properties: { RestApiId: { Ref: 'Api' }, StageName: 'dev' } },
      RegionPlan: {
        Type: 'AWS::ApiGateway::UsagePlan',
        Properties: {
          UsagePlanName: 'zwfw-dev-private-region',
          ApiStages: [{ ApiId: { Ref: 'Api' }, Stage: { Ref: 'Stage' } }],
          Throttle: { RateLimit: 200, BurstLimit: 400 },
          Quota: { Limit: 1000000, Period: 'DAY' },
          Tags: [{ Key: 'zwfw:client-kind', Value: 'region' }],
        },
      },
    });

  it('records the authorizer of a CUSTOM route with its identity headers and TTL, and ApiKeyRequired', () => {
    const warned: string[] = [];
    const built = buildHubModel(stacks(), { sqsEndpoint, warn: (m) => warned.push(m) });
    const byPath = Object.fromEntries(built.routes.map((r) => [r.resourcePath, r]));
    expect(byPath['/guarded']).toEqual({
      apiKey: 's/Api',
      method: 'GET',
      resourcePath: '/guarded',
      functionKey: 's/Fn',
      authorizerFunctionKey: 's/AuthFn',
      authorizer: {
        key: 's/ClientAuthorizer',
        functionKey: 's/AuthFn',
        type: 'REQUEST',
        identityHeaders: ['X-Hub-Key'],
        resultTtlSeconds: 120,
      },
      apiKeyRequired: true,
    });
    expect(byPath['/public']).toEqual({
      apiKey: 's/Api',
      method: 'GET',
      resourcePath: '/public',
      functionKey: 's/Fn',
    });
    expect(byPath['/ignored']?.authorizer).toBeUndefined();
    expect(byPath['/cognito']?.authorizer).toBeUndefined();
    expect(warned.some((w) => w.includes('method.request.querystring.v'))).toBe(true);
    expect(warned.some((w) => w.includes('COGNITO_USER_POOLS'))).toBe(true);
  });

  it('reads usage plans with their API, throttle, quota and tags', () => {
    const built = buildHubModel(stacks(), { sqsEndpoint });
    expect(built.usagePlans).toEqual([
      {
        key: 's/RegionPlan',
        name: 'zwfw-dev-private-region',
        apiKeys: ['s/Api'],
        throttle: { rateLimit: 200, burstLimit: 400 },
        quota: { limit: 1000000, period: 'DAY' },
        tags: { 'zwfw:client-kind': 'region' },
      },
    ]);
  });
});

describe('outputs', () => {
  it('resolves outputs per stack in the shape of cdk deploy --outputs-file', () => {
    expect(model.outputs).toEqual({
      [PRIVATE]: {
        CasesTableName: `${PRIVATE}-CasesTable8A7B6C5D`,
        CaseQueueUrl: `${sqsEndpoint}/000000000000/${PRIVATE}-CaseQueueBEEF`,
        CaseDlqUrl: `${sqsEndpoint}/000000000000/${PRIVATE}-CaseQueueDlqF00D`,
        SnapshotsBucketName: 'zwfw-dev-private-snapshotsbucketc0ffee',
        HubBusArn: `arn:aws:events:us-east-1:000000000000:event-bus/${PRIVATE}-bus`,
        ConsumerFunctionName: 'zwfw-dev-case-consumer',
      },
      [PUBLIC]: { PrivateConsumer: 'zwfw-dev-case-consumer', PrivateBusName: `${PRIVATE}-bus` },
    });
  });
});

describe('failures name the resource', () => {
  it('rejects a Ref to a resource that does not exist', () => {
    const stacks = stackWith({
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: { Runtime: 'nodejs20.x', Environment: { Variables: { T: { Ref: 'Missing' } } } },
        Metadata: { 'aws:asset:path': 'asset.x' },
      },
    });
    expect(() => buildHubModel(stacks, { sqsEndpoint })).toThrow(
      /s\/Fn: reference to unknown resource Missing/,
    );
  });

  it('rejects an import nobody exports', () => {
    const stacks = stackWith({}, { Outputs: { X: { Value: { 'Fn::ImportValue': 'nope' } } } });
    expect(() => buildHubModel(stacks, { sqsEndpoint })).toThrow(/Outputs.X: Fn::ImportValue nope/);
  });

  it('rejects an unknown attribute of a modelled resource type', () => {
    const stacks = stackWith(
      { Q: { Type: 'AWS::SQS::Queue' } },
      { Outputs: { X: { Value: { 'Fn::GetAtt': ['Q', 'Colour'] } } } },
    );
    expect(() => buildHubModel(stacks, { sqsEndpoint })).toThrow(/s\/Q: attribute Colour of AWS::SQS::Queue/);
  });

  it('rejects a circular name', () => {
    const stacks = stackWith({
      A: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { 'Fn::GetAtt': ['B', 'QueueName'] } } },
      B: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { 'Fn::GetAtt': ['A', 'QueueName'] } } },
    });
    expect(() => buildHubModel(stacks, { sqsEndpoint })).toThrow(/circular reference/);
  });

  it('ignores resource types it does not know', () => {
    const stacks = stackWith({ W: { Type: 'AWS::WAFv2::WebACL', Properties: { Rules: [] } } });
    const empty = buildHubModel(stacks, { sqsEndpoint });
    expect(empty.tables.length + empty.queues.length + empty.functions.length + empty.routes.length).toBe(0);
  });
});
