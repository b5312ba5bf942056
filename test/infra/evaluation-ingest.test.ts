import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECTIFICATION_SWEEP_SCHEDULE, RECTIFY_DAYS } from '../../infra/constructs/evaluation-ingest';
import {
  type CfnResource,
  type CfnTemplate,
  deadLetterQueuesWithoutAlarm,
  propertyAt,
  referencedLogicalId,
  resourcesOfType,
} from './policies';
import { logicalIdOf, routesOf, templateQueries } from './queries';
import { NO_BUNDLING, type SynthesisedHub, synthHub } from './synth';

/**
 * Issue 5's wiring of evaluation ingest: tables and indexes, the evaluation and case-events queues, the bus rule
 * feeding the latter, the routes, the rectification sweep's schedule, and what each function may touch.
 * Resources and settings only: esbuild is skipped.
 */
const CALENDAR = { holidays: ['2026-10-01', '2026-10-02'], workdays: ['2026-09-27'] };

let dev: SynthesisedHub;
let template: CfnTemplate;

beforeAll(() => {
  dev = synthHub({ ...NO_BUNDLING, 'zwfw:stage': 'dev', 'zwfw:holidayCalendar': JSON.stringify(CALENDAR) });
  template = dev.template('zwfw-dev-private');
}, 60_000);

afterAll(() => dev?.cleanUp());

const evaluations = () => dev.privateCloud.evaluationIngest;
const { resourceOf, variablesOf, actionsOn } = templateQueries(() => template);
const writes = (actions: string[]) => actions.filter((a) => /Put|Update|Delete|Write/.test(a));
const ref = (construct: Parameters<typeof logicalIdOf>[0]) => ({ Ref: logicalIdOf(construct) });
const RECTIFY_ENV = {
  RECTIFY_VERIFY_DAYS: String(RECTIFY_DAYS.verify),
  RECTIFY_FIX_DAYS: String(RECTIFY_DAYS.fix),
  RECTIFY_REVISIT_DAYS: String(RECTIFY_DAYS.revisit),
  HOLIDAY_CALENDAR: JSON.stringify(CALENDAR),
};

