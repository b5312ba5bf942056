import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_FILES } from '../../infra/local/dashboard-site';
import {
  apisWithoutWaf,
  type CfnResource,
  type CfnTemplate,
  deployTimeFunctionIds,
  functionsWithoutAlarms,
  functionsWithoutHubDefaults,
  onlyResource,
  propertyAt,
  referencedLogicalId,
  resourcesOfType,
} from './policies';
import { logicalIdOf, routesOf, statementsOfRole } from './queries';
import { NO_BUNDLING, type SynthesisedHub, synthHub } from './synth';

/**
 * Issue 8: the dashboard served by the PUBLIC cloud (infra/constructs/public-dashboard.ts) — the page files deployed
 * into the published bucket under dashboard/, and the public API reading them and the published snapshots straight
 * from S3 with a role that may only GetObject those two prefixes.
 */
let dev: SynthesisedHub;
beforeAll(() => {
  dev = synthHub({ ...NO_BUNDLING, 'zwfw:stage': 'dev' });
}, 300_000);
afterAll(() => dev?.cleanUp());

const publicTemplate = () => dev.template('zwfw-dev-public');
const dashboard = () => dev.publicCloud.dashboard;
const bucketId = () => logicalIdOf(dev.publicCloud.snapshotsBucket);

/** The S3 object path an API Gateway S3 integration reads (`<bucket ref>/<key>`), as JSON text. */
const integrationUri = (method: CfnResource | undefined) =>
  JSON.stringify(propertyAt(method, 'Integration.Uri'));

describe('the public dashboard routes', () => {
  const routes = () => routesOf(publicTemplate());

  it.each([
    ['GET /dashboard', '/dashboard/index.html', {}],
    [
      'GET /dashboard/{file}',
      '/dashboard/{file}',
      { 'integration.request.path.file': 'method.request.path.file' },
    ],
    [
      'GET /dashboard/snapshots/{key+}',
      '/assessments/{key}',
      { 'integration.request.path.key': 'method.request.path.key' },
    ],
  ])('%s reads %s of the published bucket, unsigned, with the read role', (route, key, mapping) => {
    const method = routes().get(route);
    expect(method, route).toBeDefined();
    expect(propertyAt(method, 'AuthorizationType')).toBe('NONE');
    expect(propertyAt(method, 'Integration.Type')).toBe('AWS');
    expect(propertyAt(method, 'Integration.IntegrationHttpMethod')).toBe('GET');
    const uri = integrationUri(method);
    expect(uri).toContain(':s3:path/');
    expect(uri).toContain(`{"Ref":"${bucketId()}"},"${key}"`);
    expect(referencedLogicalId(propertyAt(method, 'Integration.Credentials'))).toBe(
      logicalIdOf(dashboard().readRole),
    );
    expect(propertyAt(method, 'Integration.RequestParameters') ?? {}).toEqual(mapping);
  });

  it('passes S3’s Content-Type through, and answers a missing object 404 and an S3 failure 502 as problems', () => {
    for (const route of ['GET /dashboard', 'GET /dashboard/{file}', 'GET /dashboard/snapshots/{key+}']) {
      const responses =
        propertyAt<Record<string, unknown>[]>(routes().get(route), 'Integration.IntegrationResponses') ?? [];
      const byStatus = new Map(responses.map((r) => [r.StatusCode, r]));
      expect(byStatus.get('200')?.ResponseParameters).toMatchObject({
        'method.response.header.Content-Type': 'integration.response.header.Content-Type',
      });
      expect(byStatus.get('200')?.SelectionPattern).toBeUndefined();
      const notFound = byStatus.get('404');
      // Without ListBucket, S3 answers a missing key 403: both mean "not published".
      expect(notFound?.SelectionPattern).toBe('403|404');
      expect(notFound?.ResponseParameters).toEqual({
        'method.response.header.Content-Type': "'application/problem+json'",
      });
      const body = JSON.parse(
        (notFound?.ResponseTemplates as Record<string, string> | undefined)?.['application/json'] ?? '',
      );
      expect(body).toMatchObject({ type: 'urn:zwfw-hub:problem:dashboard-file-not-found', status: 404 });
      expect(byStatus.get('502')?.SelectionPattern).toBe('5\\d{2}');
    }
  });

  it('are on the public API, whose stage the WAF guards; the private API has none of them', () => {
    const api = resourcesOfType(publicTemplate(), 'AWS::ApiGateway::RestApi');
    expect(api).toHaveLength(1);
    const [apiId] = api[0] as [string, CfnResource];
    for (const method of dashboard().methods) {
      const resource = publicTemplate().Resources[logicalIdOf(method)];
      expect(referencedLogicalId(propertyAt(resource, 'RestApiId'))).toBe(apiId);
    }
    expect(dashboard().methods).toHaveLength(3);
    // The one stage of that API is associated with the web ACL and its per-IP rate rule.
    expect(apisWithoutWaf(publicTemplate())).toEqual([]);
    const stage = onlyResource(publicTemplate(), 'AWS::ApiGateway::Stage');
    expect(referencedLogicalId(propertyAt(stage, 'RestApiId'))).toBe(apiId);
    const privateRoutes = [...routesOf(dev.template('zwfw-dev-private')).keys()];
    expect(privateRoutes.filter((route) => route.includes('/dashboard'))).toEqual([]);
  });
});

