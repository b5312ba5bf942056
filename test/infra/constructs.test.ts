import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { IdentitySource, RequestAuthorizer } from 'aws-cdk-lib/aws-apigateway';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { stageConfig } from '../../infra/config';
import { HubFunction } from '../../infra/constructs/hub-function';
import { HubRestApi, pathParameters } from '../../infra/constructs/hub-rest-api';
import { HUB_TIMEZONE, HubSchedule } from '../../infra/constructs/hub-schedule';
import { PlatformCore } from '../../infra/constructs/platform-core';
import { visibilityTimeoutFor } from '../../infra/constructs/sqs-consumer';
import { GATEWAY_PROBLEMS } from '../../infra/gateway-responses';
import { CLIENT_KIND_TAG, RATE_LIMITS } from '../../infra/rate-limits';
import { CLIENT_KINDS } from '../../shared/client-registry';
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
    vpcEndpoint: platform.network.executeApiEndpoint,
    alarmTopic: platform.alarmTopic,
    description: 'test',
  });
  const authorizerFunction = new HubFunction(stack, 'Gatekeeper', {
    platform,
    entry: 'test/infra/fixtures/noop-handler.ts',
    serviceName: 'test',
    description: 'authorizer',
  });
  api.useClientAuthorizer(
    new RequestAuthorizer(stack, 'ClientAuthorizer', {
      handler: authorizerFunction,
      identitySources: [IdentitySource.header('X-Hub-Key')],
    }),
  );
  api.addRoute('GET', '/v1/things/{thingId}', rollup);
  api.addRoute('GET', '/.well-known/things.json', rollup, { public: true });
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
  const methods = () => resourcesOfType(template, 'AWS::ApiGateway::Method').map(([, method]) => method);
  const methodWithParameter = () =>
    methods().find(
      (m) => 'method.request.path.thingId' in (propertyAt<object>(m, 'RequestParameters') ?? {}),
    );
  const publicMethod = () => methods().find((m) => methodWithParameter() !== m);

  it('requires path parameters and validates them at the gateway', () => {
    const method = methodWithParameter();
    expect(propertyAt(method, 'RequestParameters')).toEqual({ 'method.request.path.thingId': true });
    expect(propertyAt(method, 'RequestValidatorId')).toBeDefined();
  });

  it('guards routes with the client authorizer and meters them by the API key it names', () => {
    const method = methodWithParameter();
    const authorizerId = referencedLogicalId(propertyAt(method, 'AuthorizerId')) ?? '';
    expect(template.Resources[authorizerId]?.Type).toBe('AWS::ApiGateway::Authorizer');
    expect(propertyAt(method, 'AuthorizationType')).toBe('CUSTOM');
    expect(propertyAt(method, 'ApiKeyRequired')).toBe(true);
    expect(propertyAt(onlyResource(template, 'AWS::ApiGateway::RestApi'), 'ApiKeySourceType')).toBe(
      'AUTHORIZER',
    );
  });

  it('leaves a public route without authorizer and API key', () => {
    const method = publicMethod();
    expect(propertyAt(method, 'AuthorizationType')).toBe('NONE');
    expect(propertyAt(method, 'AuthorizerId')).toBeUndefined();
    expect(propertyAt(method, 'ApiKeyRequired')).not.toBe(true);
  });

  it('refuses a non-public route before it has a client authorizer', () => {
    const stack = new Stack(new App({ context: { ...cdkJsonContext(), ...NO_BUNDLING } }), 'Open');
    const platform = new PlatformCore(stack, 'Platform', { config: stageConfig({ stage: 'dev' }) });
    const fn = new HubFunction(stack, 'Fn', {
      platform,
      entry: 'test/infra/fixtures/noop-handler.ts',
      serviceName: 'test',
      description: 'route',
    });
    const api = new HubRestApi(stack, 'Api', {
      config: platform.config,
      cloud: 'private',
      vpcEndpoint: platform.network.executeApiEndpoint,
      alarmTopic: platform.alarmTopic,
      description: 'x',
    });
    expect(() => api.addRoute('GET', '/v1/open', fn)).toThrow(/no client authorizer/);
    expect(() => api.addRoute('GET', '/v1/public', fn, { public: true })).not.toThrow();
  });

  it('creates one usage plan per client kind with the numbers of infra/rate-limits.ts, on its stage', () => {
    const plans = resourcesOfType(template, 'AWS::ApiGateway::UsagePlan').map(([, plan]) => plan);
    const byKind = Object.fromEntries(
      plans.map((plan) => {
        const tags = propertyAt<{ Key: string; Value: string }[]>(plan, 'Tags') ?? [];
        return [tags.find((tag) => tag.Key === CLIENT_KIND_TAG)?.Value, plan];
      }),
    );
    expect(Object.keys(byKind).sort()).toEqual([...CLIENT_KINDS].sort());
    for (const kind of CLIENT_KINDS) {
      expect(propertyAt(byKind[kind], 'Throttle')).toEqual({
        RateLimit: RATE_LIMITS[kind].rateLimit,
        BurstLimit: RATE_LIMITS[kind].burstLimit,
      });
      expect(propertyAt(byKind[kind], 'UsagePlanName')).toBe(`zwfw-dev-private-${kind}`);
      const stageId = referencedLogicalId(propertyAt(byKind[kind], 'ApiStages.0.Stage'));
      expect(template.Resources[stageId ?? '']?.Type).toBe('AWS::ApiGateway::Stage');
    }
  });

  it('answers its own errors as application/problem+json', () => {
    const responses = resourcesOfType(template, 'AWS::ApiGateway::GatewayResponse').map(([, r]) => r);
    expect(responses.map((response) => propertyAt(response, 'ResponseType')).sort()).toEqual(
      ['DEFAULT_4XX', 'DEFAULT_5XX', ...Object.keys(GATEWAY_PROBLEMS)].sort(),
    );
    for (const response of responses) {
      const headers = propertyAt<Record<string, string>>(response, 'ResponseParameters') ?? {};
      expect(headers['gatewayresponse.header.Content-Type']).toBe("'application/problem+json'");
      const body =
        propertyAt<Record<string, string>>(response, 'ResponseTemplates')?.['application/json'] ?? '';
      const type = propertyAt<string>(response, 'ResponseType') ?? '';
      if (type in GATEWAY_PROBLEMS) {
        const problem = GATEWAY_PROBLEMS[type as keyof typeof GATEWAY_PROBLEMS];
        expect(propertyAt(response, 'StatusCode')).toBe(String(problem.status));
        expect(JSON.parse(body)).toEqual({
          type: `urn:zwfw-hub:problem:${problem.slug}`,
          title: problem.title,
          status: problem.status,
          detail: problem.detail,
        });
      } else {
        // VTL variables stand in for strings at run time.
        const rendered = body.replace(/"?\$context\.error\.\w+"?/g, '"x"');
        expect(JSON.parse(rendered)).toEqual({
          type: 'urn:zwfw-hub:problem:gateway',
          title: 'x',
          detail: 'x',
        });
      }
    }
    const throttled = responses.find((r) => propertyAt(r, 'ResponseType') === 'THROTTLED');
    expect(propertyAt(throttled, 'ResponseParameters')).toMatchObject({
      'gatewayresponse.header.Retry-After': "'1'",
    });
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
