import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KIND_TAG, RATE_LIMITS } from '../../infra/rate-limits';
import { CLIENT_KINDS } from '../../shared/client-registry';
import { type CfnTemplate, onlyResource, propertyAt, referencedLogicalId, resourcesOfType } from './policies';
import { logicalIdOf, routesOf, statementsOfRole } from './queries';
import { NO_BUNDLING, type SynthesisedHub, synthHub } from './synth';

// Resources and settings only: esbuild is skipped.
let dev: SynthesisedHub;
let staging: SynthesisedHub;
let template: CfnTemplate;

beforeAll(() => {
  dev = synthHub({ ...NO_BUNDLING, 'zwfw:stage': 'dev' });
  staging = synthHub({ ...NO_BUNDLING, 'zwfw:stage': 'staging' });
  template = dev.template('zwfw-dev-private');
}, 60_000);

afterAll(() => {
  dev?.cleanUp();
  staging?.cleanUp();
});

const auth = () => dev.privateCloud.authVerification;

describe('the client authorizer', () => {
  it('is a REQUEST authorizer on X-Hub-Key, cached 300 s, run by the authorizer function', () => {
    const authorizer = onlyResource(template, 'AWS::ApiGateway::Authorizer');
    expect(authorizer.Properties).toMatchObject({
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.X-Hub-Key',
      AuthorizerResultTtlInSeconds: 300,
    });
    expect(JSON.stringify(propertyAt(authorizer, 'AuthorizerUri'))).toContain(
      logicalIdOf(auth().authorizerFunction),
    );
  });

  it('guards every route but the JWKS, the case routes included, and meters each by API key', () => {
    const authorizerId = resourcesOfType(template, 'AWS::ApiGateway::Authorizer')[0]?.[0];
    const routes = routesOf(template);
    expect([...routes.keys()]).toEqual(
      expect.arrayContaining([
        'POST /v1/cases:batch',
        'GET /v1/cases/{caseId}',
        'GET /.well-known/jwks.json',
      ]),
    );
    const unguarded: string[] = [];
    for (const [route, method] of routes) {
      const guarded =
        propertyAt(method, 'AuthorizationType') === 'CUSTOM' &&
        referencedLogicalId(propertyAt(method, 'AuthorizerId')) === authorizerId &&
        propertyAt(method, 'ApiKeyRequired') === true;
      if (!guarded) unguarded.push(route);
    }
    expect(unguarded).toEqual(['GET /.well-known/jwks.json']);
    expect(propertyAt(routes.get('GET /.well-known/jwks.json'), 'AuthorizationType')).toBe('NONE');
    expect(propertyAt(onlyResource(template, 'AWS::ApiGateway::RestApi'), 'ApiKeySourceType')).toBe(
      'AUTHORIZER',
    );
  });

  it('reads only the client registry secret', () => {
    const roleId = logicalIdOf(auth().authorizerFunction.serviceRole);
    const actions = statementsOfRole(template, roleId).flatMap((statement) => [statement.Action].flat());
    expect(
      actions.filter((action) => !action.startsWith('logs:') && !action.startsWith('xray:')).sort(),
    ).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
  });
});

describe('usage plans', () => {
  it('equal infra/rate-limits.ts, one per client kind, on the API stage', () => {
    const stageId = resourcesOfType(template, 'AWS::ApiGateway::Stage')[0]?.[0];
    const plans = resourcesOfType(template, 'AWS::ApiGateway::UsagePlan').map(([, plan]) => {
      const tags = propertyAt<{ Key: string; Value: string }[]>(plan, 'Tags') ?? [];
      return {
        kind: tags.find((tag) => tag.Key === CLIENT_KIND_TAG)?.Value,
        throttle: propertyAt(plan, 'Throttle'),
        stage: referencedLogicalId(propertyAt(plan, 'ApiStages.0.Stage')),
      };
    });
    expect(plans.sort((a, b) => String(a.kind).localeCompare(String(b.kind)))).toEqual(
      [...CLIENT_KINDS].sort().map((kind) => ({
        kind,
        throttle: { RateLimit: RATE_LIMITS[kind].rateLimit, BurstLimit: RATE_LIMITS[kind].burstLimit },
        stage: stageId,
      })),
    );
  });
});

describe('the token signing key', () => {
  const signingKeyId = () => logicalIdOf(auth().signingKey);
  const tokensRoleId = () => logicalIdOf(auth().tokensFunction.serviceRole);

  it('is an asymmetric P-256 signing key', () => {
    expect(template.Resources[signingKeyId()]?.Properties).toMatchObject({
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
    });
  });

  it('may be used to sign by the tokens function only', () => {
    const signers = resourcesOfType(template, 'AWS::IAM::Policy').flatMap(([, policy]) =>
      (
        propertyAt<{ Action: string | string[]; Resource: unknown }[]>(policy, 'PolicyDocument.Statement') ??
        []
      )
        .filter((statement) =>
          [statement.Action].flat().some((action) => ['kms:Sign', 'kms:*'].includes(action)),
        )
        .flatMap(() => (propertyAt<unknown[]>(policy, 'Roles') ?? []).map(referencedLogicalId)),
    );
    expect(signers).toEqual([tokensRoleId()]);
    const tokensStatement = resourcesOfType(template, 'AWS::IAM::Policy')
      .flatMap(
        ([, policy]) =>
          propertyAt<{ Action: unknown; Resource: unknown }[]>(policy, 'PolicyDocument.Statement') ?? [],
      )
      .find((statement) => [statement.Action].flat().includes('kms:Sign'));
    expect([tokensStatement?.Action].flat().sort()).toEqual(['kms:GetPublicKey', 'kms:Sign']);
    expect(referencedLogicalId(tokensStatement?.Resource)).toBe(signingKeyId());

    // And the key itself refuses every other principal, whatever IAM policies say.
    const deny = (
      propertyAt<Record<string, unknown>[]>(template.Resources[signingKeyId()], 'KeyPolicy.Statement') ?? []
    ).find((statement) => statement.Effect === 'Deny');
    expect(deny).toMatchObject({ Action: 'kms:Sign', Principal: { AWS: '*' } });
    expect(
      referencedLogicalId(
        (deny?.Condition as Record<string, Record<string, unknown>> | undefined)?.ArnNotEquals?.[
          'aws:PrincipalArn'
        ],
      ),
    ).toBe(tokensRoleId());
  });
});

describe('tables', () => {
  it('expire tickets and revocations in the tokens table, which lists revocations through gsi1', () => {
    const tokens = template.Resources[logicalIdOf(auth().tokensTable)];
    expect(propertyAt(tokens, 'TimeToLiveSpecification')).toEqual({
      AttributeName: 'expiresAt',
      Enabled: true,
    });
    expect(propertyAt(tokens, 'GlobalSecondaryIndexes.0.IndexName')).toBe('gsi1');
    const registry = template.Resources[logicalIdOf(auth().registryTable)];
    expect(propertyAt(registry, 'TimeToLiveSpecification')).toBeUndefined();
  });
});

describe('the dev sign-in route', () => {
  it('exists on the dev stage only', () => {
    expect(routesOf(template).has('POST /v1/dev/sign-in')).toBe(true);
    const stagingRoutes = routesOf(staging.template('zwfw-staging-private'));
    expect(stagingRoutes.has('POST /v1/dev/sign-in')).toBe(false);
    expect(stagingRoutes.has('POST /v1/tokens/introspect')).toBe(true);
  });
});
