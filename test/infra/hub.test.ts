import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicToPrivateEventPattern } from '../../infra/cross-cloud';
import {
  ALL_POLICIES,
  type CfnResource,
  type CfnTemplate,
  deadLetterQueueIds,
  deployTimeFunctionIds,
  onlyResource,
  propertyAt,
  referencedLogicalId,
  resourcesOfType,
} from './policies';
import { type SynthesisedHub, synthHub } from './synth';

// One real synthesis (esbuild bundles included) of the dev stage for the whole file.
let hub: SynthesisedHub;
let templates: Record<'private' | 'public', CfnTemplate>;

beforeAll(() => {
  hub = synthHub({ 'zwfw:stage': 'dev' });
  templates = { private: hub.template('zwfw-dev-private'), public: hub.template('zwfw-dev-public') };
}, 120_000);

afterAll(() => hub?.cleanUp());

describe.each(['private', 'public'] as const)('%s cloud policies', (cloud) => {
  it.each(Object.entries(ALL_POLICIES))('%s: none', (_name, policy) => {
    expect(policy(templates[cloud])).toEqual([]);
  });
});

describe('what the policies are checking', () => {
  // Guards against policies passing because the resources they check went missing.
  // At least: capabilities landing in parallel (licence retrieval, …) add their own; these are the ones counted here.
  it('the private cloud has the case aggregation, auth verification and evaluation ingest slices', () => {
    const count = (type: string) => resourcesOfType(templates.private, type).length;
    const expectAtLeast = (type: string, minimum: number) =>
      expect(count(type)).toBeGreaterThanOrEqual(minimum);
    // Case aggregation: ingest queue and its DLQ, one DLQ per schedule (overdue sweep, daily rollup), the
    // evaluation-counting queue with its DLQ and its rule's delivery DLQ.
    // Evaluation ingest: evaluation and case-events queues with their DLQs, the rule's delivery DLQ, the
    // rectification sweep's DLQ.
    // Plus the delivery DLQ of citizens' evaluations arriving from the public cloud.
    expectAtLeast('AWS::SQS::Queue', 14);
    expectAtLeast('AWS::DynamoDB::Table', 9);
    expectAtLeast('AWS::Lambda::Function', 16);
    expectAtLeast('AWS::Scheduler::Schedule', 3);
    // CaseStatusChanged to evaluation ingest; evaluation events to case aggregation; submitted evaluations.
    expectAtLeast('AWS::Events::Rule', 3);
    // The assessments bucket and its access-log bucket.
    expectAtLeast('AWS::S3::Bucket', 2);
    expect(count('AWS::ApiGateway::Authorizer')).toBe(1);
    expect(count('AWS::ApiGateway::UsagePlan')).toBe(4);
    expectAtLeast('AWS::Lambda::EventSourceMapping', 4);
    // One per DLQ, two per function (errors, throttles), one for the API's 5xx.
    const dlqs = deadLetterQueueIds(templates.private).size;
    expect(count('AWS::CloudWatch::Alarm')).toBe(dlqs + 2 * count('AWS::Lambda::Function') + 1);
    expect(count('AWS::EC2::VPC')).toBe(1);
  });

  it('the public cloud forwards events through a rule with a dead-letter queue', () => {
    expect(resourcesOfType(templates.public, 'AWS::Events::Rule')).toHaveLength(1);
    expect(resourcesOfType(templates.public, 'AWS::SQS::Queue')).toHaveLength(1);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no finding that is not acknowledged', () => {
    const report = new AwsSolutionsChecks().validateScope(hub.app);
    const findings = report.violations.map(
      (violation) =>
        `${violation.ruleName}: ${violation.violatingResources.map((resource) => resource.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
  });
});

describe('private cloud wiring', () => {
  const template = () => templates.private;

  it('publishes the outputs the local runtime writes too', () => {
    expect(Object.keys(template().Outputs ?? {}).sort()).toEqual(
      expect.arrayContaining([
        'ApiUrl',
        'AssessmentsBucketName',
        'CaseDlqUrl',
        'CaseQueueUrl',
        'CasesTableName',
        'CatalogueTableName',
        'EvaluationDlqUrl',
        'EvaluationQueueUrl',
        'EvaluationsTableName',
        'EventBusName',
        'IdempotencyTableName',
        'NoncesTableName',
        'RegistryTableName',
        'StatsTableName',
        'TicketsTableName',
        'TokensTableName',
      ]),
    );
  });

  it('routes every endpoint to its function through Lambda proxy integrations', () => {
    const resources = Object.fromEntries(resourcesOfType(template(), 'AWS::ApiGateway::Resource'));
    const fullPath = (resourceId: string | undefined): string => {
      const resource = resourceId ? resources[resourceId] : undefined;
      if (!resource) return '';
      const parent = referencedLogicalId(resource.Properties?.ParentId);
      return `${fullPath(parent)}/${resource.Properties?.PathPart}`;
    };
    const functionOf = (method: CfnResource) =>
      /"(CaseAggregation(?:Api|Items|Stats)Function|AuthVerificationTokensFunction|AuthVerificationIdentityFunction|EvaluationIngest(?:Api|Submit|Rectification)Function)/.exec(
        JSON.stringify(propertyAt(method, 'Integration.Uri')),
      )?.[1];
    const routes = resourcesOfType(template(), 'AWS::ApiGateway::Method').map(([, method]) => ({
      route: `${propertyAt(method, 'HttpMethod')} ${fullPath(referencedLogicalId(propertyAt(method, 'ResourceId')))}`,
      proxy: propertyAt(method, 'Integration.Type'),
      fn: functionOf(method),
    }));
    const proxyTo = (route: string, fn: string) => ({ route, proxy: 'AWS_PROXY', fn });
    // The citizen route moved to the public cloud (issue 7).
    expect(routes.map((r) => r.route)).not.toContain('POST /v1/evaluations');
    expect(routes.sort((a, b) => a.route.localeCompare(b.route))).toEqual(
      expect.arrayContaining([
        proxyTo('POST /v1/cases:batch', 'CaseAggregationApiFunction'),
        proxyTo('GET /v1/cases/{caseId}', 'CaseAggregationApiFunction'),
        proxyTo('PUT /v1/items/{code}', 'CaseAggregationItemsFunction'),
        proxyTo('GET /v1/items/{code}', 'CaseAggregationItemsFunction'),
        proxyTo('GET /v1/stats', 'CaseAggregationStatsFunction'),
        proxyTo('GET /v1/assessments/{period}', 'CaseAggregationStatsFunction'),
        proxyTo('POST /v1/tickets/validate', 'AuthVerificationTokensFunction'),
        proxyTo('POST /v1/tokens/introspect', 'AuthVerificationTokensFunction'),
        proxyTo('POST /v1/tokens/revoke', 'AuthVerificationTokensFunction'),
        proxyTo('GET /.well-known/jwks.json', 'AuthVerificationTokensFunction'),
        proxyTo('POST /v1/dev/sign-in', 'AuthVerificationTokensFunction'),
        proxyTo('POST /v1/identity/verifications', 'AuthVerificationIdentityFunction'),
        proxyTo('POST /v1/evaluations:batch', 'EvaluationIngestApiFunction'),
        proxyTo(
          'POST /v1/rectifications/{evaluationId}/transitions',
          'EvaluationIngestRectificationFunction',
        ),
        proxyTo('GET /v1/rectifications', 'EvaluationIngestRectificationFunction'),
      ]),
    );
  });

  it('consumes every queue in batches of 50 within 1 s, redriving after 3 receives', () => {
    const mappings = resourcesOfType(template(), 'AWS::Lambda::EventSourceMapping');
    const queues = mappings.map(([, mapping]) => referencedLogicalId(propertyAt(mapping, 'EventSourceArn')));
    // Case ingest, evaluation counting, evaluations, evaluation case events.
    expect(
      queues
        .filter((id) => !id?.startsWith('LicenceRetrieval'))
        .map(
          (id) =>
            /^(CaseAggregationIngest|CaseAggregationEvaluationEvents|EvaluationIngestEvaluations|EvaluationIngestCaseEvents)Queue/.exec(
              id ?? '',
            )?.[1],
        )
        .sort(),
    ).toEqual([
      'CaseAggregationEvaluationEvents',
      'CaseAggregationIngest',
      'EvaluationIngestCaseEvents',
      'EvaluationIngestEvaluations',
    ]);
    // Licence retrieval (issue 2, landing in parallel) sizes its own batches; its tests check them.
    const ours = mappings.filter(
      ([, mapping]) =>
        !referencedLogicalId(propertyAt(mapping, 'EventSourceArn'))?.startsWith('LicenceRetrieval'),
    );
    for (const [, mapping] of ours) {
      expect(mapping.Properties).toMatchObject({
        BatchSize: 50,
        MaximumBatchingWindowInSeconds: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      const queue = template().Resources[referencedLogicalId(propertyAt(mapping, 'EventSourceArn')) ?? ''];
      expect(propertyAt(queue, 'RedrivePolicy.maxReceiveCount')).toBe(3);
    }
  });

  it('gives every function the common environment and its capability variables', () => {
    const functions = resourcesOfType(template(), 'AWS::Lambda::Function').map(
      ([, fn]) => propertyAt<Record<string, unknown>>(fn, 'Environment.Variables') ?? {},
    );
    for (const variables of functions) {
      expect(Object.keys(variables)).toEqual(
        expect.arrayContaining([
          'HUB_STAGE',
          'POWERTOOLS_SERVICE_NAME',
          'POWERTOOLS_METRICS_NAMESPACE',
          'LOG_LEVEL',
          'EVENT_BUS_NAME',
          'NONCES_TABLE',
          'IDEMPOTENCY_TABLE',
          'HUB_CLIENTS_SECRET_ID',
          'HUB_ID_HMAC_SECRET_ID',
        ]),
      );
      expect(variables).toMatchObject({ HUB_STAGE: 'dev', POWERTOOLS_METRICS_NAMESPACE: 'zwfw-hub' });
    }
    const ofService = (service: string) => functions.filter((v) => v.POWERTOOLS_SERVICE_NAME === service);
    // Seven of its own and the snapshot publisher (private → public, infra/constructs/snapshot-publication.ts).
    expect(ofService('case-aggregate')).toHaveLength(8);
    // The API and the consumer share one capability schema; the later functions get what theirs names.
    const caseQueueUsers = ofService('case-aggregate').filter((v) => 'CASE_QUEUE_URL' in v);
    expect(caseQueueUsers).toHaveLength(2);
    for (const variables of caseQueueUsers) {
      expect(Object.keys(variables)).toEqual(
        expect.arrayContaining(['CASES_TABLE', 'STATS_TABLE', 'CASE_QUEUE_URL', 'STATS_SHARDS']),
      );
      expect(variables).toMatchObject({ STATS_SHARDS: '8' });
    }
    for (const variables of ofService('case-aggregate').filter((v) => 'STATS_TABLE' in v)) {
      expect(variables).toMatchObject({ STATS_SHARDS: '8' });
    }
    expect(ofService('auth-verify')).toHaveLength(3);
    const tokens = ofService('auth-verify').filter((v) => 'TOKENS_TABLE' in v);
    expect(tokens).toHaveLength(1);
    expect(Object.keys(tokens[0] ?? {})).toEqual(
      expect.arrayContaining(['REGISTRY_TABLE', 'TOKEN_SIGNING_KEY_ARN', 'TOKEN_ISSUER']),
    );
    expect(tokens[0]).toMatchObject({
      TOKEN_ISSUER: 'https://hub.zwfw.local/dev',
      ACCESS_TOKEN_TTL_SECONDS: '3600',
      TICKET_TTL_SECONDS: '60',
      REVOCATION_REFRESH_MS: '500',
    });
  });

  it('keeps the Powertools idempotency schema and the hub key schema apart', () => {
    const tables = resourcesOfType(template(), 'AWS::DynamoDB::Table').map(([, table]) => table);
    const keyNames = (table: CfnResource) =>
      (propertyAt<{ AttributeName: string }[]>(table, 'KeySchema') ?? [])
        .map((key) => key.AttributeName)
        .join(',');
    const keys = tables.map(keyNames);
    expect(keys.filter((k) => k === 'id')).toHaveLength(1);
    expect(keys.filter((k) => k !== 'id').every((k) => k === 'pk,sk')).toBe(true);
    const idempotency = tables.find((table) => keyNames(table) === 'id');
    expect(propertyAt(idempotency, 'TimeToLiveSpecification')).toEqual({
      AttributeName: 'expiration',
      Enabled: true,
    });
  });

  it('names the hub bus after the stage', () => {
    expect(propertyAt(onlyResource(template(), 'AWS::Events::EventBus'), 'Name')).toBe('zwfw-dev-bus');
    expect(resourcesOfType(template(), 'AWS::Events::Archive')).toHaveLength(1);
  });
});

describe('function bundles', () => {
  it('are ESM files with the require shim, found through aws:asset:path', () => {
    // The dashboard page deployment's handler is CDK's own (Python, deploy-time only): no bundle of ours.
    const functions = [templates.private, templates.public].flatMap((t) =>
      resourcesOfType(t, 'AWS::Lambda::Function').filter(([id]) => !deployTimeFunctionIds(t).has(id)),
    );
    for (const [id, fn] of functions) {
      const assetPath = fn.Metadata?.['aws:asset:path'];
      expect(typeof assetPath, id).toBe('string');
      const bundle = join(hub.outdir, assetPath as string, 'index.mjs');
      expect(existsSync(bundle), bundle).toBe(true);
      expect(readFileSync(bundle, 'utf8').slice(0, 200)).toContain('createRequire');
      expect(existsSync(`${bundle}.map`)).toBe(true);
      expect(propertyAt(fn, 'Handler')).toBe('index.handler');
    }
  });
});

describe('public cloud', () => {
  it('forwards exactly the allow-listed detail types to the private bus', () => {
    const rule = onlyResource(templates.public, 'AWS::Events::Rule');
    expect(propertyAt(rule, 'EventPattern')).toEqual(publicToPrivateEventPattern());
    const target = JSON.stringify(propertyAt(rule, 'Targets.0.Arn'));
    expect(target).toContain(':event-bus/zwfw-dev-bus');
  });

  // S3-managed, not KMS: the contents are published by design (snapshot-publication.ts says why).
  it('keeps snapshots in a versioned, S3-encrypted, non-public, access-logged bucket', () => {
    const snapshots = resourcesOfType(templates.public, 'AWS::S3::Bucket')
      .map(([, bucket]) => bucket)
      .find((bucket) => propertyAt(bucket, 'VersioningConfiguration'));
    expect(propertyAt(snapshots, 'VersioningConfiguration.Status')).toBe('Enabled');
    expect(
      propertyAt(
        snapshots,
        'BucketEncryption.ServerSideEncryptionConfiguration.0.ServerSideEncryptionByDefault.SSEAlgorithm',
      ),
    ).toBe('AES256');
    expect(propertyAt(snapshots, 'PublicAccessBlockConfiguration')).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(propertyAt(snapshots, 'LoggingConfiguration.DestinationBucketName')).toBeDefined();
  });

  it('holds only the signed HTTP stack tables (nonces, idempotency) and the functions of its routes', () => {
    // What they may hold is checked against the personal-data list in clouds.test.ts.
    expect(resourcesOfType(templates.public, 'AWS::DynamoDB::Table')).toHaveLength(2);
    // The authorizer, evaluation submission, token introspection and the published assessments, and the
    // deploy-time handler that puts the dashboard page into the published bucket (public-dashboard.ts).
    expect(resourcesOfType(templates.public, 'AWS::Lambda::Function')).toHaveLength(5);
    expect(deployTimeFunctionIds(templates.public).size).toBe(1);
  });
});
