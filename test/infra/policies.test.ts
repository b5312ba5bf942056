import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Alarm, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_POLICIES,
  apisReachableOutsideVpcEndpoint,
  apisWithoutServerErrorAlarm,
  apisWithoutWaf,
  type CfnTemplate,
  functionsOutsideVpc,
  functionsWithoutAlarms,
  internetPaths,
} from './policies';

/**
 * The policy checks must catch what they claim to: a stack built with every default they forbid.
 * Plain aws-cdk-lib constructs, none of the hub's helpers.
 */
let template: CfnTemplate;

beforeAll(() => {
  // CDK's own template checks would only repeat some findings on stderr.
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Careless');
  new Queue(stack, 'Orphan');
  const parked = new Queue(stack, 'Parked');
  const fed = new Queue(stack, 'Fed', { deadLetterQueue: { queue: parked, maxReceiveCount: 3 } });
  new Table(stack, 'Plain', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
  const fn = new LambdaFunction(stack, 'Old', {
    runtime: Runtime.NODEJS_20_X,
    code: Code.fromInline('exports.handler = async () => ({})'),
    handler: 'index.handler',
    timeout: Duration.seconds(60),
  });
  fn.addEventSource(new SqsEventSource(fed));
  const role = new Role(stack, 'Greedy', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
  role.addToPolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
  new Key(stack, 'Static');
  new Key(stack, 'Signing', { keySpec: KeySpec.ECC_NIST_P256, keyUsage: KeyUsage.SIGN_VERIFY });
  new EventBus(stack, 'Open');
  new Vpc(stack, 'Wide', { maxAzs: 1 });
  new RestApi(stack, 'Exposed').root.addMethod('GET');
  new Alarm(stack, 'Lost', {
    metric: new Metric({ namespace: 'X', metricName: 'Y' }),
    threshold: 1,
    evaluationPeriods: 1,
    alarmDescription: 'Impact: none. Runbook: README.md#runbook-nowhere',
  });
  template = Template.fromStack(stack).toJSON() as CfnTemplate;
});

const expectFinding = (policy: keyof typeof ALL_POLICIES, logicalIdPrefix: string, text: string) => {
  const findings = ALL_POLICIES[policy](template);
  expect(
    findings.some((finding) => finding.startsWith(logicalIdPrefix) && finding.includes(text)),
    findings.join('\n'),
  ).toBe(true);
};

describe('policy checks on a careless stack', () => {
  it('finds an alarm whose runbook link names no README section', () => {
    expectFinding('runbookLinksWithoutSection', 'Lost', 'README.md#runbook-nowhere, which has no section');
  });

  it('find the queue without a DLQ, and only that one', () => {
    const findings = ALL_POLICIES.queuesWithoutDeadLetterQueue(template);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatch(/^Orphan/);
  });
  it('find the DLQ nobody watches', () => expectFinding('deadLetterQueuesWithoutAlarm', 'Parked', 'alarm'));
  it('find queues without a customer-managed key', () =>
    expectFinding('queuesWithoutCustomerManagedKey', 'Fed', 'key'));
  it('find a table without PITR', () =>
    expectFinding('tablesWithoutPitrAndCustomerManagedKey', 'Plain', 'point-in-time'));
  it('find a table without a CMK', () =>
    expectFinding('tablesWithoutPitrAndCustomerManagedKey', 'Plain', 'customer-managed'));
  it('find a function without its log group', () =>
    expectFinding('functionsWithoutHubDefaults', 'Old', 'log group'));
  it('find an old runtime', () => expectFinding('functionsWithoutHubDefaults', 'Old', 'nodejs20.x'));
  it('find a function without tracing', () => expectFinding('functionsWithoutHubDefaults', 'Old', 'tracing'));
  it('find a visibility timeout shorter than six function timeouts', () =>
    expectFinding('consumersWithUnsafeQueueSettings', 'OldSqsEventSource', 'visibility 30s'));
  it('find a consumer without partial batch failures', () =>
    expectFinding('consumersWithUnsafeQueueSettings', 'OldSqsEventSource', 'partial batch'));
  it("find an action on Resource '*' outside the allow-list", () =>
    expectFinding('wildcardResourceStatements', 'GreedyDefaultPolicy', "s3:GetObject on Resource '*'"));
  it('find a bus without a customer-managed key', () =>
    expectFinding('storesWithoutCustomerManagedKey', 'Open', 'AWS::Events::EventBus'));
  it('find a key that never rotates', () => expectFinding('keysWithoutRotation', 'Static', 'rotation'));
  it('leave asymmetric keys alone: KMS cannot rotate them', () => {
    expect(ALL_POLICIES.keysWithoutRotation(template).filter((f) => f.startsWith('Signing'))).toEqual([]);
  });
});

describe('cloud isolation checks on a careless stack', () => {
  it('find the internet gateway, the NAT and the default routes of a default VPC', () => {
    const findings = internetPaths(template).join('\n');
    expect(findings).toMatch(/AWS::EC2::InternetGateway/);
    expect(findings).toMatch(/AWS::EC2::NatGateway/);
    expect(findings).toMatch(/default route/);
  });
  it('find a function outside any VPC', () => expect(functionsOutsideVpc(template).join()).toMatch(/^Old/));
  it('find a function without error and throttle alarms', () => {
    expect(functionsWithoutAlarms(template).filter((f) => f.startsWith('Old'))).toHaveLength(2);
  });
  it('find an API that is not PRIVATE, has no VPC-endpoint policy, no WAF and no 5xx alarm', () => {
    expect(apisReachableOutsideVpcEndpoint(template).join('\n')).toMatch(/not PRIVATE[\s\S]*VPC endpoint/);
    expect(apisWithoutWaf(template).join()).toMatch(/without a WAF/);
    expect(apisWithoutServerErrorAlarm(template).join()).toMatch(/^Exposed/);
  });
});
