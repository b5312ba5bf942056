import { join } from 'node:path';
import { DefaultStackSynthesizer, Stack, Stage, Token } from 'aws-cdk-lib';
import {
  AuthorizationType,
  AwsIntegration,
  type IntegrationResponse,
  type Method,
  type MethodResponse,
  type Resource,
} from 'aws-cdk-lib/aws-apigateway';
import { Effect, type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Bucket, CfnBucket } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from '../../shared/problem';
import type { StageConfig } from '../config';
import { buildDashboard } from '../dashboard/build';
import { DASHBOARD_FILES } from '../local/dashboard-site';
import type { HubRestApi } from './hub-rest-api';
import { acknowledgeNag, nagArnReference } from './nag';
import { PUBLISHED_PREFIX } from './snapshot-publication';

/**
 * The assessment dashboard (动态考评 · 可视化展示) served by the public cloud, the same page the local hub serves at
 * `/dashboard/` (infra/local/dashboard-site.ts): its static files live in the published-snapshots bucket under
 * `dashboard/`, the figures it shows are the published snapshots under `assessments/`, and the public REST API
 * serves both straight from S3 — no function on the read path:
 *
 *   GET /dashboard/                        → dashboard/index.html
 *   GET /dashboard/{file}                  → dashboard/{file}            (script, style, ECharts)
 *   GET /dashboard/snapshots/{key+}        → assessments/{key}           (index.json, <period>.json|csv,
 *                                                                          <period>/items-<province>.json|csv)
 *
 * through API Gateway S3 integrations whose role may only GetObject under those two prefixes. The routes are on
 * the public API's stage, so its WAF (managed rules, per-IP rate limit) and throttling cover them. An object that
 * is not there answers 404 `application/problem+json` (S3 says 403 to a role without ListBucket: both mean "not
 * published"), and an S3 failure 502.
 *
 * Why the page files are deployed by CDK's BucketDeployment: CloudFormation has no S3-object resource, so putting
 * files into a bucket at deploy time takes a custom resource, i.e. a function; BucketDeployment is AWS's
 * maintained one (a Python handler running `aws s3 sync`). The alternatives were worse: the private cloud's
 * publisher writing page files would give the cross-cloud role a second purpose and a second prefix; a deploy step
 * outside CloudFormation would let the page and the routes drift apart. Its function runs only inside a
 * CloudFormation operation, which reports its failure and rolls back, so the policy tests exempt it from the
 * runtime rules (test/infra/policies.ts `deployTimeFunctionIds`); its role may write `dashboard/` but is denied
 * `assessments/`, which stays the publisher's alone.
 */
export const DASHBOARD_PREFIX = 'dashboard/';
export const DASHBOARD_ROUTE = '/dashboard';

export interface PublicDashboardProps {
  config: StageConfig;
  api: HubRestApi;
  bucket: Bucket;
}

/** Page files change with each deployment; the browser revalidates (ETag) rather than keep a stale script. */
const PAGE_CACHE_CONTROL = [CacheControl.noCache()];

const notPublishedBody = JSON.stringify({
  type: `${PROBLEM_TYPE_PREFIX}dashboard-file-not-found`,
  title: 'Not found',
  status: 404,
  detail: 'No such dashboard file or published snapshot.',
});
const storageFailedBody = JSON.stringify({
  type: `${PROBLEM_TYPE_PREFIX}dependency-unavailable`,
  title: 'Bad gateway',
  status: 502,
  detail: 'The published files could not be read; retry later.',
});

/** S3's headers a browser needs, passed through: the media type the object was stored with, and its caching. */
const PASSED_HEADERS = ['Content-Type', 'Cache-Control', 'ETag', 'Last-Modified'] as const;

export class PublicDashboard extends Construct {
  /** The role API Gateway reads the bucket with: GetObject under dashboard/ and assessments/, nothing else. */
  readonly readRole: Role;
  /** One per media type of the page's files, each setting that Content-Type on the objects it puts. */
  readonly deployments: BucketDeployment[];
  readonly methods: Method[] = [];

