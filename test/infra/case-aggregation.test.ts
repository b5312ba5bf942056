import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAILY_ROLLUP_SCHEDULE, OVERDUE_SWEEP_SCHEDULE } from '../../infra/constructs/case-aggregation';
import { createHubApp } from '../../infra/stacks/hub';
import {
  type CfnTemplate,
  deadLetterQueuesWithoutAlarm,
  propertyAt,
  referencedLogicalId,
  resourcesOfType,
} from './policies';
import { logicalIdOf, routesOf, statementsOfRole, templateQueries } from './queries';
import { cdkJsonContext, NO_BUNDLING, type SynthesisedHub, synthHub } from './synth';

/**
 * Issue 4's wiring of case aggregation: catalogue, due index, assessments bucket, items and stats APIs, the
 * overdue sweep and the daily rollup on their schedules. Resources and settings only: esbuild is skipped.
 */
const CALENDAR = { holidays: ['2026-10-01', '2026-10-02'], workdays: ['2026-09-27'] };

let dev: SynthesisedHub;
let template: CfnTemplate;

beforeAll(() => {
  dev = synthHub({ ...NO_BUNDLING, 'zwfw:stage': 'dev', 'zwfw:holidayCalendar': JSON.stringify(CALENDAR) });
  template = dev.template('zwfw-dev-private');
}, 60_000);

afterAll(() => dev?.cleanUp());

const cases = () => dev.privateCloud.caseAggregation;
const { resourceOf, variablesOf, grantsOf, actionsOn } = templateQueries(() => template);

