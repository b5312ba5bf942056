import { Duration } from 'aws-cdk-lib';
import { EventBus, type Rule } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Bucket, CfnBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  DEFAULT_UPLOAD_URL_SECONDS,
  MAX_DOWNLOAD_URL_SECONDS,
} from '../../functions/licence-retrieve/config';
import { DEFAULT_MAX_FILE_BYTES } from '../../functions/licence-retrieve/domain/licence';
import { DeadLetterQueue } from './dead-letter-queue';
import { subscribeQueueToEvents } from './event-subscription';
import { createHubBucket } from './hub-bucket';
import { HubFunction } from './hub-function';
import type { HubRestApi } from './hub-rest-api';
import { HubTable } from './hub-table';
import { acknowledgeNag, nagArnReference } from './nag';
import type { HubPlatform } from './platform';
import { SqsConsumer } from './sqs-consumer';
import { bindUserTokenVerification } from './user-tokens';

export interface LicenceRetrievalProps {
  platform: HubPlatform;
  api: HubRestApi;
  /** `iss` of the hub's access tokens: the holder's token and the user space accept only these. */
  tokenIssuer: string;
  /** `national` adds SM3 to every recorded file digest (国密 profile). Default `international` (SHA-256 only). */
  cryptoProfile?: 'international' | 'national';
}

const SERVICE_NAME = 'licence-retrieve';
/** Every licence file lives under this prefix; the functions' grants stop at it. */
export const LICENCE_FILES_PREFIX = 'licences/';
/** The case events a case-based authorisation is learnt from. */
export const LICENCE_CASE_EVENTS_PATTERN = {
  source: ['zwfw.case-aggregate'],
  detailType: ['CaseStatusChanged'],
} as const;
/** What S3 sends to the account's default bus when an object lands (EventBridge notifications on the bucket). */
export const OBJECT_CREATED_PATTERN = { source: ['aws.s3'], detailType: ['Object Created'] } as const;

/**
 * Licence retrieval (电子证照共享): issuers register and revoke licences and upload their files through presigned
 * PUTs; S3 announces each landed object on the default bus and a consumer records its digest; departments list and
 * fetch licences with the holder's token or a case of theirs and a stated reason, every use audited; holders read
 * their licences and their use records; anyone with licences:read verifies a file. Owns the licences table, the
 * licence-files bucket, both queues and their key.
 */
export class LicenceRetrieval extends Construct {
  readonly key: Key;
  readonly licencesTable: HubTable;
  readonly filesBucket: Bucket;
  readonly issuingFunction: HubFunction;
  readonly retrievalFunction: HubFunction;
  readonly holderFunction: HubFunction;
  readonly uploadEventsFunction: HubFunction;
  readonly caseEventsFunction: HubFunction;
  readonly uploads: SqsConsumer;
  readonly caseEvents: SqsConsumer;
  readonly uploadsDeliveryDlq: DeadLetterQueue;
  readonly caseEventsDeliveryDlq: DeadLetterQueue;
  /** On the account's default bus: that is where S3 puts its events. */
  readonly uploadsRule: Rule;
  readonly caseEventsRule: Rule;

