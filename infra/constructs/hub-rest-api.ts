import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  type RequestValidator,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { acknowledgeNag } from './nag';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HubRestApiProps {
  config: StageConfig;
  /** `private` or `public`: part of the API name. */
  cloud: 'private' | 'public';
  description: string;
}

// Errors API Gateway answers itself (unknown route, throttling, oversize body) keep the hub's error
// contract: RFC 9457 problem documents, never the default `{"message": …}`.
// `messageString` is the message already quoted for JSON.
const PROBLEM_BODY =
  '{"type":"urn:zwfw-hub:problem:gateway","title":"$context.error.responseType","detail":$context.error.messageString}';

/**
 * A REST API (Lambda proxy integrations) with access logs, X-Ray, stage throttling, method-level error
 * logging without request bodies (they carry personal data), parameter validation and problem+json
 * gateway errors. `addRoute('POST', '/v1/cases:batch', fn)` creates the nested resources.
 */
export class HubRestApi extends Construct {
  readonly api: RestApi;
  private readonly requestValidator: RequestValidator;
  private readonly integrations = new Map<IFunction, LambdaIntegration>();

  constructor(scope: Construct, id: string, props: HubRestApiProps) {
    super(scope, id);
    const { config } = props;
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    this.api = new RestApi(this, 'Api', {
      restApiName: `zwfw-${config.stage}-${props.cloud}-api`,
      description: props.description,
      endpointTypes: [EndpointType.REGIONAL],
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
    acknowledgeNag(
      this.api,
      'APIG3',
      'WAF comes with the public API (issue 7); this stage is throttled and every call is HMAC-signed by a registered client.',
    );
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

  /**
   * Routes `method path` to `fn` through a Lambda proxy integration. Path parameters (`{caseId}`) are
   * declared required so API Gateway rejects a request without them before invoking anything.
   */
  addRoute(method: HttpMethod, path: string, fn: IFunction): void {
    const resource = this.api.root.resourceForPath(path);
    const requestParameters = Object.fromEntries(
      pathParameters(path).map((name) => [`method.request.path.${name}`, true]),
    );
    const method_ = resource.addMethod(method, this.integrationFor(fn), {
      // Requests are authenticated by the client signature (DESIGN §3) inside the function; issue 3
      // moves the check into a Lambda authorizer.
      authorizationType: AuthorizationType.NONE,
      requestParameters,
      requestValidator: this.requestValidator,
    });
    const reason =
      'Callers are connected platforms, not Cognito users: each request carries an HMAC-SHA256 client signature checked before any work (DESIGN §3).';
    acknowledgeNag(method_, 'APIG4', reason);
    acknowledgeNag(method_, 'COG4', reason);
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

export function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([^}+]+)\+?\}/g)].map((match) => match[1] as string);
}
