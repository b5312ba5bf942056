import { Duration } from 'aws-cdk-lib';
import type { CfnTable, ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { HubTable } from './hub-table';
import { acknowledgeNag, nagArnReference } from './nag';
import { repoPath } from './paths';
import type { HubPlatform } from './platform';

/** One place for the runtime and the matching esbuild target, so they never drift apart. */
export const HUB_RUNTIME = Runtime.NODEJS_22_X;
export const HUB_ESBUILD_TARGET = 'node22';
export const METRICS_NAMESPACE = 'zwfw-hub';

// ESM bundles still meet CommonJS dependencies that call require(); the shim gives them one.
const ESM_REQUIRE_SHIM =
  "import { createRequire as __hubCreateRequire } from 'node:module'; const require = __hubCreateRequire(import.meta.url);";

export type TableAccess = 'read' | 'write' | 'readWrite';

export interface HubFunctionProps {
  platform: HubPlatform;
  /** Repository-relative entry file, e.g. `functions/case-aggregate/api.ts`, exporting `handler`. */
  entry: string;
  /** POWERTOOLS_SERVICE_NAME: the capability, e.g. `case-aggregate`. */
  serviceName: string;
  description: string;
  timeout?: Duration;
  memorySize?: number;
  environment?: Record<string, string>;
}

/**
 * A Lambda function with the hub's defaults: Node 22 on ARM64, X-Ray, JSON logs into its own log group
 * with the stage's retention, a role that can write only that log group, and an ESM bundle built by the
 * local esbuild with every dependency (AWS SDK included) inside, so the bundle the local runtime runs is
 * the artifact that deploys.
 */
export class HubFunction extends NodejsFunction {
  readonly timeoutDuration: Duration;
  readonly serviceRole: Role;
  readonly logGroupResource: LogGroup;

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
    super(scope, id, {
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
      bundling: {
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
        externalModules: [],
      },
    });
    this.timeoutDuration = timeout;
    this.serviceRole = serviceRole;
    this.logGroupResource = logGroup;

    logGroup.grantWrite(serviceRole);
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

  private acknowledgeKmsDataKeyWildcards(): void {
    const reason =
      'CDK grants kms:GenerateDataKey*/ReEncrypt* for encrypting writes; the statement is scoped to the one customer-managed key of the data written.';
    acknowledgeNag(this.serviceRole, 'IAM5', reason, 'Action::kms:GenerateDataKey*');
    acknowledgeNag(this.serviceRole, 'IAM5', reason, 'Action::kms:ReEncrypt*');
  }
}

/** Variables every hub function receives (see the project conventions); the local runtime resolves them too. */
function commonEnvironment(platform: HubPlatform, serviceName: string): Record<string, string> {
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
    HUB_ID_HMAC_SECRET_ID: platform.idHmacSecret.secretArn,
    // Stack traces point into the TypeScript sources instead of the minified bundle.
    NODE_OPTIONS: '--enable-source-maps',
  };
}
