import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENTS_TAG, PERSONAL_DATA_FIELDS, PUBLIC_STORE_CONTENTS } from '../../infra/personal-data';
import {
  type CfnResource,
  type CfnTemplate,
  deployTimeFunctionIds,
  propertyAt,
  referencedLogicalId,
  resourcesOfType,
} from './policies';
import { logicalIdOf, routesOf, statementsOfRole, templateQueries } from './queries';
import { NO_BUNDLING, type SynthesisedHub, synthHub } from './synth';

/**
 * Private → public publication (issue 7): the public cloud's published-snapshots bucket, written only by the private
 * cloud's publisher role under assessments/, read only by the public API; the rule that runs the publisher on
 * AssessmentPublished; the public citizen routes. Asked of a two-account staging, where nothing may be a
 * cross-stack reference, and of the one-account dev stage.
 */
const PRIVATE_ACCOUNT = '111111111111';
const PUBLIC_ACCOUNT = '222222222222';
const REGION = 'cn-north-1';
const TWO_ACCOUNTS = {
  ...NO_BUNDLING,
  'zwfw:stage': 'staging',
  'zwfw:account': PRIVATE_ACCOUNT,
  'zwfw:publicAccount': PUBLIC_ACCOUNT,
  'zwfw:region': REGION,
};
const BUCKET_NAME = `zwfw-staging-published-${PUBLIC_ACCOUNT}-${REGION}`;
const PUBLISHER_ROLE_ARN = `arn:aws-cn:iam::${PRIVATE_ACCOUNT}:role/zwfw-staging-snapshot-publisher`;

let staging: SynthesisedHub;
let dev: SynthesisedHub;
beforeAll(() => {
  staging = synthHub(TWO_ACCOUNTS);
  dev = synthHub({ ...NO_BUNDLING, 'zwfw:stage': 'dev' });
}, 180_000);
afterAll(() => {
  staging?.cleanUp();
  dev?.cleanUp();
});

const publicTemplate = () => staging.template('zwfw-staging-public');
const privateTemplate = () => staging.template('zwfw-staging-private');
/** A value with its `Fn::Join`s of literals and the partition joined (aws-cn in this region), as JSON text. */
function resolvedJson(value: unknown): string {
  const resolve = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v === null || typeof v !== 'object') return v;
    const object = v as Record<string, unknown>;
    if (object.Ref === 'AWS::Partition') return 'aws-cn';
    const join = object['Fn::Join'] as [string, unknown[]] | undefined;
    if (join) {
      const parts = join[1].map(resolve);
      if (parts.every((part) => typeof part === 'string')) return parts.join(join[0]);
      return { 'Fn::Join': [join[0], parts] };
    }
    return Object.fromEntries(Object.entries(object).map(([key, item]) => [key, resolve(item)]));
  };
  return JSON.stringify(resolve(value));
}

function publishedBucket(t: CfnTemplate): [string, CfnResource] {
  const found = resourcesOfType(t, 'AWS::S3::Bucket').find(
    ([, bucket]) => propertyAt(bucket, 'BucketName') === BUCKET_NAME,
  );
  if (!found) throw new Error('no published-snapshots bucket');
  return found;
}