describe('routes', () => {
  it.each([
    ['POST /v1/evaluations:batch', 'apiFunction'],
    ['POST /v1/rectifications/{evaluationId}/transitions', 'rectificationFunction'],
    ['GET /v1/rectifications', 'rectificationFunction'],
  ] as const)('%s runs the %s behind the client authorizer and its usage plan', (route, fn) => {
    const method = routesOf(template).get(route);
    const authorizerId = resourcesOfType(template, 'AWS::ApiGateway::Authorizer')[0]?.[0];
    expect(method?.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', ApiKeyRequired: true });
    expect(referencedLogicalId(propertyAt(method, 'AuthorizerId'))).toBe(authorizerId);
    expect(propertyAt(method, 'Integration.Type')).toBe('AWS_PROXY');
    expect(JSON.stringify(propertyAt(method, 'Integration.Uri'))).toContain(
      `"${logicalIdOf(evaluations()[fn])}"`,
    );
  });

  it('the citizen route is on the public API only (issue 7), run by the public cloud', () => {
    expect(routesOf(template).has('POST /v1/evaluations')).toBe(false);
    const publicRoute = routesOf(dev.template('zwfw-dev-public')).get('POST /v1/evaluations');
    expect(JSON.stringify(propertyAt(publicRoute, 'Integration.Uri'))).toContain(
      `"${logicalIdOf(dev.publicCloud.evaluationSubmission.submitFunction)}"`,
    );
  });
});

describe('tables', () => {
  const indexesOf = (table: CfnResource) =>
    propertyAt<Record<string, unknown>[]>(table, 'GlobalSecondaryIndexes') ?? [];

  it('the evaluations table expires burst counters and has gsi1 with all attributes, under the capability key', () => {
    const table = resourceOf(evaluations().evaluationsTable);
    expect(propertyAt(table, 'TimeToLiveSpecification')).toEqual({
      AttributeName: 'expiresAt',
      Enabled: true,
    });
    expect(indexesOf(table).map((index) => [index.IndexName, index.Projection])).toEqual([
      ['gsi1', { ProjectionType: 'ALL' }],
    ]);
    expect(referencedLogicalId(propertyAt(table, 'SSESpecification.KMSMasterKeyId'))).toBe(
      logicalIdOf(evaluations().key),
    );
  });

  it('the tickets table has gsi1 and the sparse, keys-only due index the sweep queries', () => {
    const table = resourceOf(evaluations().ticketsTable);
    const indexes = indexesOf(table);
    expect(indexes.map((index) => index.IndexName).sort()).toEqual(['due', 'gsi1']);
    expect(indexes.find((index) => index.IndexName === 'due')).toEqual({
      IndexName: 'due',
      KeySchema: [
        { AttributeName: 'duepk', KeyType: 'HASH' },
        { AttributeName: 'duesk', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    });
    expect(propertyAt(table, 'TimeToLiveSpecification')).toBeUndefined();
    expect(referencedLogicalId(propertyAt(table, 'SSESpecification.KMSMasterKeyId'))).toBe(
      logicalIdOf(evaluations().key),
    );
  });
});

describe('case events from the bus', () => {
  const rule = () => resourceOf(evaluations().caseEventsRule);

  it('a rule on the private bus sends CaseStatusChanged of case aggregation to the case-events queue', () => {
    expect(referencedLogicalId(propertyAt(rule(), 'EventBusName'))).toBe(
      logicalIdOf(dev.privateCloud.platform.eventBus),
    );
    expect(propertyAt(rule(), 'EventPattern')).toEqual({
      source: ['zwfw.case-aggregate'],
      'detail-type': ['CaseStatusChanged'],
    });
    expect(propertyAt<unknown[]>(rule(), 'Targets')).toHaveLength(1);
    expect(propertyAt(rule(), 'Targets.0.Arn')).toEqual({
      'Fn::GetAtt': [logicalIdOf(evaluations().caseEvents.queue), 'Arn'],
    });
    // Undeliverable events are parked in an alarmed DLQ of their own, not dropped.
    expect(propertyAt(rule(), 'Targets.0.DeadLetterConfig.Arn')).toEqual({
      'Fn::GetAtt': [logicalIdOf(evaluations().caseEventsDeliveryDlq.queue), 'Arn'],
    });
    expect(deadLetterQueuesWithoutAlarm(template)).toEqual([]);
  });

  it('the queue policies let EventBridge send for this rule only, and the key lets it encrypt', () => {
    const policies = resourcesOfType(template, 'AWS::SQS::QueuePolicy').map(([, policy]) => policy);
    const queueIds = [evaluations().caseEvents.queue, evaluations().caseEventsDeliveryDlq.queue].map(
      logicalIdOf,
    );
    for (const queueId of queueIds) {
      const statements = policies
        .filter((policy) =>
          (propertyAt<unknown[]>(policy, 'Queues') ?? []).some((q) => referencedLogicalId(q) === queueId),
        )
        .flatMap((policy) => propertyAt<Record<string, unknown>[]>(policy, 'PolicyDocument.Statement') ?? []);
      const sendsFromEvents = (effect: string) =>
        statements.filter(
          (statement) =>
            statement.Effect === effect &&
            JSON.stringify(statement.Principal) === '{"Service":"events.amazonaws.com"}' &&
            [statement.Action].flat().includes('sqs:SendMessage'),
        );
      const ruleArn = { 'Fn::GetAtt': [logicalIdOf(evaluations().caseEventsRule), 'Arn'] };
      const allowed = sendsFromEvents('Allow');
      expect(allowed, queueId).not.toEqual([]);
      // Either the allow names the rule, or a deny refuses every other source.
      const confined =
        allowed.every(
          (statement) =>
            JSON.stringify(statement.Condition) ===
            JSON.stringify({ ArnEquals: { 'aws:SourceArn': ruleArn } }),
        ) ||
        sendsFromEvents('Deny').some(
          (statement) =>
            JSON.stringify(statement.Condition) ===
            JSON.stringify({ ArnNotEquals: { 'aws:SourceArn': ruleArn } }),
        );
      expect(confined, queueId).toBe(true);
    }
    const keyStatements =
      propertyAt<Record<string, unknown>[]>(resourceOf(evaluations().key), 'KeyPolicy.Statement') ?? [];
    expect(keyStatements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Condition: { StringEquals: { 'aws:SourceAccount': expect.anything() } },
      }),
    );
  });
});

describe('functions', () => {
  it('consumer: evaluations read and written, tickets written only, its own queue, the bus, the rules', () => {
    const fn = evaluations().consumerFunction;
    const ev = logicalIdOf(evaluations().evaluationsTable);
    const tickets = logicalIdOf(evaluations().ticketsTable);
    expect(variablesOf(fn)).toMatchObject({
      EVALUATIONS_TABLE: { Ref: ev },
      TICKETS_TABLE: { Ref: tickets },
      EVALUATION_QUEUE_URL: ref(evaluations().evaluationQueue),
      EVENT_BUS_NAME: ref(dev.privateCloud.platform.eventBus),
      CASE_WAIT_SECONDS: '86400',
      CASE_RECHECK_SECONDS: '900',
      LATE_EVALUATION_WORKING_DAYS: '5',
      ABUSE_WINDOW_SECONDS: '600',
      ABUSE_BURST_THRESHOLD: '20',
      ...RECTIFY_ENV,
    });
    expect(actionsOn(fn, ev)).toEqual(
      expect.arrayContaining([
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ]),
    );
    const ticketActions = actionsOn(fn, tickets);
    expect(ticketActions).toContain('dynamodb:PutItem');
    expect(ticketActions.filter((a) => /Get|Query|Scan/.test(a))).toEqual([]);
    expect(actionsOn(fn, logicalIdOf(evaluations().evaluationQueue))).toEqual(
      expect.arrayContaining(['sqs:SendMessage']),
    );
    expect(actionsOn(fn, logicalIdOf(dev.privateCloud.platform.eventBus))).toEqual(['events:PutEvents']);
    expect(variablesOf(fn)).not.toHaveProperty('TOKEN_JWKS_URL');
  });

  it('case events: the evaluations table only', () => {
    const fn = evaluations().caseEventsFunction;
    expect(variablesOf(fn)).toMatchObject({ EVALUATIONS_TABLE: ref(evaluations().evaluationsTable) });
    expect(actionsOn(fn, logicalIdOf(evaluations().evaluationsTable))).toContain('dynamodb:UpdateItem');
    expect(actionsOn(fn, logicalIdOf(evaluations().ticketsTable))).toEqual([]);
    expect(actionsOn(fn, logicalIdOf(dev.privateCloud.platform.eventBus))).toEqual([]);
  });

  it('batch API: sends to the evaluation queue, reads the ID HMAC key, touches no table of the capability', () => {
    const fn = evaluations().apiFunction;
    expect(variablesOf(fn)).toMatchObject({
      EVALUATION_QUEUE_URL: ref(evaluations().evaluationQueue),
      HUB_ID_HMAC_SECRET_ID: ref(dev.privateCloud.platform.idHmacSecret),
    });
    expect(actionsOn(fn, logicalIdOf(evaluations().evaluationQueue))).toEqual(
      expect.arrayContaining(['sqs:SendMessage']),
    );
    expect(actionsOn(fn, logicalIdOf(dev.privateCloud.platform.idHmacSecret))).toEqual(
      expect.arrayContaining(['secretsmanager:GetSecretValue']),
    );
    for (const table of [evaluations().evaluationsTable, evaluations().ticketsTable])
      expect(actionsOn(fn, logicalIdOf(table))).toEqual([]);
  });

  it("citizen API (public cloud): verifies tokens with the signing key's public half (KMS alias) and auth verification's issuer, publishes to the public bus, no ID HMAC key", () => {
    const publicCloud = dev.publicCloud;
    const publicTemplate = dev.template('zwfw-dev-public');
    const fn = publicCloud.evaluationSubmission.submitFunction;
    const publicQueries = templateQueries(() => publicTemplate);
    const variables = publicQueries.variablesOf(fn);
    expect(variables).toMatchObject({
      EVENT_BUS_NAME: ref(publicCloud.eventBus),
      TOKEN_ISSUER: 'https://hub.zwfw.local/dev',
    });
    expect(variables).not.toHaveProperty('EVALUATION_QUEUE_URL');
    expect(variables).not.toHaveProperty('HUB_ID_HMAC_SECRET_ID');
    const tokensIssuer = propertyAt<Record<string, unknown>>(
      resourceOf(dev.privateCloud.authVerification.tokensFunction),
      'Environment.Variables',
    )?.TOKEN_ISSUER;
    expect(variables.TOKEN_ISSUER).toBe(tokensIssuer);
    // No call into the private cloud: the key's public half comes from KMS (test/infra/token-keys.test.ts).
    expect(variables).not.toHaveProperty('TOKEN_JWKS_URL');
    expect(JSON.stringify(variables.TOKEN_SIGNING_KEY_ARN)).toContain('alias/zwfw-dev-token-signing');
    expect(publicQueries.actionsOn(fn, logicalIdOf(publicCloud.eventBus))).toEqual(['events:PutEvents']);
  });

  it('citizen evaluations reach the evaluation queue from the private bus, the detail as the message', () => {
    const rule = resourceOf(evaluations().submittedEvaluationsRule);
    expect(propertyAt(rule, 'EventPattern')).toEqual({
      source: ['zwfw.evaluation-ingest'],
      'detail-type': ['EvaluationSubmitted'],
    });
    expect(referencedLogicalId(propertyAt(rule, 'EventBusName'))).toBe(
      logicalIdOf(dev.privateCloud.platform.eventBus),
    );
    expect(referencedLogicalId(propertyAt(rule, 'Targets.0.Arn'))).toBe(
      logicalIdOf(evaluations().evaluationQueue),
    );
    expect(propertyAt(rule, 'Targets.0.InputPath')).toBe('$.detail');
    expect(referencedLogicalId(propertyAt(rule, 'Targets.0.DeadLetterConfig.Arn'))).toBe(
      logicalIdOf(evaluations().submittedEvaluationsDeliveryDlq.queue),
    );
  });

  it('rectification API and sweep: tickets read and written, the bus, the deadlines and the calendar', () => {
    for (const fn of [evaluations().rectificationFunction, evaluations().sweepFunction]) {
      expect(variablesOf(fn)).toMatchObject({
        TICKETS_TABLE: ref(evaluations().ticketsTable),
        EVENT_BUS_NAME: ref(dev.privateCloud.platform.eventBus),
        ...RECTIFY_ENV,
      });
      expect(actionsOn(fn, logicalIdOf(evaluations().ticketsTable))).toEqual(
        expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem']),
      );
      expect(writes(actionsOn(fn, logicalIdOf(evaluations().evaluationsTable)))).toEqual([]);
      expect(actionsOn(fn, logicalIdOf(dev.privateCloud.platform.eventBus))).toEqual(['events:PutEvents']);
    }
    expect(resourceOf(evaluations().sweepFunction).Properties).toMatchObject({ Timeout: 600 });
  });
});

describe('queues', () => {
  it.each([
    ['evaluations', 'consumerFunction'],
    ['caseEvents', 'caseEventsFunction'],
  ] as const)('the %s queue feeds the %s in batches of 50 with partial failures', (queue, fn) => {
    const queueId = logicalIdOf(evaluations()[queue].queue);
    const mapping = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')
      .map(([, m]) => m)
      .find((m) => referencedLogicalId(propertyAt(m, 'EventSourceArn')) === queueId);
    expect(mapping?.Properties).toMatchObject({
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FunctionName: ref(evaluations()[fn]),
    });
    // Six 30 s function timeouts plus the batching window.
    expect(propertyAt(resourceOf(evaluations()[queue].queue), 'VisibilityTimeout')).toBe(181);
  });
});

describe('the rectification sweep schedule', () => {
  it('runs daily at 00:30 Asia/Shanghai with {} , retries and an alarmed DLQ', () => {
    expect(RECTIFICATION_SWEEP_SCHEDULE).toBe('cron(30 0 * * ? *)');
    const schedule = resourceOf(evaluations().sweepSchedule.schedule);
    expect(schedule.Properties).toMatchObject({
      ScheduleExpression: 'cron(30 0 * * ? *)',
      ScheduleExpressionTimezone: 'Asia/Shanghai',
      State: 'ENABLED',
    });
    expect(propertyAt(schedule, 'Target.Input')).toBe('{}');
    expect(referencedLogicalId(propertyAt(schedule, 'Target.Arn'))).toBe(
      logicalIdOf(evaluations().sweepFunction),
    );
    expect(referencedLogicalId(propertyAt(schedule, 'Target.DeadLetterConfig.Arn'))).toBe(
      logicalIdOf(evaluations().sweepSchedule.deadLetterQueue.queue),
    );
    const alarm = resourceOf(evaluations().sweepSchedule.deadLetterQueue.alarm);
    expect(propertyAt(alarm, 'AlarmDescription')).toContain('Runbook: README.md#runbook-rectification-sweep');
  });
});

describe('outputs', () => {
  it('name the tables and the evaluation queue with its DLQ', () => {
    expect(template.Outputs?.EvaluationsTableName?.Value).toEqual(ref(evaluations().evaluationsTable));
    expect(template.Outputs?.TicketsTableName?.Value).toEqual(ref(evaluations().ticketsTable));
    expect(template.Outputs?.EvaluationQueueUrl?.Value).toEqual(ref(evaluations().evaluationQueue));
    expect(template.Outputs?.EvaluationDlqUrl?.Value).toEqual(ref(evaluations().evaluationDeadLetterQueue));
  });
});