describe('the read role API Gateway uses', () => {
  it('is assumed by API Gateway only and may only GetObject under dashboard/ and assessments/', () => {
    const roleId = logicalIdOf(dashboard().readRole);
    const role = publicTemplate().Resources[roleId];
    expect(propertyAt(role, 'AssumeRolePolicyDocument.Statement')).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'apigateway.amazonaws.com' } },
    ]);
    expect(propertyAt(role, 'ManagedPolicyArns')).toBeUndefined();
    expect(propertyAt(role, 'Policies')).toBeUndefined();
    const statements = statementsOfRole(publicTemplate(), roleId);
    expect(statements).toHaveLength(1);
    const [statement] = statements;
    expect(statement?.Effect).toBe('Allow');
    expect(statement?.Action).toBe('s3:GetObject');
    const resources = [statement?.Resource].flat().map((r) => JSON.stringify(r));
    expect(resources).toHaveLength(2);
    expect(resources.every((r) => r.includes(`"${bucketId()}"`))).toBe(true);
    expect(resources.map((r) => /"\/([a-z]+\/\*)"\]\]\}$/.exec(r)?.[1]).sort()).toEqual([
      'assessments/*',
      'dashboard/*',
    ]);
  });
});

describe('the page deployment', () => {
  const deployments = () => resourcesOfType(publicTemplate(), 'Custom::CDKBucketDeployment');

  it('puts every page file under dashboard/ of the published bucket with its own media type', () => {
    const deployed = new Map<string, string>();
    for (const [, deployment] of deployments()) {
      expect(referencedLogicalId(propertyAt(deployment, 'DestinationBucketName'))).toBe(bucketId());
      expect(propertyAt(deployment, 'DestinationBucketKeyPrefix')).toBe('dashboard/');
      expect(propertyAt(deployment, 'Exclude')).toEqual(['*']);
      const type = propertyAt<string>(deployment, 'SystemMetadata.content-type') ?? '';
      for (const name of propertyAt<string[]>(deployment, 'Include') ?? []) deployed.set(name, type);
    }
    expect(Object.fromEntries(deployed)).toEqual(
      Object.fromEntries(Object.entries(DASHBOARD_FILES).map(([name, { type }]) => [name, type])),
    );
    expect(deployed.get('index.html')).toBe('text/html; charset=utf-8');
    expect(deployed.get('dashboard.js')).toBe('text/javascript; charset=utf-8');
  });

  it('deploys the page as built by buildDashboard, inside the cloud assembly', () => {
    expect(readdirSync(join(dev.outdir, 'dashboard-page')).sort()).toEqual(
      Object.keys(DASHBOARD_FILES).sort(),
    );
  });

  it('runs one deploy-time handler whose role is denied writing under assessments/', () => {
    const handlers = deployTimeFunctionIds(publicTemplate());
    expect(handlers.size).toBe(1);
    const [handlerId] = [...handlers];
    const roleId = referencedLogicalId(propertyAt(publicTemplate().Resources[handlerId ?? ''], 'Role'));
    const denies = statementsOfRole(publicTemplate(), roleId ?? '').filter((s) => s.Effect === 'Deny');
    expect(denies).toHaveLength(1);
    expect([denies[0]?.Action].flat()).toEqual(expect.arrayContaining(['s3:PutObject*', 's3:DeleteObject*']));
    expect(JSON.stringify(denies[0]?.Resource)).toMatch(new RegExp(`"${bucketId()}".*"/assessments/\\*"`));
    // Exempt from the runtime rules, not from having a log group that expires.
    expect(functionsWithoutHubDefaults(publicTemplate())).toEqual([]);
    expect(functionsWithoutAlarms(publicTemplate())).toEqual([]);
  });
});

describe('the deploy-time exemption of the policy checks', () => {
  const template: CfnTemplate = {
    Resources: {
      Logs: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 7 } },
      Deployer: {
        Type: 'AWS::Lambda::Function',
        Properties: { Runtime: 'python3.13', LoggingConfig: { LogGroup: { Ref: 'Logs' } } },
      },
      Page: {
        Type: 'Custom::CDKBucketDeployment',
        Properties: { ServiceToken: { 'Fn::GetAtt': ['Deployer', 'Arn'] } },
      },
      // The same function, invoked by nothing that deploys: held to every rule.
      Lookalike: {
        Type: 'AWS::Lambda::Function',
        Properties: { Runtime: 'python3.13', LoggingConfig: { LogGroup: { Ref: 'Logs' } } },
      },
      // A deployment handler without a log group of its own is still found.
      Unlogged: { Type: 'AWS::Lambda::Function', Properties: { Runtime: 'python3.13' } },
      Other: {
        Type: 'Custom::CDKBucketDeployment',
        Properties: { ServiceToken: { 'Fn::GetAtt': ['Unlogged', 'Arn'] } },
      },
    },
  };

  it('covers only functions a BucketDeployment invokes, and never their log group', () => {
    expect([...deployTimeFunctionIds(template)].sort()).toEqual(['Deployer', 'Unlogged']);
    const defaults = functionsWithoutHubDefaults(template);
    expect(defaults.filter((f) => f.startsWith('Deployer'))).toEqual([]);
    expect(defaults.filter((f) => f.startsWith('Lookalike'))).toEqual([
      'Lookalike: runtime python3.13 older than nodejs22.x',
      'Lookalike: X-Ray tracing not active',
    ]);
    expect(defaults).toContain('Unlogged: no log group of its own');
    const alarms = functionsWithoutAlarms(template);
    expect(alarms.filter((f) => f.startsWith('Deployer'))).toEqual([]);
    expect(alarms.filter((f) => f.startsWith('Lookalike'))).toHaveLength(2);
  });
});