  constructor(scope: Construct, id: string, props: LicenceRetrievalProps) {
    super(scope, id);
    const { platform, api } = props;
    const { config } = platform;

    this.key = new Key(this, 'Key', {
      description: `zwfw-hub ${config.stage} licence retrieval: licences, use records, files, queues`,
      enableKeyRotation: true,
      removalPolicy: config.removalPolicy,
    });
    // Licences (gsi1: a holder's, by subject), use records per holder, cases learnt from events. No TTL: the audit stays.
    this.licencesTable = new HubTable(this, 'LicencesTable', { config, encryptionKey: this.key, gsi1: true });
    this.filesBucket = createHubBucket(this, 'FilesBucket', {
      encryptionKey: this.key,
      accessLogsPrefix: 'licence-files/',
      removalPolicy: config.removalPolicy,
    });
    // On the bucket itself, not through CDK's notifications custom resource: no extra Lambda, and the local runtime
    // reads it straight from the template.
    (this.filesBucket.node.defaultChild as CfnBucket).addPropertyOverride(
      'NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled',
      true,
    );

    this.issuingFunction = this.apiFunction(
      platform,
      'IssuingFunction',
      'functions/licence-retrieve/issuing-api.ts',
      {
        description:
          'Licence issuing: POST /v1/licences (presigned upload), POST /v1/licences/{licenceId}/revocation',
      },
    );
    this.retrievalFunction = this.apiFunction(
      platform,
      'RetrievalFunction',
      'functions/licence-retrieve/retrieval-api.ts',
      {
        description:
          'Licence use: GET /v1/licences, /v1/licences/{licenceId}, /v1/licences:by-qr; verification',
        // Verification may hash a 1 MiB file; a listing writes a use record per licence shown.
        memorySize: 1024,
      },
    );
    this.holderFunction = this.apiFunction(
      platform,
      'HolderFunction',
      'functions/licence-retrieve/me-api.ts',
      {
        description: "The holder's own: GET /v1/me/licences, GET /v1/me/licence-uses",
      },
    );
    this.uploadEventsFunction = new HubFunction(this, 'UploadEventsFunction', {
      platform,
      entry: 'functions/licence-retrieve/upload-events.ts',
      serviceName: SERVICE_NAME,
      description: 'Records the digest of each uploaded licence file (S3 Object Created via the default bus)',
      // A 20 MiB file streams through SHA-256 (and SM3) in a few seconds.
      timeout: Duration.seconds(60),
      memorySize: 1024,
    });
    this.caseEventsFunction = new HubFunction(this, 'CaseEventsFunction', {
      platform,
      entry: 'functions/licence-retrieve/case-events.ts',
      serviceName: SERVICE_NAME,
      description:
        'Learns cases and their applicants from CaseStatusChanged (case-based licence authorisation)',
      timeout: Duration.seconds(30),
      memorySize: 512,
    });

    this.uploads = new SqsConsumer(this, 'Uploads', {
      config,
      encryptionKey: this.key,
      alarmTopic: platform.alarmTopic,
      purpose: 'licence-uploads',
      impact:
        'Uploaded licence files failed to be checked 3 times: their digests are not recorded, so those licences cannot be downloaded or verified (verification says unknown) until the messages are redriven.',
      consumer: this.uploadEventsFunction,
      batchSize: 10,
      maxBatchingWindow: Duration.seconds(1),
    });
    this.uploadsDeliveryDlq = new DeadLetterQueue(this, 'UploadsDeliveryDlq', {
      config,
      encryptionKey: this.key,
      purpose: 'licence-uploads-delivery',
      impact:
        'The default bus could not deliver S3 Object Created events of the licence-files bucket: those files are never checked and their licences stay without a digest until the events are redriven to the uploads queue.',
      alarmTopic: platform.alarmTopic,
      feeder: 'eventbridge',
    });
    this.uploadsRule = subscribeQueueToEvents(this, {
      ruleId: 'UploadsRule',
      description:
        'Object Created in the licence-files bucket (S3, default bus) to the licence uploads queue',
      bus: EventBus.fromEventBusName(this, 'DefaultBus', 'default'),
      pattern: OBJECT_CREATED_PATTERN,
      consumer: this.uploads,
      deliveryDlq: this.uploadsDeliveryDlq,
      key: this.key,
      keyStatementSid: 'EventBridgeSendsToTheLicenceQueues',
      queueStatementSid: 'OnlyTheUploadsRuleSends',
    });
    // Only this bucket's objects under the licence prefix: other buckets' events never reach the queue.
    this.uploadsRule.addEventPattern({
      detail: {
        bucket: { name: [this.filesBucket.bucketName] },
        object: { key: [{ prefix: LICENCE_FILES_PREFIX }] },
      },
    });

    this.caseEvents = new SqsConsumer(this, 'CaseEvents', {
      config,
      encryptionKey: this.key,
      alarmTopic: platform.alarmTopic,
      purpose: 'licence-case-events',
      impact:
        'CaseStatusChanged events failed 3 times and are parked: licence use on the authority of those cases is refused (403) until the messages are redriven.',
      consumer: this.caseEventsFunction,
      batchSize: 50,
      maxBatchingWindow: Duration.seconds(1),
    });
    this.caseEventsDeliveryDlq = new DeadLetterQueue(this, 'CaseEventsDeliveryDlq', {
      config,
      encryptionKey: this.key,
      purpose: 'licence-case-events-delivery',
      impact:
        'The bus could not deliver CaseStatusChanged to the licence case-events queue: licence use on the authority of those cases is refused until the events are redriven.',
      alarmTopic: platform.alarmTopic,
      feeder: 'eventbridge',
    });
    this.caseEventsRule = subscribeQueueToEvents(this, {
      ruleId: 'CaseEventsRule',
      description: 'CaseStatusChanged (case aggregation) to the licence case-events queue',
      bus: platform.eventBus,
      pattern: LICENCE_CASE_EVENTS_PATTERN,
      consumer: this.caseEvents,
      deliveryDlq: this.caseEventsDeliveryDlq,
      key: this.key,
      keyStatementSid: 'EventBridgeSendsCaseEventsToTheLicenceQueue',
      queueStatementSid: 'OnlyTheLicenceCaseEventsRuleSends',
    });

    this.bindFunctions(platform, props);
    api.addRoute('POST', '/v1/licences', this.issuingFunction);
    api.addRoute('POST', '/v1/licences/{licenceId}/revocation', this.issuingFunction);
    api.addRoute('GET', '/v1/licences', this.retrievalFunction);
    api.addRoute('GET', '/v1/licences/{licenceId}', this.retrievalFunction);
    api.addRoute('GET', '/v1/licences:by-qr', this.retrievalFunction);
    api.addRoute('POST', '/v1/licences/{licenceId}/verification', this.retrievalFunction);
    api.addRoute('GET', '/v1/me/licences', this.holderFunction);
    api.addRoute('GET', '/v1/me/licence-uses', this.holderFunction);
  }

