import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LICENCE_FILES_PREFIX } from '../../infra/constructs/licence-retrieval';
import { type CfnTemplate, propertyAt, referencedLogicalId, resourcesOfType } from './policies';
import { logicalIdOf, routesOf, templateQueries } from './queries';
import { NO_BUNDLING, type SynthesisedHub, synthHub } from './synth';

/**
 * Issue 6's wiring of licence retrieval: routes, the licence-files bucket announcing to EventBridge, the uploads rule
 * on the default bus (where S3 sends), the case-events rule on the hub bus, and what each function may touch.
 */
let dev: SynthesisedHub;
let template: CfnTemplate;

beforeAll(() => {
  dev = synthHub({ ...NO_BUNDLING, 'zwfw:stage': 'dev' });
  template = dev.template('zwfw-dev-private');
}, 120_000);

afterAll(() => dev?.cleanUp());

const licences = () => dev.privateCloud.licenceRetrieval;
const { resourceOf, variablesOf, grantsOf, actionsOn } = templateQueries(() => template);

describe('routes', () => {
  it.each([
    ['POST /v1/licences', 'issuingFunction'],
    ['POST /v1/licences/{licenceId}/revocation', 'issuingFunction'],
    ['GET /v1/licences', 'retrievalFunction'],
    ['GET /v1/licences/{licenceId}', 'retrievalFunction'],
    ['GET /v1/licences:by-qr', 'retrievalFunction'],
    ['POST /v1/licences/{licenceId}/verification', 'retrievalFunction'],
    ['GET /v1/me/licences', 'holderFunction'],
    ['GET /v1/me/licence-uses', 'holderFunction'],
  ] as const)('%s runs the %s behind the client authorizer', (route, fn) => {
    const method = routesOf(template).get(route);
    expect(method?.Properties).toMatchObject({ AuthorizationType: 'CUSTOM' });
    expect(JSON.stringify(propertyAt(method, 'Integration.Uri'))).toContain(
      `"${logicalIdOf(licences()[fn])}"`,
    );
  });
});

describe('the licence-files bucket and its events', () => {
  it('is encrypted with the capability key, versioned, and sends its events to EventBridge', () => {
    const bucket = resourceOf(licences().filesBucket);
    expect(propertyAt(bucket, 'NotificationConfiguration')).toEqual({
      EventBridgeConfiguration: { EventBridgeEnabled: true },
    });
    expect(propertyAt(bucket, 'VersioningConfiguration.Status')).toBe('Enabled');
    expect(
      referencedLogicalId(
        propertyAt(
          bucket,
          'BucketEncryption.ServerSideEncryptionConfiguration.0.ServerSideEncryptionByDefault.KMSMasterKeyID',
        ),
      ),
    ).toBe(logicalIdOf(licences().key));
  });

  it("a rule on the account's default bus sends only this bucket's Object Created under the prefix to the uploads queue", () => {
    const rule = resourceOf(licences().uploadsRule);
    expect(propertyAt(rule, 'EventBusName')).toBe('default');
    expect(propertyAt(rule, 'EventPattern')).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: {
        bucket: { name: [{ Ref: logicalIdOf(licences().filesBucket) }] },
        object: { key: [{ prefix: LICENCE_FILES_PREFIX }] },
      },
    });
    expect(propertyAt(rule, 'Targets.0.Arn')).toEqual({
      'Fn::GetAtt': [logicalIdOf(licences().uploads.queue), 'Arn'],
    });
    expect(propertyAt(rule, 'Targets.0.DeadLetterConfig.Arn')).toEqual({
      'Fn::GetAtt': [logicalIdOf(licences().uploadsDeliveryDlq.queue), 'Arn'],
    });
  });

  it('case events come from the hub bus, CaseStatusChanged of case aggregation only', () => {
    const rule = resourceOf(licences().caseEventsRule);
    expect(referencedLogicalId(propertyAt(rule, 'EventBusName'))).toBe(
      logicalIdOf(dev.privateCloud.platform.eventBus),
    );
    expect(propertyAt(rule, 'EventPattern')).toEqual({
      source: ['zwfw.case-aggregate'],
      'detail-type': ['CaseStatusChanged'],
    });
  });
});

describe('what each function may touch', () => {
  const s3Actions = (fn: Parameters<typeof grantsOf>[0]) =>
    grantsOf(fn)
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')))
      .map((s) => ({ actions: [s.Action].flat().sort(), resource: JSON.stringify(s.Resource) }));

  it('the issuer presigns uploads (PutObject) and the retrieval and upload functions read (GetObject), under the prefix only', () => {
    const [issuing] = s3Actions(licences().issuingFunction);
    expect(issuing?.actions).toEqual(['s3:PutObject']);
    expect(issuing?.resource).toContain(`/${LICENCE_FILES_PREFIX}*`);
    for (const fn of [licences().retrievalFunction, licences().uploadEventsFunction]) {
      const [reads, ...more] = s3Actions(fn);
      expect(more).toEqual([]);
      expect(reads?.actions).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
      expect(reads?.resource).toContain(`/${LICENCE_FILES_PREFIX}*`);
    }
  });

  it('the user space may read no HMAC key, no bucket, no bus: it reads by the token subject only', () => {
    const variables = variablesOf(licences().holderFunction);
    // Every private function is told where the key is (commonEnvironment); only a grant lets it read it.
    const hmacSecret = logicalIdOf(dev.privateCloud.platform.idHmacSecret);
    expect(actionsOn(licences().holderFunction, hmacSecret)).toEqual([]);
    expect(actionsOn(licences().retrievalFunction, hmacSecret)).toContain('secretsmanager:GetSecretValue');
    expect(grantsOf(licences().holderFunction).flatMap((s) => [s.Action].flat())).not.toContain(
      'events:PutEvents',
    );
    expect(variables).not.toHaveProperty('LICENCE_FILES_BUCKET');
    expect(s3Actions(licences().holderFunction)).toEqual([]);
    expect(variables).toHaveProperty('TOKEN_JWKS_URL');
  });

  it('download URLs live at most 300 s; uploads 15 minutes', () => {
    for (const fn of [licences().retrievalFunction, licences().issuingFunction]) {
      expect(Number(variablesOf(fn).DOWNLOAD_URL_SECONDS)).toBeLessThanOrEqual(300);
      expect(variablesOf(fn).UPLOAD_URL_SECONDS).toBe('900');
    }
  });

  it('both queues have their alarmed DLQs', () => {
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) =>
      JSON.stringify(alarm),
    );
    for (const purpose of [
      'licence-uploads',
      'licence-case-events',
      'licence-uploads-delivery',
      'licence-case-events-delivery',
    ]) {
      expect(alarms.some((alarm) => alarm.includes(`runbook-${purpose}`))).toBe(true);
    }
  });
});