describe('the public cloud’s published-snapshots bucket', () => {
  it('is versioned, S3-encrypted, closed to the public, TLS only and access-logged', () => {
    const [, bucket] = publishedBucket(publicTemplate());
    expect(propertyAt(bucket, 'VersioningConfiguration.Status')).toBe('Enabled');
    expect(propertyAt(bucket, 'BucketEncryption.ServerSideEncryptionConfiguration')).toEqual([
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
    ]);
    expect(propertyAt(bucket, 'PublicAccessBlockConfiguration')).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(propertyAt(bucket, 'LoggingConfiguration.DestinationBucketName')).toBeDefined();
    expect(propertyAt(bucket, 'OwnershipControls.Rules')).toEqual([
      { ObjectOwnership: 'BucketOwnerEnforced' },
    ]);
  });

  it('lets only the private account’s publisher role put, and only under assessments/', () => {
    const [bucketId] = publishedBucket(publicTemplate());
    const policy = resourcesOfType(publicTemplate(), 'AWS::S3::BucketPolicy').find(
      ([, p]) => JSON.stringify(propertyAt(p, 'Bucket')) === JSON.stringify({ Ref: bucketId }),
    )?.[1];
    const statements = propertyAt<Record<string, unknown>[]>(policy, 'PolicyDocument.Statement') ?? [];
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    const [allow] = allows;
    expect(allow?.Action).toBe('s3:PutObject');
    expect(resolvedJson(allow?.Principal)).toContain(PUBLISHER_ROLE_ARN);
    expect(resolvedJson(allow?.Resource)).toMatch(/"\/assessments\/\*"\]\]\}$/);
    // TLS only: every request without it is denied.
    expect(
      statements.some(
        (s) => s.Effect === 'Deny' && JSON.stringify(s.Condition).includes('"aws:SecureTransport":"false"'),
      ),
    ).toBe(true);
  });

  it('declares assessment snapshots as its contents, none of them on the personal-data list', () => {
    const [, bucket] = publishedBucket(publicTemplate());
    const tags = propertyAt<{ Key: string; Value: string }[]>(bucket, 'Tags') ?? [];
    expect(tags.find((tag) => tag.Key === CONTENTS_TAG)?.Value).toBe('assessment-snapshots');
    const personal: readonly string[] = PERSONAL_DATA_FIELDS;
    expect(PUBLIC_STORE_CONTENTS['assessment-snapshots'].filter((f) => personal.includes(f))).toEqual([]);
  });

  it('is read by the public routes’ function alone, GetObject under assessments/ only', () => {
    const stack = staging.publicCloud;
    const { grantsOf } = templateQueries(publicTemplate);
    const reads = grantsOf(stack.publishedAssessments.readFunction);
    const s3Grants = reads.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')));
    expect(s3Grants.map((s) => s.Action)).toEqual(['s3:GetObject']);
    expect(JSON.stringify(s3Grants[0]?.Resource)).toContain('/assessments/*');
    // The other roles of the public cloud that touch the bucket's objects: the dashboard's (public-dashboard.ts) —
    // API Gateway's read role, and the page deployment's handler, which is denied assessments/ (public-dashboard.test.ts).
    const [bucketId] = publishedBucket(publicTemplate());
    const roles = resourcesOfType(publicTemplate(), 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(propertyAt(p, 'PolicyDocument')).includes(`"${bucketId}"`))
      .flatMap(([, p]) => (propertyAt<unknown[]>(p, 'Roles') ?? []).map(referencedLogicalId));
    const deployers = [...deployTimeFunctionIds(publicTemplate())].map((id) =>
      referencedLogicalId(propertyAt(publicTemplate().Resources[id], 'Role')),
    );
    expect(roles.sort()).toEqual(
      [
        logicalIdOf(stack.publishedAssessments.readFunction.serviceRole),
        logicalIdOf(stack.dashboard.readRole),
        ...deployers,
      ].sort(),
    );
  });
});