  private apiFunction(
    platform: HubPlatform,
    id: string,
    entry: string,
    options: { description: string; memorySize?: number },
  ): HubFunction {
    return new HubFunction(this, id, {
      platform,
      entry,
      serviceName: SERVICE_NAME,
      description: options.description,
      memorySize: options.memorySize ?? 512,
    });
  }

  private bindFunctions(platform: HubPlatform, props: LicenceRetrievalProps): void {
    const { config } = platform;
    const settings = {
      UPLOAD_URL_SECONDS: String(DEFAULT_UPLOAD_URL_SECONDS),
      DOWNLOAD_URL_SECONDS: String(MAX_DOWNLOAD_URL_SECONDS),
      MAX_LICENCE_FILE_BYTES: String(DEFAULT_MAX_FILE_BYTES),
      CRYPTO_PROFILE: props.cryptoProfile ?? 'international',
    };
    const tokens = { api: props.api, tokenIssuer: props.tokenIssuer, stage: config.stage };

    bindHttpStack(this.issuingFunction, platform)
      .bindTable(this.licencesTable, 'LICENCES_TABLE', 'readWrite')
      .bindSecretRead(platform.idHmacSecret, 'HUB_ID_HMAC_SECRET_ID')
      .bindEventBus(platform.eventBus, 'EVENT_BUS_NAME');
    this.bindFiles(this.issuingFunction, 's3:PutObject', 'kms:GenerateDataKey', 'presigns uploads of');
    setEnvironment(this.issuingFunction, settings);

    bindHttpStack(this.retrievalFunction, platform)
      .bindTable(this.licencesTable, 'LICENCES_TABLE', 'readWrite')
      .bindSecretRead(platform.idHmacSecret, 'HUB_ID_HMAC_SECRET_ID')
      .bindEventBus(platform.eventBus, 'EVENT_BUS_NAME');
    this.bindFiles(this.retrievalFunction, 's3:GetObject', 'kms:Decrypt', 'presigns downloads of');
    bindUserTokenVerification(this.retrievalFunction, tokens);
    setEnvironment(this.retrievalFunction, settings);

    // The user space reads by the token's subject: no ID numbers, so no HMAC key, no files, no bus.
    bindHttpStack(this.holderFunction, platform).bindTable(this.licencesTable, 'LICENCES_TABLE', 'read');
    bindUserTokenVerification(this.holderFunction, tokens);

    this.uploadEventsFunction.bindTable(this.licencesTable, 'LICENCES_TABLE', 'readWrite');
    this.bindFiles(this.uploadEventsFunction, 's3:GetObject', 'kms:Decrypt', 'hashes');
    setEnvironment(this.uploadEventsFunction, settings);

    this.caseEventsFunction.bindTable(this.licencesTable, 'LICENCES_TABLE', 'readWrite');
  }

  /** One S3 action on the licence files only, and the one KMS action it needs on the capability key. */
  private bindFiles(fn: HubFunction, action: string, kmsAction: string, what: string): void {
    fn.addEnvironment('LICENCE_FILES_BUCKET', this.filesBucket.bucketName);
    const objects = this.filesBucket.arnForObjects(`${LICENCE_FILES_PREFIX}*`);
    const actions = action === 's3:GetObject' ? [action, 's3:GetObjectVersion'] : [action];
    fn.addToRolePolicy(new PolicyStatement({ actions, resources: [objects] }));
    this.key.grant(fn, kmsAction);
    acknowledgeNag(
      fn.serviceRole,
      'IAM5',
      `${fn.node.id} ${what} licence files only: the wildcard is confined to the ${LICENCE_FILES_PREFIX} prefix of the one licence-files bucket.`,
      `Resource::${nagArnReference(this.filesBucket.node.defaultChild as CfnBucket)}/${LICENCE_FILES_PREFIX}*`,
    );
  }
}

function setEnvironment(fn: HubFunction, variables: Record<string, string>): void {
  for (const [name, value] of Object.entries(variables)) fn.addEnvironment(name, value);
}

/** What every function behind the signed HTTP stack (shared/http.ts) reads: nonces, idempotency, the client registry. */
function bindHttpStack(fn: HubFunction, platform: HubPlatform): HubFunction {
  return fn
    .bindTable(platform.noncesTable, 'NONCES_TABLE', 'readWrite')
    .bindTable(platform.idempotencyTable, 'IDEMPOTENCY_TABLE', 'readWrite')
    .bindSecretRead(platform.clientsSecret, 'HUB_CLIENTS_SECRET_ID');
}
