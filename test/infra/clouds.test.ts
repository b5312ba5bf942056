import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollUp } from '../../functions/case-aggregate/domain/rollup';
import { renderJson, snapshotOf } from '../../functions/case-aggregate/snapshot';
import { MANAGED_RULE_GROUPS } from '../../infra/constructs/edge-firewall';
import { INTERFACE_ENDPOINT_SERVICES } from '../../infra/constructs/private-network';
import { publicToPrivateEventPattern } from '../../infra/cross-cloud';
import { CONTENTS_TAG, PERSONAL_DATA_FIELDS, PUBLIC_STORE_CONTENTS } from '../../infra/personal-data';
import { DAY_CELLS } from '../unit/case-aggregate/rollup-fixtures';
import {
  apisReachableOutsideVpcEndpoint,
  apisWithoutServerErrorAlarm,
  apisWithoutWaf,
  type CfnTemplate,
  functionsOutsideVpc,
  functionsWithoutAlarms,
  internetPaths,
  onlyResource,
  propertyAt,
  resourcesOfType,
  storesHoldingPersonalData,
} from './policies';
import { routesOf } from './queries';
import { NO_BUNDLING, type SynthesisedHub, synthHub } from './synth';

/**
 * Issue 7's acceptance, asked of the synthesised templates of every stage: the private cloud has no way to the
 * internet, runs every function in its VPC and answers only through its VPC endpoint; the public cloud is behind
 * WAF and keeps no personal data at rest; the forwarding rule lets exactly the allow-list through.
 */
const STAGES = ['dev', 'staging', 'prod'] as const;
const hubs: Partial<Record<(typeof STAGES)[number], SynthesisedHub>> = {};
const templates = (stage: (typeof STAGES)[number]) => {
  const hub = hubs[stage];
  if (!hub) throw new Error(`${stage} not synthesised`);
  return { private: hub.template(`zwfw-${stage}-private`), public: hub.template(`zwfw-${stage}-public`) };
};

beforeAll(() => {
  for (const stage of STAGES) hubs[stage] = synthHub({ ...NO_BUNDLING, 'zwfw:stage': stage });
}, 120_000);

afterAll(() => {
  for (const hub of Object.values(hubs)) hub?.cleanUp();
});

describe.each(STAGES)('%s: private cloud', (stage) => {
  const template = () => templates(stage).private;

  it('has no internet gateway, NAT or default route', () => {
    expect(resourcesOfType(template(), 'AWS::EC2::VPC')).toHaveLength(1);
    expect(internetPaths(template())).toEqual([]);
  });

  it('runs every function in the VPC, each with error and throttle alarms', () => {
    expect(resourcesOfType(template(), 'AWS::Lambda::Function').length).toBeGreaterThan(10);
    expect(functionsOutsideVpc(template())).toEqual([]);
    expect(functionsWithoutAlarms(template())).toEqual([]);
  });

  it('serves a PRIVATE API only through its execute-api endpoint, alarmed on 5xx', () => {
    expect(apisReachableOutsideVpcEndpoint(template())).toEqual([]);
    expect(apisWithoutServerErrorAlarm(template())).toEqual([]);
    const api = onlyResource(template(), 'AWS::ApiGateway::RestApi');
    const endpointId = JSON.stringify(propertyAt(api, 'Policy'));
    const executeApi = resourcesOfType(template(), 'AWS::EC2::VPCEndpoint').find(([, endpoint]) =>
      JSON.stringify(propertyAt(endpoint, 'ServiceName')).includes('execute-api'),
    );
    expect(executeApi).toBeDefined();
    expect(endpointId).toContain(`"${executeApi?.[0]}"`);
  });

  it('reaches AWS services through gateway and interface endpoints only', () => {
    const endpoints = resourcesOfType(template(), 'AWS::EC2::VPCEndpoint').map(([, endpoint]) => ({
      type: propertyAt(endpoint, 'VpcEndpointType'),
      service: JSON.stringify(propertyAt(endpoint, 'ServiceName')),
    }));
    const gateway = endpoints.filter((e) => e.type === 'Gateway').map((e) => e.service);
    expect(gateway.some((s) => s.includes('dynamodb'))).toBe(true);
    expect(gateway.some((s) => s.includes('.s3'))).toBe(true);
    const interfaces = endpoints.filter((e) => e.type === 'Interface');
    expect(interfaces).toHaveLength(Object.keys(INTERFACE_ENDPOINT_SERVICES).length);
    for (const name of ['sqs', 'events', 'kms', 'secretsmanager', 'logs', 'xray', 'execute-api']) {
      expect(interfaces.some((e) => e.service.includes(`.${name}"`) || e.service.includes(`.${name}`))).toBe(
        true,
      );
    }
    for (const [, endpoint] of resourcesOfType(template(), 'AWS::EC2::VPCEndpoint')) {
      if (propertyAt(endpoint, 'VpcEndpointType') === 'Interface')
        expect(propertyAt(endpoint, 'PrivateDnsEnabled')).toBe(true);
    }
  });

  it('logs the VPC flows', () => {
    expect(resourcesOfType(template(), 'AWS::EC2::FlowLog')).toHaveLength(1);
  });

  it(`protects tables from deletion ${stage === 'prod' ? 'in production' : 'only in production'}`, () => {
    for (const [, table] of resourcesOfType(template(), 'AWS::DynamoDB::Table')) {
      expect(propertyAt(table, 'DeletionProtectionEnabled')).toBe(stage === 'prod');
    }
  });
});