describe('the private cloud’s snapshot publisher', () => {
  const publisher = () => staging.privateCloud.snapshotPublisher;

  it('runs on AssessmentPublished of the private bus, with a DLQ for what EventBridge cannot deliver', () => {
    const rule = privateTemplate().Resources[logicalIdOf(publisher().rule)];
    expect(propertyAt(rule, 'EventPattern')).toEqual({
      source: ['zwfw.case-aggregate'],
      'detail-type': ['AssessmentPublished'],
    });
    const [target] = propertyAt<Record<string, unknown>[]>(rule, 'Targets') ?? [];
    expect(JSON.stringify(target?.Arn)).toContain(logicalIdOf(publisher().publishFunction));
    expect(JSON.stringify(target?.DeadLetterConfig)).toContain(
      logicalIdOf(publisher().deadLetterQueue.queue),
    );
  });

  it('runs one at a time, parks failed invocations in the alarmed DLQ, under the role name the bucket names', () => {
    const fn = privateTemplate().Resources[logicalIdOf(publisher().publishFunction)];
    expect(propertyAt(fn, 'ReservedConcurrentExecutions')).toBe(1);
    const [, config] = resourcesOfType(privateTemplate(), 'AWS::Lambda::EventInvokeConfig')[0] ?? [];
    expect(JSON.stringify(propertyAt(config, 'DestinationConfig.OnFailure'))).toContain(
      logicalIdOf(publisher().deadLetterQueue.queue),
    );
    const alarm = privateTemplate().Resources[logicalIdOf(publisher().deadLetterQueue.alarm)];
    expect(propertyAt(alarm, 'AlarmDescription')).toContain('README.md#runbook-snapshot-publication');
    const role = privateTemplate().Resources[logicalIdOf(publisher().publishFunction.serviceRole)];
    expect(propertyAt(role, 'RoleName')).toBe('zwfw-staging-snapshot-publisher');
  });

  it('may put into the public bucket only under assessments/, and names it without a cross-stack reference', () => {
    const fn = publisher().publishFunction;
    const variables = templateQueries(privateTemplate).variablesOf(fn);
    expect(variables.PUBLISHED_SNAPSHOTS_BUCKET).toBe(BUCKET_NAME);
    const statements = statementsOfRole(privateTemplate(), logicalIdOf(fn.serviceRole));
    const onPublic = statements.filter((s) => resolvedJson(s.Resource).includes(BUCKET_NAME));
    expect(onPublic).toHaveLength(1);
    expect(onPublic[0]?.Action).toBe('s3:PutObject');
    // minimizePolicies may merge it with the put of its own ledger in the private bucket: only that one is beside it.
    const resources = [onPublic[0]?.Resource].flat().map(resolvedJson);
    expect(resources.filter((r) => r.includes(BUCKET_NAME))).toEqual([
      `"arn:aws-cn:s3:::${BUCKET_NAME}/assessments/*"`,
    ]);
    expect(resources.filter((r) => !r.includes(BUCKET_NAME))).toEqual([
      expect.stringMatching(/AssessmentsBucket.*\/published\/index\.json/),
    ]);
    expect(JSON.stringify(privateTemplate())).not.toContain('Fn::ImportValue');
  });
});

describe('the public citizen routes', () => {
  it('serve the published snapshots unsigned and introspect tokens signed, on the public API only', () => {
    const routes = routesOf(publicTemplate());
    for (const route of ['GET /v1/public/assessments', 'GET /v1/public/assessments/{period}']) {
      expect(routes.get(route)?.Properties, route).toMatchObject({ AuthorizationType: 'NONE' });
    }
    expect(routes.get('POST /v1/tokens/introspect')?.Properties).toMatchObject({
      AuthorizationType: 'CUSTOM',
      ApiKeyRequired: true,
    });
    expect(routesOf(privateTemplate()).has('GET /v1/public/assessments')).toBe(false);
  });

  it('verifies tokens with the signing key’s public half from KMS, not a call into the private cloud', () => {
    const { variablesOf } = templateQueries(publicTemplate);
    const variables = variablesOf(staging.publicCloud.tokenIntrospection.introspectFunction);
    expect(variables.TOKEN_SIGNING_KEY_ARN).toBeDefined();
    expect(variables.TOKEN_JWKS_URL).toBeUndefined();
  });

  it('in dev names the one account for both ends', () => {
    const t = dev.template('zwfw-dev-public');
    const bucket = resourcesOfType(t, 'AWS::S3::Bucket').find(([, b]) =>
      JSON.stringify(propertyAt(b, 'BucketName') ?? '').includes('zwfw-dev-published-'),
    );
    expect(JSON.stringify(propertyAt(bucket?.[1], 'BucketName'))).toContain('AWS::AccountId');
  });
});
