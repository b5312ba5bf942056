import { ArnFormat, Stack } from 'aws-cdk-lib';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { CfnLoggingConfiguration, CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { PROBLEM_TYPE_PREFIX } from '../../shared/problem';
import type { StageConfig } from '../config';

/** AWS managed rule groups in front of the public API, in evaluation order. */
export const MANAGED_RULE_GROUPS = [
  // Addresses AWS threat intelligence has seen in bot nets and reconnaissance.
  'AWSManagedRulesAmazonIpReputationList',
  // OWASP-style generic protections (bad bodies, traversal, oversize).
  'AWSManagedRulesCommonRuleSet',
  // Request patterns known to exploit common software (Log4j, …).
  'AWSManagedRulesKnownBadInputsRuleSet',
] as const;

export const RATE_RULE_NAME = 'RequestsPerIp';
const RATE_LIMITED_BODY_KEY = 'tooManyRequests';

export interface EdgeFirewallProps {
  config: StageConfig;
  /** ARN of the API Gateway stage the web ACL protects. */
  stageArn: string;
}

/**
 * WAFv2 in front of the public (internet-facing) REST API: AWS managed rule groups and a rate-based rule per client
 * IP. The rate rule is what stops someone who knows a client's access key id (not a secret) from spending that
 * client's usage-plan budget with unsigned requests (README, "Rate limits"). Requests it blocks get the hub's
 * problem document with 429. WAF logs go to CloudWatch with the Authorization header redacted (bearer tokens).
 */
export class EdgeFirewall extends Construct {
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: EdgeFirewallProps) {
    super(scope, id);
    const { config } = props;
    const name = `zwfw-${config.stage}-public`;
    const visibility = (metricName: string): CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });
    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      name,
      description: 'zwfw-hub public API: AWS managed rule groups and a per-IP rate limit',
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(name),
      customResponseBodies: {
        [RATE_LIMITED_BODY_KEY]: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify({
            type: `${PROBLEM_TYPE_PREFIX}too-many-requests`,
            title: 'Too many requests',
            status: 429,
            detail: 'Too many requests from this address; slow down and retry later.',
          }),
        },
      },
      rules: [
        ...MANAGED_RULE_GROUPS.map(
          (group, priority): CfnWebACL.RuleProperty => ({
            name: group,
            priority,
            overrideAction: { none: {} },
            statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: group } },
            visibilityConfig: visibility(group),
          }),
        ),
        {
          name: RATE_RULE_NAME,
          priority: MANAGED_RULE_GROUPS.length,
          action: {
            block: {
              customResponse: {
                responseCode: 429,
                customResponseBodyKey: RATE_LIMITED_BODY_KEY,
                responseHeaders: [{ name: 'Retry-After', value: '60' }],
              },
            },
          },
          statement: {
            rateBasedStatement: { limit: config.wafRequestsPerIpPer5Minutes, aggregateKeyType: 'IP' },
          },
          visibilityConfig: visibility(RATE_RULE_NAME),
        },
      ],
    });
    new CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
    this.logTo(name, config);
  }

  /** WAF writes only to log groups whose name starts with `aws-waf-logs-`, named by an ARN without `:*`. */
  private logTo(name: string, config: StageConfig): void {
    const logGroupName = `aws-waf-logs-${name}`;
    const logGroup = new LogGroup(this, 'Logs', {
      logGroupName,
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    const logging = new CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      logDestinationConfigs: [
        Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      // Bearer tokens are credentials; the HMAC signature headers are single-use and harmless.
      redactedFields: [{ singleHeader: { Name: 'authorization' } }],
    });
    logging.node.addDependency(logGroup);
  }
}