describe.each(STAGES)('%s: public cloud', (stage) => {
  const template = () => templates(stage).public;

  it('is a REGIONAL API behind WAF (managed rule groups and a per-IP rate rule), alarmed on 5xx', () => {
    const api = onlyResource(template(), 'AWS::ApiGateway::RestApi');
    expect(propertyAt(api, 'EndpointConfiguration.Types')).toEqual(['REGIONAL']);
    expect(apisWithoutWaf(template())).toEqual([]);
    expect(apisWithoutServerErrorAlarm(template())).toEqual([]);
    const acl = onlyResource(template(), 'AWS::WAFv2::WebACL');
    const rules = propertyAt<{ Name: string }[]>(acl, 'Rules') ?? [];
    expect(rules.map((rule) => rule.Name)).toEqual([...MANAGED_RULE_GROUPS, 'RequestsPerIp']);
    expect(resourcesOfType(template(), 'AWS::WAFv2::LoggingConfiguration')).toHaveLength(1);
  });

  it('guards the citizen routes with the signature authorizer and a usage plan per client kind', () => {
    const route = routesOf(template()).get('POST /v1/evaluations');
    expect(route?.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', ApiKeyRequired: true });
    expect(resourcesOfType(template(), 'AWS::ApiGateway::Authorizer')).toHaveLength(1);
    expect(resourcesOfType(template(), 'AWS::ApiGateway::UsagePlan')).toHaveLength(4);
    const stageResource = onlyResource(template(), 'AWS::ApiGateway::Stage');
    expect(propertyAt(stageResource, 'AccessLogSetting.DestinationArn')).toBeDefined();
  });

  it('declares what each store keeps, and none of it is on the personal-data list', () => {
    expect(
      storesHoldingPersonalData(template(), PUBLIC_STORE_CONTENTS, PERSONAL_DATA_FIELDS, CONTENTS_TAG),
    ).toEqual([]);
    expect(resourcesOfType(template(), 'AWS::DynamoDB::Table').length).toBeGreaterThan(0);
  });

  it('runs its functions with alarms, outside any VPC, and forwards exactly the allow-list', () => {
    expect(functionsWithoutAlarms(template())).toEqual([]);
    expect(resourcesOfType(template(), 'AWS::EC2::VPC')).toEqual([]);
    const rule = onlyResource(template(), 'AWS::Events::Rule');
    expect(propertyAt(rule, 'EventPattern')).toEqual(publicToPrivateEventPattern());
  });

  it('does not archive the events that cross (their data rests in the private cloud only)', () => {
    const archive = onlyResource(template(), 'AWS::Events::Archive');
    expect(propertyAt(archive, 'EventPattern')).toMatchObject({
      'detail-type': [{ 'anything-but': publicToPrivateEventPattern()?.['detail-type'] }],
    });
  });
});

describe('the personal-data check', () => {
  it('finds an undeclared store and a declared one that names personal data', () => {
    const careless: CfnTemplate = {
      Resources: {
        Unlabelled: { Type: 'AWS::DynamoDB::Table', Properties: {} },
        Profiles: {
          Type: 'AWS::S3::Bucket',
          Properties: { Tags: [{ Key: CONTENTS_TAG, Value: 'profiles' }] },
        },
      },
    };
    expect(
      storesHoldingPersonalData(
        careless,
        { profiles: ['idNumber', 'level'] },
        PERSONAL_DATA_FIELDS,
        CONTENTS_TAG,
      ),
    ).toEqual([
      'Unlabelled: AWS::DynamoDB::Table without declared contents',
      'Profiles: holds personal data (idNumber)',
    ]);
  });

  it('the snapshots the public bucket receives really hold only the declared fields', () => {
    const snapshot = JSON.parse(
      renderJson(
        snapshotOf({
          period: '2026-11-20',
          periodType: 'day',
          generatedAt: '2026-11-21T01:00:02.000Z',
          coverage: { days: 1, daysInPeriod: 1, firstDay: '2026-11-20', lastDay: '2026-11-20' },
          scopes: rollUp(DAY_CELLS),
        }),
      ),
    );
    const declared = new Set<string>(PUBLIC_STORE_CONTENTS['assessment-snapshots']);
    const topLevel = Object.keys(snapshot);
    const perScope = [...new Set(snapshot.scopes.flatMap((scope: object) => Object.keys(scope)))] as string[];
    expect([...topLevel, ...perScope].filter((field) => !declared.has(field))).toEqual([]);
    const everyKey =
      JSON.stringify(snapshot)
        .match(/"([A-Za-z_]+)":/g)
        ?.map((k) => k.slice(1, -2)) ?? [];
    expect(everyKey.filter((key) => (PERSONAL_DATA_FIELDS as readonly string[]).includes(key))).toEqual([]);
  });
});