  constructor(scope: Construct, id: string, props: PublicDashboardProps) {
    super(scope, id);
    const { config, api, bucket } = props;
    this.deployments = this.deployPage(config, bucket);
    this.readRole = this.createReadRole(bucket);

    const root = api.api.root.resourceForPath(DASHBOARD_ROUTE);
    const bucketName = bucket.bucketName;
    this.serve(root, `${bucketName}/${DASHBOARD_PREFIX}index.html`, []);
    this.serve(root.addResource('{file}'), `${bucketName}/${DASHBOARD_PREFIX}{file}`, ['file']);
    this.serve(
      root.addResource('snapshots').addResource('{key+}'),
      `${bucketName}/${PUBLISHED_PREFIX}{key}`,
      ['key'],
    );
  }

  /**
   * Builds the page (infra/dashboard/build.ts) into the cloud assembly and deploys it under dashboard/, one
   * deployment per media type so each object carries the right Content-Type with its charset; each prunes only
   * the files it deploys (its include filter applies to deletion too).
   */
  private deployPage(config: StageConfig, bucket: Bucket): BucketDeployment[] {
    const outdir = Stage.of(this)?.outdir;
    if (!outdir) throw new Error(`${this.node.path} must be inside a CDK app to build the dashboard`);
    // Built into the cloud assembly, so it goes with it; staging then copies it as the asset.
    const pageDir = join(outdir, 'dashboard-page');
    buildDashboard(pageDir);
    const logGroup = new LogGroup(this, 'DeploymentLogs', {
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    const byType = new Map<string, string[]>();
    for (const [name, { type }] of Object.entries(DASHBOARD_FILES)) {
      byType.set(type, [...(byType.get(type) ?? []), name]);
    }
    const deployments = [...byType].map(
      ([contentType, names], index) =>
        new BucketDeployment(this, `Page${index}`, {
          sources: [Source.asset(pageDir)],
          destinationBucket: bucket,
          destinationKeyPrefix: DASHBOARD_PREFIX,
          exclude: ['*'],
          include: names,
          contentType,
          cacheControl: PAGE_CACHE_CONTROL,
          logGroup,
        }),
    );
    this.confineDeploymentRole(deployments[0]?.handlerRole, bucket);
    return deployments;
  }

  /** The deployments share one handler and role (a singleton): it may not write where the publisher writes. */
  private confineDeploymentRole(role: IRole | undefined, bucket: Bucket): void {
    if (!role) return;
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'OnlyThePublisherWritesAssessments',
        effect: Effect.DENY,
        actions: ['s3:PutObject*', 's3:DeleteObject*', 's3:Abort*'],
        resources: [bucket.arnForObjects(`${PUBLISHED_PREFIX}*`)],
      }),
    );
    const reason =
      'CDK BucketDeployment (deploy-time only): its handler syncs the page files into the bucket and reads the staged asset; its grants are CDK’s own, confined to the two buckets, and an explicit deny keeps it out of assessments/.';
    for (const finding of [
      'Action::s3:GetBucket*',
      'Action::s3:GetObject*',
      'Action::s3:List*',
      'Action::s3:DeleteObject*',
      'Action::s3:Abort*',
      `Resource::${nagArnReference(bucket.node.defaultChild as CfnBucket)}/*`,
      `Resource::${this.stagedAssetsArnAsNagSpellsIt()}/*`,
    ]) {
      acknowledgeNag(role, 'IAM5', reason, finding);
    }
    acknowledgeNag(
      role,
      'IAM4',
      'CDK BucketDeployment’s handler role: AWSLambdaBasicExecutionRole lets it write its own logs, nothing more.',
      'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
    );
    const handler = role.node.scope;
    if (handler) {
      acknowledgeNag(
        handler,
        'L1',
        'CDK BucketDeployment’s handler: its Python runtime is chosen and maintained by aws-cdk-lib, and it runs only during deployments.',
      );
    }
  }

  /** The CDK bootstrap bucket the page asset is staged in, spelled as cdk-nag names it in a finding. */
  private stagedAssetsArnAsNagSpellsIt(): string {
    const stack = Stack.of(this);
    const literal = (value: string, placeholder: string) => (Token.isUnresolved(value) ? placeholder : value);
    const qualifier = stack.synthesizer.bootstrapQualifier ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    const account = literal(stack.account, '<AWS::AccountId>');
    const region = literal(stack.region, '<AWS::Region>');
    return `arn:${literal(stack.partition, '<AWS::Partition>')}:s3:::cdk-${qualifier}-assets-${account}-${region}`;
  }

  private createReadRole(bucket: Bucket): Role {
    const role = new Role(this, 'ReadRole', {
      assumedBy: new ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway reads the public dashboard page and the published snapshots (GetObject only)',
    });
    role.addToPolicy(
      new PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [
          bucket.arnForObjects(`${DASHBOARD_PREFIX}*`),
          bucket.arnForObjects(`${PUBLISHED_PREFIX}*`),
        ],
      }),
    );
    for (const prefix of [DASHBOARD_PREFIX, PUBLISHED_PREFIX]) {
      acknowledgeNag(
        role,
        'IAM5',
        `s3:GetObject of published files only: the wildcard is confined to the ${prefix} prefix of the published-snapshots bucket.`,
        `Resource::${nagArnReference(bucket.node.defaultChild as CfnBucket)}/${prefix}*`,
      );
    }
    return role;
  }

  /** `GET` on `resource` reads the object at `objectPath` (`bucket/key`, `{param}`s taken from the request path). */
  private serve(resource: Resource, objectPath: string, pathParameters: string[]): void {
    const integration = new AwsIntegration({
      service: 's3',
      integrationHttpMethod: 'GET',
      path: objectPath,
      options: {
        credentialsRole: this.readRole,
        requestParameters: Object.fromEntries(
          pathParameters.map((name) => [`integration.request.path.${name}`, `method.request.path.${name}`]),
        ),
        integrationResponses: INTEGRATION_RESPONSES,
      },
    });
    const method = resource.addMethod('GET', integration, {
      authorizationType: AuthorizationType.NONE,
      requestParameters: Object.fromEntries(
        pathParameters.map((name) => [`method.request.path.${name}`, true]),
      ),
      methodResponses: METHOD_RESPONSES,
    });
    const reason = `GET ${resource.path} is public by design: the dashboard page and the published, non-personal assessment snapshots anyone may read; the WAF's per-IP rate rule guards it.`;
    acknowledgeNag(method, 'APIG4', reason);
    acknowledgeNag(method, 'COG4', reason);
    this.methods.push(method);
  }
}

const problemResponse = (
  statusCode: string,
  selectionPattern: string,
  body: string,
): IntegrationResponse => ({
  statusCode,
  selectionPattern,
  responseParameters: { 'method.response.header.Content-Type': `'${PROBLEM_CONTENT_TYPE}'` },
  responseTemplates: { 'application/json': body, 'text/html': body },
});

const INTEGRATION_RESPONSES: IntegrationResponse[] = [
  {
    statusCode: '200',
    responseParameters: Object.fromEntries(
      PASSED_HEADERS.map((header) => [
        `method.response.header.${header}`,
        `integration.response.header.${header}`,
      ]),
    ),
  },
  // For an AWS integration the pattern matches S3's status code.
  problemResponse('404', '403|404', notPublishedBody),
  problemResponse('502', '5\\d{2}', storageFailedBody),
];

const METHOD_RESPONSES: MethodResponse[] = [
  {
    statusCode: '200',
    responseParameters: Object.fromEntries(
      PASSED_HEADERS.map((header) => [`method.response.header.${header}`, true]),
    ),
  },
  { statusCode: '404', responseParameters: { 'method.response.header.Content-Type': true } },
  { statusCode: '502', responseParameters: { 'method.response.header.Content-Type': true } },
];
