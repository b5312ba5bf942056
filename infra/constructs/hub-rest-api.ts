import { Duration, Tags } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  ApiKeySourceType,
  AuthorizationType,
  EndpointType,
  type IAuthorizer,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  type RequestValidator,
  ResponseType,
  RestApi,
  type UsagePlan,
} from 'aws-cdk-lib/aws-apigateway';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IInterfaceVpcEndpoint } from 'aws-cdk-lib/aws-ec2';
import { AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { CLIENT_KINDS, type ClientKind } from '../../shared/client-registry';
import { PROBLEM_CONTENT_TYPE } from '../../shared/problem';
import type { StageConfig } from '../config';
import { GATEWAY_PROBLEMS, type GatewayResponseType, gatewayProblemBody } from '../gateway-responses';
import { CLIENT_KIND_TAG, RATE_LIMITS } from '../rate-limits';
import { runbookAnchor } from './dead-letter-queue';
import { EdgeFirewall } from './edge-firewall';
import { acknowledgeNag } from './nag';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export const API_5XX_RUNBOOK = 'api-5xx';

interface HubRestApiCommonProps {
  config: StageConfig;
  description: string;
  /** Where the API's 5xx alarm notifies the on-call. */
  alarmTopic: ITopic;
}

/**
 * `private`: a PRIVATE endpoint whose resource policy admits calls only through `vpcEndpoint` (the private cloud's
 * execute-api interface endpoint). `public`: a REGIONAL endpoint behind a WAFv2 web ACL. Either way part of the name.
 */
export type HubRestApiProps = HubRestApiCommonProps &
  ({ cloud: 'private'; vpcEndpoint: IInterfaceVpcEndpoint } | { cloud: 'public' });

// Errors API Gateway answers itself (unknown route, throttling, oversize body) keep the hub's error
// contract: RFC 9457 problem documents, never the default `{"message": …}`.
// `messageString` is the message already quoted for JSON.
const PROBLEM_BODY =
  '{"type":"urn:zwfw-hub:problem:gateway","title":"$context.error.responseType","detail":$context.error.messageString}';

export interface RouteOptions {
  /**
   * `true` only for routes anyone may call without an access key (the JWKS): no authorizer, no usage plan.
   * Every other route gets the client authorizer and is metered under its client's usage plan.
   */
  public?: boolean;
}

/**
 * A REST API (Lambda proxy integrations) with access logs, X-Ray, stage throttling, method-level error
 * logging without request bodies (they carry personal data), parameter validation and problem+json
 * gateway errors. `useClientAuthorizer(authorizer)` guards every route added afterwards with the client
 * authorizer and meters each client under the usage plan of its kind; `addRoute('POST', '/v1/cases:batch', fn)`
 * creates the nested resources, and refuses to add a non-public route before there is an authorizer.
 */
export class HubRestApi extends Construct {
  readonly api: RestApi;
  readonly usagePlans = new Map<ClientKind, UsagePlan>();
  readonly serverErrorAlarm: Alarm;
  /** The public API's WAF; undefined for the private API, which the internet cannot reach. */
  readonly firewall?: EdgeFirewall;
  private readonly config: StageConfig;
  private readonly cloud: HubRestApiProps['cloud'];
  private readonly requestValidator: RequestValidator;
  private readonly integrations = new Map<IFunction, LambdaIntegration>();
  private clientAuthorizer: IAuthorizer | undefined;

  constructor(scope: Construct, id: string, props: HubRestApiProps) {
    super(scope, id);
    const { config } = props;
    this.config = config;
    this.cloud = props.cloud;
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    this.api = new RestApi(this, 'Api', {
      restApiName: `zwfw-${config.stage}-${props.cloud}-api`,
      description: props.description,
      ...(props.cloud === 'private'
        ? {
            endpointConfiguration: { types: [EndpointType.PRIVATE], vpcEndpoints: [props.vpcEndpoint] },
            policy: onlyThroughVpcEndpoint(props.vpcEndpoint),
          }
        : { endpointTypes: [EndpointType.REGIONAL] }),
      // The client authorizer names the caller's API key (usageIdentifierKey): no x-api-key header to leak.
      apiKeySourceType: ApiKeySourceType.AUTHORIZER,
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: config.removalPolicy,
      deployOptions: {
        stageName: config.stage,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        throttlingRateLimit: config.apiThrottle.rateLimit,
        throttlingBurstLimit: config.apiThrottle.burstLimit,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
      },
    });
    // The stack publishes `ApiUrl` itself, under the key the local runtime writes too.
    this.api.node.tryRemoveChild('Endpoint');
    this.requestValidator = this.api.addRequestValidator('RequestValidator', {
      validateRequestParameters: true,
      // Applies only where a route attaches a body model. Ours attach none: the function's zod schema
      // validates bodies and answers 422 with per-record reasons, which a gateway 400 cannot.
      validateRequestBody: true,
    });
    for (const [name, type] of [
      ['Default4xx', ResponseType.DEFAULT_4XX],
      ['Default5xx', ResponseType.DEFAULT_5XX],
    ] as const) {
      this.api.addGatewayResponse(name, {
        type,
        responseHeaders: { 'Content-Type': "'application/problem+json'" },
        templates: { 'application/json': PROBLEM_BODY },
      });
    }
    for (const type of Object.keys(GATEWAY_PROBLEMS) as GatewayResponseType[]) {
      this.addProblemResponse(type);
    }
    if (props.cloud === 'public') {
      this.firewall = new EdgeFirewall(this, 'Firewall', {
        config,
        stageArn: this.api.deploymentStage.stageArn,
      });
    } else {
      acknowledgeNag(
        this.api,
        'APIG3',
        'A PRIVATE API: its resource policy admits only calls through the VPC endpoint on the government extranet, every call is HMAC-signed by a registered client and throttled; WAF guards the internet-facing public API.',
      );
    }
    this.serverErrorAlarm = this.alarmOnServerErrors(props);
    acknowledgeNag(
      this.api,
      'IAM4',
      'API Gateway account-level logging needs its service role; AWS maintains AmazonAPIGatewayPushToCloudWatchLogs for exactly that.',
      'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
    );
  }

  get url(): string {
    return this.api.url;
  }

  private alarmOnServerErrors(props: HubRestApiProps): Alarm {
    const alarm = new Alarm(this, 'ServerErrorAlarm', {
      alarmDescription: `The ${props.cloud} API answered 5xx: callers' requests failed (a function error, timeout or gateway fault) and their platforms retry or give up. Runbook: ${runbookAnchor(API_5XX_RUNBOOK)}`,
      metric: this.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: props.config.alarms.api5xx,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(props.alarmTopic));
    return alarm;
  }

  /**
   * Every route added from now on runs `authorizer` first (the client registry lookup by access key), and one
   * usage plan per client kind (infra/rate-limits.ts) meters the clients on this API's stage. Call it once,
   * before the first non-public route.
   */
  useClientAuthorizer(authorizer: IAuthorizer): void {
    if (this.clientAuthorizer) throw new Error(`${this.node.path} already has a client authorizer`);
    this.clientAuthorizer = authorizer;
    for (const kind of CLIENT_KINDS) this.usagePlans.set(kind, this.addUsagePlanFor(kind));
  }

  /**
   * Routes `method path` to `fn` through a Lambda proxy integration. Path parameters (`{caseId}`) are
   * declared required so API Gateway rejects a request without them before invoking anything.
   */
  addRoute(method: HttpMethod, path: string, fn: IFunction, options: RouteOptions = {}): void {
    const resource = this.api.root.resourceForPath(path);
    const requestParameters = Object.fromEntries(
      pathParameters(path).map((name) => [`method.request.path.${name}`, true]),
    );
    const guard = options.public ? undefined : this.requireClientAuthorizer(method, path);
    const method_ = resource.addMethod(method, this.integrationFor(fn), {
      ...(guard
        ? {
            authorizationType: AuthorizationType.CUSTOM,
            authorizer: guard,
            // The key comes from the authorizer (apiKeySourceType AUTHORIZER): it is what ties the call to a plan.
            apiKeyRequired: true,
          }
        : { authorizationType: AuthorizationType.NONE }),
      requestParameters,
      requestValidator: this.requestValidator,
    });
    if (guard) {
      acknowledgeNag(
        method_,
        'COG4',
        'Callers are connected platforms, not Cognito users: a Lambda authorizer resolves their access key and the function verifies the HMAC-SHA256 signature of every request (DESIGN §3).',
      );
    } else {
      const reason = `${method} ${path} is public by design (e.g. the JWKS that verifies the hub's tokens): it serves no personal data and needs no caller identity.`;
      acknowledgeNag(method_, 'APIG4', reason);
      acknowledgeNag(method_, 'COG4', reason);
    }
  }

  private requireClientAuthorizer(method: HttpMethod, path: string): IAuthorizer {
    if (!this.clientAuthorizer) {
      throw new Error(
        `${method} ${path}: ${this.node.path} has no client authorizer yet; call useClientAuthorizer first or mark the route public`,
      );
    }
    return this.clientAuthorizer;
  }

  /** The plan's numbers come from infra/rate-limits.ts; the tag lets the local gateway find a kind's plan. */
  private addUsagePlanFor(kind: ClientKind): UsagePlan {
    const limits = RATE_LIMITS[kind];
    const plan = this.api.addUsagePlan(`UsagePlan-${kind}`, {
      name: `zwfw-${this.config.stage}-${this.cloud}-${kind}`,
      description: `Clients of kind ${kind}: ${limits.rateLimit} requests/s, bursts of ${limits.burstLimit} (infra/rate-limits.ts)`,
      throttle: { rateLimit: limits.rateLimit, burstLimit: limits.burstLimit },
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    Tags.of(plan).add(CLIENT_KIND_TAG, kind);
    return plan;
  }

  private addProblemResponse(type: GatewayResponseType): void {
    const { status, headers } = GATEWAY_PROBLEMS[type];
    const quoted = (value: string) => `'${value}'`;
    this.api.addGatewayResponse(`Problem${type}`, {
      type: ResponseType.of(type),
      statusCode: String(status),
      responseHeaders: {
        'Content-Type': quoted(PROBLEM_CONTENT_TYPE),
        ...Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, quoted(value)])),
      },
      templates: { 'application/json': gatewayProblemBody(type) },
    });
  }

  private integrationFor(fn: IFunction): LambdaIntegration {
    let integration = this.integrations.get(fn);
    if (!integration) {
      // No test-invoke permission: the console's test button is not a way we operate the hub.
      integration = new LambdaIntegration(fn, { proxy: true, allowTestInvoke: false });
      this.integrations.set(fn, integration);
    }
    return integration;
  }
}

/**
 * The private API's resource policy: invoke only through the given VPC endpoint. The explicit Deny makes sure no
 * later Allow (another statement, a console edit) can open the API to any other path.
 */
export function onlyThroughVpcEndpoint(endpoint: IInterfaceVpcEndpoint): PolicyDocument {
  const invoke = {
    principals: [new AnyPrincipal()],
    actions: ['execute-api:Invoke'],
    resources: ['execute-api:/*'],
  };
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        sid: 'DenyOutsideTheVpcEndpoint',
        effect: Effect.DENY,
        ...invoke,
        conditions: { StringNotEquals: { 'aws:SourceVpce': endpoint.vpcEndpointId } },
      }),
      new PolicyStatement({
        sid: 'AllowThroughTheVpcEndpoint',
        effect: Effect.ALLOW,
        ...invoke,
        conditions: { StringEquals: { 'aws:SourceVpce': endpoint.vpcEndpointId } },
      }),
    ],
  });
}

export function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([^}+]+)\+?\}/g)].map((match) => match[1] as string);
}
