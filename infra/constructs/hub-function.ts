import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { CfnTable, ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { ManagedPolicy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import {
  type BundlingOptions,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { BuildOptions } from 'esbuild';
import { runbookAnchor } from './dead-letter-queue';
import { HubTable } from './hub-table';
import { acknowledgeNag, nagArnReference } from './nag';
import { repoPath } from './paths';
import type { FunctionPlatform } from './platform';

/** One place for the runtime and the matching esbuild target, so they never drift apart. */
export const HUB_RUNTIME = Runtime.NODEJS_22_X;
export const HUB_ESBUILD_TARGET = 'node22';
export const METRICS_NAMESPACE = 'zwfw-hub';

// ESM bundles still meet CommonJS dependencies that call require(); the shim gives them one.
const ESM_REQUIRE_SHIM =
  "import { createRequire as __hubCreateRequire } from 'node:module'; const require = __hubCreateRequire(import.meta.url);";

/**
 * How every function is bundled: an ESM bundle built by the local esbuild, minified, with a source map and every
 * dependency (AWS SDK included) inside, so the bundle the local runtime runs is the artifact that deploys. The
 * bundle benchmark and the bundle tests build with `hubEsbuildOptions`, derived from this object, never a copy.
 */
export const HUB_BUNDLING = {
  forceDockerBundling: false,
  format: OutputFormat.ESM,
  target: HUB_ESBUILD_TARGET,
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_SHIM,
  minify: true,
  sourceMap: true,
  sourceMapMode: SourceMapMode.DEFAULT,
  sourcesContent: false,
  bundleAwsSDK: true,
  externalModules: [] as string[],
} satisfies BundlingOptions;

/** What CDK leaves out of a bundle when it does not bundle the AWS SDK (its default for Node 18 and later). */
const RUNTIME_PROVIDED_SDK = ['@aws-sdk/*'];

/**
 * The esbuild options CDK derives from HUB_BUNDLING for one entry (aws-lambda-nodejs `Bundling`: `--bundle
 * --platform=node --target --format --outfile --minify --sourcemap --sources-content --external --banner
 * --main-fields`), for code that builds a function's bundle itself. `bundleAwsSDK: false` leaves `@aws-sdk/*` to
 * the runtime, as CDK would.
 */
export function hubEsbuildOptions(
  entry: string,
  outfile: string,
  options: { bundleAwsSDK?: boolean } = {},
): BuildOptions & { entryPoints: string[]; outfile: string } {
  const bundleAwsSDK = options.bundleAwsSDK ?? HUB_BUNDLING.bundleAwsSDK;
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: HUB_BUNDLING.format === OutputFormat.ESM ? 'esm' : 'cjs',
    target: HUB_BUNDLING.target,
    mainFields: [...HUB_BUNDLING.mainFields],
    banner: { js: HUB_BUNDLING.banner },
    minify: HUB_BUNDLING.minify,
    // SourceMapMode.DEFAULT: a separate .map file named in the bundle, as `--sourcemap` does.
    sourcemap: HUB_BUNDLING.sourceMap,
    sourcesContent: HUB_BUNDLING.sourcesContent,
    external: [...HUB_BUNDLING.externalModules, ...(bundleAwsSDK ? [] : RUNTIME_PROVIDED_SDK)],
  };
}

export type TableAccess = 'read' | 'write' | 'readWrite';

export interface HubFunctionProps {
  platform: FunctionPlatform;
  /** Repository-relative entry file, e.g. `functions/case-aggregate/api.ts`, exporting `handler`. */
  entry: string;
  /** POWERTOOLS_SERVICE_NAME: the capability, e.g. `case-aggregate`. */
  serviceName: string;
  description: string;
  timeout?: Duration;
  memorySize?: number;
  environment?: Record<string, string>;
}

/** Runbook sections (README) of the alarms every function gets. */
export const FUNCTION_ERRORS_RUNBOOK = 'function-errors';
export const FUNCTION_THROTTLES_RUNBOOK = 'function-throttles';
const FIVE_MINUTE_SUM = { period: Duration.minutes(5), statistic: 'Sum' } as const;

/**
 * A Lambda function with the hub's defaults: Node 22 on ARM64, X-Ray, JSON logs into its own log group
 * with the stage's retention, a role that can write only that log group, an ESM bundle built by the
 * local esbuild with every dependency (AWS SDK included) inside, so the bundle the local runtime runs is
 * the artifact that deploys, alarms on its errors and throttles, and — when the platform has a network
 * (the private cloud) — a place in its isolated subnets, so no function there can be forgotten outside.
 */
export class HubFunction extends NodejsFunction {
  /** Repository-relative entry file, as given (the bundle benchmark builds each function from it). */
  readonly entry: string;
  readonly timeoutDuration: Duration;
  readonly serviceRole: Role;
  readonly logGroupResource: LogGroup;
  readonly errorsAlarm: Alarm;
  readonly throttlesAlarm: Alarm;

  constructor(scope: Construct, id: string, props: HubFunctionProps) {
    const { config } = props.platform;
    const timeout = props.timeout ?? Duration.seconds(10);
    const serviceRole = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id} (${props.serviceName})`,
    });
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    const network = props.platform.network;
    super(scope, id, {
      ...(network
        ? {
            vpc: network.vpc,
            vpcSubnets: network.functionSubnets,
            securityGroups: [network.functionSecurityGroup],
          }
        : {}),
      entry: repoPath(props.entry),
      handler: 'handler',
      description: props.description,
      runtime: HUB_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout,
      tracing: Tracing.ACTIVE,
      role: serviceRole,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel[config.logLevel],
      systemLogLevelV2: SystemLogLevel.WARN,
      environment: {
        ...commonEnvironment(props.platform, props.serviceName),
        ...props.environment,
      },
      bundling: { ...HUB_BUNDLING, mainFields: [...HUB_BUNDLING.mainFields], externalModules: [] },
    });
    this.entry = props.entry;
    this.timeoutDuration = timeout;
    this.serviceRole = serviceRole;
    this.logGroupResource = logGroup;

    logGroup.grantWrite(serviceRole);
    if (network) {
      // Lambda creates and removes the function's network interfaces in the subnets with this role.
      serviceRole.addManagedPolicy(
        ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'),
      );
      acknowledgeNag(
        serviceRole,
        'IAM4',
        'AWS maintains the exact EC2 network-interface actions Lambda needs to place a function in a VPC; they support no resource-level scoping we could write better.',
        'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole',
      );
    }
    this.errorsAlarm = this.alarmOn('Errors', props, FUNCTION_ERRORS_RUNBOOK);
    this.throttlesAlarm = this.alarmOn('Throttles', props, FUNCTION_THROTTLES_RUNBOOK);
    acknowledgeNag(
      serviceRole,
      'IAM5',
      'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; CDK adds them for active tracing.',
      'Resource::*',
    );
    acknowledgeNag(
      this,
      'L1',
      'Pinned to nodejs22.x on purpose: HUB_RUNTIME and the esbuild target move together, tested, in one change.',
    );
  }

  /** Grants the access and hands the table name to the code in one call. */
  bindTable(table: ITable, envName: string, access: TableAccess): this {
    if (access === 'read') table.grantReadData(this);
    if (access === 'write') table.grantWriteData(this);
    if (access === 'readWrite') table.grantReadWriteData(this);
    this.addEnvironment(envName, table.tableName);
    if (access !== 'read') this.acknowledgeKmsDataKeyWildcards();
    if (table instanceof HubTable && table.hasIndexes) {
      acknowledgeNag(
        this.serviceRole,
        'IAM5',
        `Queries need every index of ${table.node.id}; the wildcard is confined to that table's /index/ path.`,
        `Resource::${nagArnReference(table.node.defaultChild as CfnTable)}/index/*`,
      );
    }
    return this;
  }

  bindQueueSend(queue: IQueue, envName: string): this {
    queue.grantSendMessages(this);
    this.addEnvironment(envName, queue.queueUrl);
    if (queue.encryptionMasterKey) this.acknowledgeKmsDataKeyWildcards();
    return this;
  }

  bindSecretRead(secret: ISecret, envName: string): this {
    secret.grantRead(this);
    this.addEnvironment(envName, secret.secretArn);
    return this;
  }

  bindEventBus(bus: IEventBus, envName = 'EVENT_BUS_NAME'): this {
    bus.grantPutEventsTo(this);
    this.addEnvironment(envName, bus.eventBusName);
    return this;
  }

  private alarmOn(metric: 'Errors' | 'Throttles', props: HubFunctionProps, runbook: string): Alarm {
    const { config } = props.platform;
    const errors = metric === 'Errors';
    const impact = errors
      ? `${this.node.id} (${props.description}) is failing invocations: its callers get 5xx answers, or its queue retries and then parks messages in a DLQ.`
      : `${this.node.id} (${props.description}) is being throttled: requests are refused with 429/5xx or queue messages wait longer.`;
    const alarm = new Alarm(this, `${metric}Alarm`, {
      alarmDescription: `${impact} Runbook: ${runbookAnchor(runbook)}`,
      metric: errors ? this.metricErrors(FIVE_MINUTE_SUM) : this.metricThrottles(FIVE_MINUTE_SUM),
      threshold: errors ? config.alarms.functionErrors : config.alarms.functionThrottles,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(props.platform.alarmTopic));
    return alarm;
  }

  private acknowledgeKmsDataKeyWildcards(): void {
    const reason =
      'CDK grants kms:GenerateDataKey*/ReEncrypt* for encrypting writes; the statement is scoped to the one customer-managed key of the data written.';
    acknowledgeNag(this.serviceRole, 'IAM5', reason, 'Action::kms:GenerateDataKey*');
    acknowledgeNag(this.serviceRole, 'IAM5', reason, 'Action::kms:ReEncrypt*');
  }
}

/** Variables every hub function receives (see the project conventions); the local runtime resolves them too. */
function commonEnvironment(platform: FunctionPlatform, serviceName: string): Record<string, string> {
  const { config } = platform;
  return {
    HUB_STAGE: config.stage,
    POWERTOOLS_SERVICE_NAME: serviceName,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    LOG_LEVEL: config.logLevel,
    EVENT_BUS_NAME: platform.eventBus.eventBusName,
    NONCES_TABLE: platform.noncesTable.tableName,
    IDEMPOTENCY_TABLE: platform.idempotencyTable.tableName,
    HUB_CLIENTS_SECRET_ID: platform.clientsSecret.secretArn,
    ...(platform.idHmacSecret ? { HUB_ID_HMAC_SECRET_ID: platform.idHmacSecret.secretArn } : {}),
    // Stack traces point into the TypeScript sources instead of the minified bundle.
    NODE_OPTIONS: '--enable-source-maps',
  };
}