describe('routes', () => {
  it.each([
    ['PUT /v1/items/{code}', 'itemsFunction'],
    ['GET /v1/items/{code}', 'itemsFunction'],
    ['GET /v1/stats', 'statsFunction'],
    ['GET /v1/assessments/{period}', 'statsFunction'],
    ['GET /v1/me/cases', 'apiFunction'],
    ['GET /v1/evaluations/stats', 'statsFunction'],
  ] as const)('%s runs the %s behind the client authorizer and its usage plan', (route, fn) => {
    const method = routesOf(template).get(route);
    const authorizerId = resourcesOfType(template, 'AWS::ApiGateway::Authorizer')[0]?.[0];
    expect(method?.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', ApiKeyRequired: true });
    expect(referencedLogicalId(propertyAt(method, 'AuthorizerId'))).toBe(authorizerId);
    expect(propertyAt(method, 'Integration.Type')).toBe('AWS_PROXY');
    expect(JSON.stringify(propertyAt(method, 'Integration.Uri'))).toContain(`"${logicalIdOf(cases()[fn])}"`);
  });
});

describe('tables', () => {
  it('the cases table has the sparse, keys-only due index the sweep queries', () => {
    const table = resourceOf(cases().casesTable);
    const indexes = propertyAt<Record<string, unknown>[]>(table, 'GlobalSecondaryIndexes') ?? [];
    expect(indexes.find((index) => index.IndexName === 'due')).toEqual({
      IndexName: 'due',
      KeySchema: [
        { AttributeName: 'duepk', KeyType: 'HASH' },
        { AttributeName: 'duesk', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    });
    expect(propertyAt(table, 'AttributeDefinitions')).toEqual(
      expect.arrayContaining([
        { AttributeName: 'duepk', AttributeType: 'S' },
        { AttributeName: 'duesk', AttributeType: 'S' },
      ]),
    );
    expect(indexes.map((index) => index.IndexName).sort()).toEqual(['applicant', 'due']);
  });

  it('the cases table lists an applicant’s cases by subject through a keys-only index (status changes write no index item)', () => {
    const table = resourceOf(cases().casesTable);
    const indexes = propertyAt<Record<string, unknown>[]>(table, 'GlobalSecondaryIndexes') ?? [];
    expect(indexes.find((index) => index.IndexName === 'applicant')).toEqual({
      IndexName: 'applicant',
      KeySchema: [
        { AttributeName: 'applicantpk', KeyType: 'HASH' },
        { AttributeName: 'applicantsk', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    });
  });

  it('the catalogue table is a hub table under the capability key, without indexes', () => {
    const table = resourceOf(cases().catalogueTable);
    expect(propertyAt(table, 'KeySchema')).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(referencedLogicalId(propertyAt(table, 'SSESpecification.KMSMasterKeyId'))).toBe(
      logicalIdOf(cases().key),
    );
    expect(propertyAt(table, 'GlobalSecondaryIndexes')).toBeUndefined();
  });
});

describe('the assessments bucket', () => {
  const bucket = () => resourceOf(cases().assessmentsBucket);

  it('is KMS-encrypted with the capability key, versioned, non-public and access-logged', () => {
    expect(
      propertyAt(
        bucket(),
        'BucketEncryption.ServerSideEncryptionConfiguration.0.ServerSideEncryptionByDefault',
      ),
    ).toMatchObject({ SSEAlgorithm: 'aws:kms' });
    expect(
      referencedLogicalId(
        propertyAt(
          bucket(),
          'BucketEncryption.ServerSideEncryptionConfiguration.0.ServerSideEncryptionByDefault.KMSMasterKeyID',
        ),
      ),
    ).toBe(logicalIdOf(cases().key));
    expect(propertyAt(bucket(), 'VersioningConfiguration.Status')).toBe('Enabled');
    expect(propertyAt(bucket(), 'PublicAccessBlockConfiguration')).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const logsId = referencedLogicalId(propertyAt(bucket(), 'LoggingConfiguration.DestinationBucketName'));
    expect(template.Resources[logsId ?? '']?.Type).toBe('AWS::S3::Bucket');
  });

  it('refuses every request that is not TLS', () => {
    const policy = resourcesOfType(template, 'AWS::S3::BucketPolicy').find(
      ([, p]) => referencedLogicalId(propertyAt(p, 'Bucket')) === logicalIdOf(cases().assessmentsBucket),
    )?.[1];
    const statements = propertyAt<Record<string, unknown>[]>(policy, 'PolicyDocument.Statement') ?? [];
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });
});

describe('functions', () => {
  it('items API: the catalogue, read and written, and the signed HTTP stack', () => {
    const catalogue = logicalIdOf(cases().catalogueTable);
    expect(variablesOf(cases().itemsFunction)).toMatchObject({
      CATALOGUE_TABLE: { Ref: catalogue },
      NONCES_TABLE: expect.anything(),
      IDEMPOTENCY_TABLE: expect.anything(),
      HUB_CLIENTS_SECRET_ID: expect.anything(),
    });
    expect(actionsOn(cases().itemsFunction, catalogue)).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:BatchWriteItem']),
    );
    expect(actionsOn(cases().itemsFunction, logicalIdOf(cases().casesTable))).toEqual([]);
  });

  it('case API: verifies persons’ tokens (JWKS of the API, the hub issuer) and may query the cases table’s indexes', () => {
    const fn = cases().apiFunction;
    expect(variablesOf(fn)).toMatchObject({
      TOKEN_ISSUER: 'https://hub.zwfw.local/dev',
      TOKEN_JWKS_URL: expect.anything(),
    });
    expect(JSON.stringify(variablesOf(fn).TOKEN_JWKS_URL)).toContain('/dev/.well-known/jwks.json');
    const casesId = logicalIdOf(cases().casesTable);
    const indexGrant = grantsOf(fn).find((s) =>
      [s.Resource]
        .flat()
        .some((r) => JSON.stringify(r).includes('/index/*') && JSON.stringify(r).includes(casesId)),
    );
    expect([indexGrant?.Action].flat()).toEqual(
      expect.arrayContaining(['dynamodb:Query', 'dynamodb:BatchGetItem']),
    );
    const actions = actionsOn(fn, casesId);
    expect(actions.filter((a) => /Put|Update|Delete|Write/.test(a))).toEqual([]);
  });

  it('stats API: reads the stats table and writes nothing of the capability', () => {
    const stats = logicalIdOf(cases().statsTable);
    expect(variablesOf(cases().statsFunction)).toMatchObject({
      STATS_TABLE: { Ref: stats },
      STATS_SHARDS: '8',
    });
    const actions = actionsOn(cases().statsFunction, stats);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:Query', 'dynamodb:BatchGetItem']));
    expect(actions.filter((a) => /Put|Update|Delete|Write/.test(a))).toEqual([]);
    expect(actionsOn(cases().statsFunction, logicalIdOf(cases().casesTable))).toEqual([]);
  });

  it('overdue sweep: cases and stats read and written, the calendar, 10 min and 512 MB', () => {
    const fn = cases().sweepFunction;
    expect(resourceOf(fn).Properties).toMatchObject({ Timeout: 600, MemorySize: 512 });
    expect(variablesOf(fn)).toMatchObject({
      CASES_TABLE: { Ref: logicalIdOf(cases().casesTable) },
      STATS_TABLE: { Ref: logicalIdOf(cases().statsTable) },
      STATS_SHARDS: '8',
      HOLIDAY_CALENDAR: JSON.stringify(CALENDAR),
    });
    for (const table of [cases().casesTable, cases().statsTable]) {
      expect(actionsOn(fn, logicalIdOf(table))).toEqual(
        expect.arrayContaining(['dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem']),
      );
    }
    // The due index is queried through the table's /index/* grant.
    expect(JSON.stringify(grantsOf(fn))).toContain('/index/*');
  });

  it('rollup: stats read and written, snapshots put under assessments/ only, the bus, 15 min and 1024 MB', () => {
    const fn = cases().rollupFunction;
    const bucket = logicalIdOf(cases().assessmentsBucket);
    expect(resourceOf(fn).Properties).toMatchObject({ Timeout: 900, MemorySize: 1024 });
    expect(variablesOf(fn)).toMatchObject({
      STATS_TABLE: { Ref: logicalIdOf(cases().statsTable) },
      STATS_SHARDS: '8',
      ASSESSMENTS_BUCKET: { Ref: bucket },
      EVENT_BUS_NAME: { Ref: logicalIdOf(dev.privateCloud.platform.eventBus) },
    });
    const s3 = grantsOf(fn).filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')));
    expect(s3).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/assessments/*']] },
      },
    ]);
    expect(actionsOn(fn, logicalIdOf(cases().key))).toContain('kms:GenerateDataKey');
    expect(actionsOn(fn, logicalIdOf(dev.privateCloud.platform.eventBus))).toEqual(['events:PutEvents']);
    expect(actionsOn(fn, logicalIdOf(cases().casesTable))).toEqual([]);
  });

  it('the consumer judges working days with the same calendar as the sweep', () => {
    expect(variablesOf(cases().ingestFunction)).toMatchObject({ HOLIDAY_CALENDAR: JSON.stringify(CALENDAR) });
  });
});

describe('schedules', () => {
  const scheduleOf = (schedule: ReturnType<typeof cases>['sweepSchedule']) => resourceOf(schedule.schedule);

  it.each([
    ['sweepSchedule', OVERDUE_SWEEP_SCHEDULE, 'cron(30 0 * * ? *)', 'sweepFunction'],
    ['rollupSchedule', DAILY_ROLLUP_SCHEDULE, 'cron(0 1 * * ? *)', 'rollupFunction'],
  ] as const)('%s runs %s Asia/Shanghai with retries and an alarmed DLQ', (name, expression, literal, fn) => {
    expect(expression).toBe(literal);
    const schedule = scheduleOf(cases()[name]);
    expect(schedule.Properties).toMatchObject({
      ScheduleExpression: literal,
      ScheduleExpressionTimezone: 'Asia/Shanghai',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
    });
    // Both take `{}`: the sweep and the rollup then work on yesterday (Asia/Shanghai).
    expect(propertyAt(schedule, 'Target.Input')).toBe('{}');
    expect(referencedLogicalId(propertyAt(schedule, 'Target.Arn'))).toBe(logicalIdOf(cases()[fn]));
    expect(propertyAt(schedule, 'Target.RetryPolicy.MaximumRetryAttempts')).toBe(3);
    const dlq = referencedLogicalId(propertyAt(schedule, 'Target.DeadLetterConfig.Arn'));
    expect(dlq).toBe(logicalIdOf(cases()[name].deadLetterQueue.queue));
    expect(deadLetterQueuesWithoutAlarm(template)).toEqual([]);
    // The schedule's role may invoke its target and nothing else of the capability.
    const invoke = statementsOfRole(template, logicalIdOf(cases()[name].role)).filter((s) =>
      [s.Action].flat().includes('lambda:InvokeFunction'),
    );
    expect(JSON.stringify(invoke)).toContain(`"${logicalIdOf(cases()[fn])}"`);
    expect(invoke).toHaveLength(1);
  });
});

describe('outputs', () => {
  it('name the catalogue table and the assessments bucket', () => {
    expect(template.Outputs?.CatalogueTableName?.Value).toEqual({ Ref: logicalIdOf(cases().catalogueTable) });
    expect(template.Outputs?.AssessmentsBucketName?.Value).toEqual({
      Ref: logicalIdOf(cases().assessmentsBucket),
    });
  });
});

describe('the holiday calendar context', () => {
  const context = { ...cdkJsonContext(), ...NO_BUNDLING, 'zwfw:stage': 'dev' };

  it('defaults to weekends only', () => {
    const hub = synthHub({ ...NO_BUNDLING, 'zwfw:stage': 'dev' });
    try {
      const fn = hub.privateCloud.caseAggregation.sweepFunction;
      const variables = propertyAt<Record<string, unknown>>(
        hub.template('zwfw-dev-private').Resources[logicalIdOf(fn)],
        'Environment.Variables',
      );
      expect(variables?.HOLIDAY_CALENDAR).toBe('{"holidays":[],"workdays":[]}');
    } finally {
      hub.cleanUp();
    }
  });

  it('accepts the calendar as an object too (cdk.json)', () => {
    const { config } = createHubApp({ context: { ...context, 'zwfw:holidayCalendar': CALENDAR } });
    expect(JSON.parse(config.holidayCalendar)).toEqual(CALENDAR);
  });

  it.each([
    ['not JSON', '{holidays:', /not JSON/],
    ['an unknown member', JSON.stringify({ holidays: [], vacations: [] }), /vacations/],
    ['an impossible date', JSON.stringify({ holidays: ['2026-02-30'] }), /calendar date/],
    ['a weekday as make-up day', JSON.stringify({ workdays: ['2026-09-28'] }), /Saturday or a Sunday/],
    [
      'a day in both lists',
      JSON.stringify({ holidays: ['2026-09-27'], workdays: ['2026-09-27'] }),
      /both a holiday/,
    ],
  ])('refuses %s before building anything', (_name, value, message) => {
    const build = () => createHubApp({ context: { ...context, 'zwfw:holidayCalendar': value } });
    expect(build).toThrow(/Invalid zwfw context/);
    expect(build).toThrow(message);
  });
});

describe('counting evaluation events', () => {
  it('subscribes its own queue to the evaluation events on the private bus, and only that rule may send', () => {
    const rule = resourceOf(cases().evaluationEventsRule);
    expect(propertyAt(rule, 'EventPattern')).toEqual({
      source: ['zwfw.evaluation-ingest'],
      'detail-type': ['EvaluationReceived', 'BadReviewOpened', 'RectificationTransitioned'],
    });
    const queueId = logicalIdOf(cases().evaluationEvents.queue);
    const targets = propertyAt<{ Arn: unknown; DeadLetterConfig?: unknown }[]>(rule, 'Targets') ?? [];
    expect(targets.map((t) => referencedLogicalId(t.Arn))).toEqual([queueId]);
    expect(targets[0]?.DeadLetterConfig).toBeDefined();
    const denies = resourcesOfType(template, 'AWS::SQS::QueuePolicy')
      .flatMap(
        ([, policy]) =>
          propertyAt<{ Sid?: string; Effect: string }[]>(policy, 'PolicyDocument.Statement') ?? [],
      )
      .filter((statement) => statement.Sid === 'OnlyTheEvaluationEventsRuleSends');
    expect(denies).toHaveLength(1);
    expect(denies[0]?.Effect).toBe('Deny');
  });

  it('runs the counting consumer on the stats table alone', () => {
    const fn = cases().evaluationEventsFunction;
    expect(variablesOf(fn)).toMatchObject({ STATS_SHARDS: '8' });
    expect(Object.keys(variablesOf(fn))).toContain('STATS_TABLE');
    expect(Object.keys(variablesOf(fn))).not.toContain('CASES_TABLE');
  });
});
