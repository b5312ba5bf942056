import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { stageConfig } from '../../infra/config';
import { HubFunction } from '../../infra/constructs/hub-function';
import { HubRestApi, pathParameters } from '../../infra/constructs/hub-rest-api';
import { HUB_TIMEZONE, HubSchedule } from '../../infra/constructs/hub-schedule';
import { PlatformCore } from '../../infra/constructs/platform-core';
import { visibilityTimeoutFor } from '../../infra/constructs/sqs-consumer';
import {
  ALL_POLICIES,
  type CfnTemplate,
  onlyResource,
  propertyAt,
  referencedLogicalId,
  resourcesOfType,
} from './policies';
import { cdkJsonContext, NO_BUNDLING } from './synth';

// The helpers the app does not use yet (a schedule, a parameterised route), on a stack of their own.
let app: App;
let template: CfnTemplate;

beforeAll(() => {
  app = new App({ context: { ...cdkJsonContext(), ...NO_BUNDLING } });
  const stack = new Stack(app, 'Helpers');
  const platform = new PlatformCore(stack, 'Platform', { config: stageConfig({ stage: 'dev' }) });
  const rollup = new HubFunction(stack, 'Rollup', {
    platform,
    entry: 'test/infra/fixtures/noop-handler.ts',
    serviceName: 'test',
    description: 'schedule target',
    timeout: Duration.seconds(60),
  });
  new HubSchedule(stack, 'DailyRollup', {
    config: platform.config,
    encryptionKey: platform.key,
    alarmTopic: platform.alarmTopic,
    purpose: 'daily-rollup',
    impact: 'Yesterday was not rolled up: assessment figures stay a day behind.',
    expression: 'cron(0 1 * * ? *)',
    target: rollup,
    input: { kind: 'daily' },
  });
  const api = new HubRestApi(stack, 'Api', {
    config: platform.config,
    cloud: 'private',
    description: 'test',
  });
  api.addRoute('GET', '/v1/things/{thingId}', rollup);
  template = Template.fromStack(stack).toJSON() as CfnTemplate;
});

describe('HubSchedule', () => {
  it('fires in China Standard Time with retries and a dead-letter queue', () => {
    const schedule = onlyResource(template, 'AWS::Scheduler::Schedule');
    expect(HUB_TIMEZONE).toBe('Asia/Shanghai');
    expect(schedule.Properties).toMatchObject({
      ScheduleExpression: 'cron(0 1 * * ? *)',
      ScheduleExpressionTimezone: 'Asia/Shanghai',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Input: '{"kind":"daily"}',
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      },
    });
    const dlqId = referencedLogicalId(propertyAt(schedule, 'Target.DeadLetterConfig.Arn')) ?? '';
    expect(template.Resources[dlqId]?.Type).toBe('AWS::SQS::Queue');
    const roleId = referencedLogicalId(propertyAt(schedule, 'Target.RoleArn')) ?? '';
    expect(
      propertyAt(template.Resources[roleId], 'AssumeRolePolicyDocument.Statement.0.Principal.Service'),
    ).toBe('scheduler.amazonaws.com');
  });
});

describe('HubRestApi', () => {
  it('requires path parameters and validates them at the gateway', () => {
    const method = onlyResource(template, 'AWS::ApiGateway::Method');
    expect(propertyAt(method, 'RequestParameters')).toEqual({ 'method.request.path.thingId': true });
    expect(propertyAt(method, 'RequestValidatorId')).toBeDefined();
  });

  it('answers its own errors as application/problem+json', () => {
    const responses = resourcesOfType(template, 'AWS::ApiGateway::GatewayResponse').map(([, r]) => r);
    expect(responses.map((response) => propertyAt(response, 'ResponseType')).sort()).toEqual([
      'DEFAULT_4XX',
      'DEFAULT_5XX',
    ]);
    for (const response of responses) {
      const headers = propertyAt<Record<string, string>>(response, 'ResponseParameters') ?? {};
      expect(headers['gatewayresponse.header.Content-Type']).toBe("'application/problem+json'");
      const body =
        propertyAt<Record<string, string>>(response, 'ResponseTemplates')?.['application/json'] ?? '';
      // VTL variables stand in for strings at run time.
      const rendered = body.replace(/"?\$context\.error\.\w+"?/g, '"x"');
      expect(JSON.parse(rendered)).toEqual({ type: 'urn:zwfw-hub:problem:gateway', title: 'x', detail: 'x' });
    }
  });

  it('never logs request bodies and keeps access logs', () => {
    const stage = onlyResource(template, 'AWS::ApiGateway::Stage');
    expect(propertyAt(stage, 'MethodSettings.0')).toMatchObject({
      DataTraceEnabled: false,
      LoggingLevel: 'ERROR',
    });
    expect(propertyAt(stage, 'AccessLogSetting.DestinationArn')).toBeDefined();
    expect(propertyAt(stage, 'TracingEnabled')).toBe(true);
  });

  it('reads parameter names from a resource path', () => {
    expect(pathParameters('/v1/cases/{caseId}')).toEqual(['caseId']);
    expect(pathParameters('/v1/cases:batch')).toEqual([]);
    expect(pathParameters('/files/{bucket}/{key+}')).toEqual(['bucket', 'key']);
  });
});

describe('helper stack as a whole', () => {
  it.each(Object.entries(ALL_POLICIES))('%s: none', (_name, policy) => {
    expect(policy(template)).toEqual([]);
  });

  it('passes cdk-nag AwsSolutions with the helpers own acknowledgements', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
  });
});

describe('visibilityTimeoutFor', () => {
  it('is six function timeouts plus the batching window', () => {
    expect(visibilityTimeoutFor(Duration.seconds(30), Duration.seconds(1)).toSeconds()).toBe(181);
    expect(visibilityTimeoutFor(Duration.minutes(1), Duration.seconds(0)).toSeconds()).toBe(360);
  });
});
