import { Duration } from 'aws-cdk-lib';
import { AttributeType, type CfnTable, ProjectionType } from 'aws-cdk-lib/aws-dynamodb';
import type { Rule } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Bucket, CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CASES_TABLE_INDEXES } from '../../functions/case-aggregate/store';
import type { StageConfig } from '../config';
import { DeadLetterQueue } from './dead-letter-queue';
import { subscribeQueueToEvents } from './event-subscription';
import { createHubBucket } from './hub-bucket';
import { HubFunction } from './hub-function';
import type { HubRestApi } from './hub-rest-api';
import { HubSchedule } from './hub-schedule';
import { HubTable } from './hub-table';
import { acknowledgeNag, nagArnReference } from './nag';
import type { HubPlatform } from './platform';
import { SqsConsumer } from './sqs-consumer';
import { bindUserTokenVerification } from './user-tokens';

/** The evaluation events this capability counts (evaluation ingest publishes them). */
export const EVALUATION_EVENTS_PATTERN = {
  source: ['zwfw.evaluation-ingest'],
  detailType: ['EvaluationReceived', 'BadReviewOpened', 'RectificationTransitioned'],
} as const;

export interface CaseAggregationProps {
  platform: HubPlatform;
  api: HubRestApi;
  /** The issuer of persons' access tokens (auth verification's), accepted by `GET /v1/me/cases`. */
  tokenIssuer: string;
}

const SERVICE_NAME = 'case-aggregate';
/** Where the rollup writes its snapshots (functions/case-aggregate/snapshot.ts, `snapshotKeysOf`). */
export const ASSESSMENTS_PREFIX = 'assessments/';
/** Daily at 00:30 Asia/Shanghai: yesterday has ended, and the overdue counts land before the 01:00 rollup. */
export const OVERDUE_SWEEP_SCHEDULE = 'cron(30 0 * * ? *)';
/** Daily at 01:00 Asia/Shanghai (issue 4): rolls yesterday and re-rolls its month. */
export const DAILY_ROLLUP_SCHEDULE = 'cron(0 1 * * ? *)';

/**
 * Case aggregation (办件汇聚): `POST /v1/cases:batch` validates and enqueues, the ingest consumer applies
 * status changes exactly once with their statistics increments, `GET /v1/cases/{caseId}` reads a case; the item
 * catalogue (`/v1/items/{code}`), the daily overdue sweep, the daily rollup into assessments (S3 snapshots,
 * AssessmentPublished) and the statistics queries (`/v1/stats`, `/v1/assessments/{period}`). Owns the cases,
 * stats and catalogue tables, the ingest queue, the assessments bucket and their key.
 */
export class CaseAggregation extends Construct {
  readonly key: Key;
  readonly casesTable: HubTable;
  readonly statsTable: HubTable;
  readonly catalogueTable: HubTable;
  readonly assessmentsBucket: Bucket;
  readonly apiFunction: HubFunction;
  readonly ingestFunction: HubFunction;
  readonly itemsFunction: HubFunction;
  readonly statsFunction: HubFunction;
  readonly sweepFunction: HubFunction;
  readonly rollupFunction: HubFunction;
  readonly ingest: SqsConsumer;
  /** Evaluation events counted into the statistics buckets (satisfaction, rectification). */
  readonly evaluationEvents: SqsConsumer;
  readonly evaluationEventsFunction: HubFunction;
  readonly evaluationEventsRule: Rule;
  readonly sweepSchedule: HubSchedule;
  readonly rollupSchedule: HubSchedule;

  constructor(scope: Construct, id: string, props: CaseAggregationProps) {
    super(scope, id);
    const { platform } = props;
    const { config } = platform;

    this.key = new Key(this, 'Key', {
      description: `zwfw-hub ${config.stage} case aggregation: cases, statistics, ingest queue`,
      enableKeyRotation: true,
      removalPolicy: config.removalPolicy,
    });
    this.casesTable = new HubTable(this, 'CasesTable', { config, encryptionKey: this.key });
    // `applicant`: a person's own cases (用户空间) by their tokens' subject. `due`: sparse, only cases awaiting the
    // overdue sweep carry its keys, so the sweep reads the newly due, not all. Both keys only: their keys do not
    // change when the status does, so a status change writes no index item (README, *Write capacity*).
    for (const index of CASES_TABLE_INDEXES) {
      this.casesTable.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        projectionType: ProjectionType.KEYS_ONLY,
      });
    }
    this.statsTable = new HubTable(this, 'StatsTable', { config, encryptionKey: this.key });
    // Reference data (事项实施清单), read and written by key only.
    this.catalogueTable = new HubTable(this, 'CatalogueTable', { config, encryptionKey: this.key });
    this.assessmentsBucket = this.createAssessmentsBucket(config);

    this.apiFunction = new HubFunction(this, 'ApiFunction', {
      platform,
      entry: 'functions/case-aggregate/api.ts',
      serviceName: SERVICE_NAME,
      description:
        'Case ingest (POST /v1/cases:batch), case query (GET /v1/cases/{caseId}), own cases (GET /v1/me/cases)',
      // A 500-record batch is 50 SendMessageBatch calls; API Gateway gives up at 29 s.
      timeout: Duration.seconds(20),
      memorySize: 1024,
    });
    this.ingestFunction = new HubFunction(this, 'IngestFunction', {
      platform,
      entry: 'functions/case-aggregate/consumer.ts',
      serviceName: SERVICE_NAME,
      description: 'Applies case status changes with their statistics increments, exactly once',
      timeout: Duration.seconds(30),
      memorySize: 1024,
    });

    this.ingest = new SqsConsumer(this, 'Ingest', {
      config,
      encryptionKey: this.key,
      alarmTopic: platform.alarmTopic,
      purpose: 'case-ingest',
      impact:
        'Case status changes failed 3 times and are parked: those cases and their statistics are stale, and no CaseStatusChanged was emitted for them, until the messages are redriven.',
      consumer: this.ingestFunction,
      // ~50 changes per transaction is where DynamoDB throughput peaks (DESIGN §1.3).
      batchSize: 50,
      maxBatchingWindow: Duration.seconds(1),
    });

    this.bindCapabilityEnvironment(config.statsShards);
    this.apiFunction
      .bindTable(this.casesTable, 'CASES_TABLE', 'read')
      .bindQueueSend(this.ingest.queue, 'CASE_QUEUE_URL')
      .bindTable(platform.noncesTable, 'NONCES_TABLE', 'readWrite')
      .bindTable(platform.idempotencyTable, 'IDEMPOTENCY_TABLE', 'readWrite')
      .bindSecretRead(platform.clientsSecret, 'HUB_CLIENTS_SECRET_ID')
      .bindSecretRead(platform.idHmacSecret, 'HUB_ID_HMAC_SECRET_ID');
    // The consumer sees only PII-free change messages (ID HMAC, masked fields): no secrets.
    this.ingestFunction
      .bindTable(this.casesTable, 'CASES_TABLE', 'readWrite')
      .bindTable(this.statsTable, 'STATS_TABLE', 'readWrite')
      .bindTable(platform.idempotencyTable, 'IDEMPOTENCY_TABLE', 'readWrite')
      .bindEventBus(platform.eventBus, 'EVENT_BUS_NAME');

    bindUserTokenVerification(this.apiFunction, {
      api: props.api,
      tokenIssuer: props.tokenIssuer,
      stage: config.stage,
    });
    props.api.addRoute('POST', '/v1/cases:batch', this.apiFunction);
    props.api.addRoute('GET', '/v1/cases/{caseId}', this.apiFunction);
    props.api.addRoute('GET', '/v1/me/cases', this.apiFunction);

    this.itemsFunction = this.createItemsApi(platform, props.api);
    this.statsFunction = this.createStatsApi(platform, props.api);
    this.sweepFunction = this.createOverdueSweep(platform);
    this.rollupFunction = this.createRollup(platform);
    // HubTable acknowledges index grants for its own gsi1 only; these indexes are this construct's.
    for (const fn of [this.apiFunction, this.ingestFunction, this.sweepFunction])
      this.acknowledgeCaseIndexGrants(fn);
    [this.evaluationEventsFunction, this.evaluationEvents, this.evaluationEventsRule] =
      this.countEvaluationEvents(platform);
    // Working days are judged wherever a due day is computed: by the consumer on each change, by the sweep.
    for (const fn of [this.ingestFunction, this.sweepFunction])
      fn.addEnvironment('HOLIDAY_CALENDAR', config.holidayCalendar);

    this.sweepSchedule = new HubSchedule(this, 'OverdueSweepSchedule', {
      config,
      encryptionKey: this.key,
      alarmTopic: platform.alarmTopic,
      purpose: 'overdue-sweep',
      impact:
        "The daily overdue sweep failed after its retries: cases that passed their due day yesterday are not counted overdue until the sweep runs again (any later run counts them, none twice), and yesterday's assessment lacks them until its day is rolled up again.",
      expression: OVERDUE_SWEEP_SCHEDULE,
      target: this.sweepFunction,
      input: {},
    });
    this.rollupSchedule = new HubSchedule(this, 'DailyRollupSchedule', {
      config,
      encryptionKey: this.key,
      alarmTopic: platform.alarmTopic,
      purpose: 'daily-rollup',
      impact:
        "The daily rollup failed after its retries: yesterday's assessment and its month's were not published (no snapshots, no AssessmentPublished) until `npm run hub -- rollup` backfills them.",
      expression: DAILY_ROLLUP_SCHEDULE,
      target: this.rollupFunction,
    });
  }

  /** `PUT /v1/items/{code}` (items:write, the owning platform) and `GET /v1/items/{code}` (cases:read). */
  private createItemsApi(platform: HubPlatform, api: HubRestApi): HubFunction {
    const fn = new HubFunction(this, 'ItemsFunction', {
      platform,
      entry: 'functions/case-aggregate/items-api.ts',
      serviceName: SERVICE_NAME,
      description: 'Item catalogue (事项实施清单): PUT and GET /v1/items/{code}',
      memorySize: 512,
    });
    fn.bindTable(this.catalogueTable, 'CATALOGUE_TABLE', 'readWrite');
    bindHttpStack(fn, platform);
    api.addRoute('PUT', '/v1/items/{code}', fn);
    api.addRoute('GET', '/v1/items/{code}', fn);
    return fn;
  }

  /** `GET /v1/stats`, `GET /v1/evaluations/stats` and `GET /v1/assessments/{period}`: rollups and buckets, read only. */
  private createStatsApi(platform: HubPlatform, api: HubRestApi): HubFunction {
    const fn = new HubFunction(this, 'StatsFunction', {
      platform,
      entry: 'functions/case-aggregate/stats-api.ts',
      serviceName: SERVICE_NAME,
      description:
        'Statistics and assessment queries: GET /v1/stats, GET /v1/evaluations/stats, GET /v1/assessments/{period}',
      // A year of days never rolled up is read from buckets, 32 × shards Queries a day; API Gateway stops at 29 s.
      timeout: Duration.seconds(28),
      memorySize: 1024,
    });
    fn.bindTable(this.statsTable, 'STATS_TABLE', 'read');
    fn.addEnvironment('STATS_SHARDS', String(platform.config.statsShards));
    bindHttpStack(fn, platform);
    api.addRoute('GET', '/v1/stats', fn);
    // The evaluation figures come from these buckets too: one source of truth with the assessment.
    api.addRoute('GET', '/v1/evaluations/stats', fn);
    api.addRoute('GET', '/v1/assessments/{period}', fn);
    return fn;
  }

  private createOverdueSweep(platform: HubPlatform): HubFunction {
    const fn = new HubFunction(this, 'OverdueSweepFunction', {
      platform,
      entry: 'functions/case-aggregate/sweep.ts',
      serviceName: SERVICE_NAME,
      description:
        'Daily overdue sweep: counts cases that passed their due day, exactly once, from the due index',
      timeout: Duration.minutes(10),
      memorySize: 512,
    });
    fn.bindTable(this.casesTable, 'CASES_TABLE', 'readWrite').bindTable(
      this.statsTable,
      'STATS_TABLE',
      'readWrite',
    );
    fn.addEnvironment('STATS_SHARDS', String(platform.config.statsShards));
    return fn;
  }

  /**
   * Evaluation ingest's events, learnt from the bus into this capability's own queue and counted into its own
   * statistics buckets exactly once (functions/case-aggregate/evaluation-events.ts): never its tables.
   */
  private countEvaluationEvents(platform: HubPlatform): [HubFunction, SqsConsumer, Rule] {
    const { config } = platform;
    const fn = new HubFunction(this, 'EvaluationEventsFunction', {
      platform,
      entry: 'functions/case-aggregate/evaluation-events.ts',
      serviceName: SERVICE_NAME,
      description:
        'Counts evaluation events (votes, bad reviews, rectifications) into the statistics buckets',
      timeout: Duration.seconds(30),
      memorySize: 512,
    });
    fn.bindTable(this.statsTable, 'STATS_TABLE', 'readWrite');
    fn.addEnvironment('STATS_SHARDS', String(config.statsShards));
    const consumer = new SqsConsumer(this, 'EvaluationEvents', {
      config,
      encryptionKey: this.key,
      alarmTopic: platform.alarmTopic,
      purpose: 'evaluation-counts',
      impact:
        'Evaluation events failed 3 times and are parked: satisfaction and rectification rates miss them until the messages are redriven.',
      consumer: fn,
      batchSize: 50,
      maxBatchingWindow: Duration.seconds(1),
    });
    const deliveryDlq = new DeadLetterQueue(this, 'EvaluationEventsDeliveryDlq', {
      config,
      encryptionKey: this.key,
      purpose: 'evaluation-counts-delivery',
      impact:
        'The bus could not deliver evaluation events to case aggregation: satisfaction and rectification rates miss them until the events are redriven to its queue.',
      alarmTopic: platform.alarmTopic,
      feeder: 'eventbridge',
    });
    const rule = subscribeQueueToEvents(this, {
      ruleId: 'EvaluationEventsRule',
      description: 'Evaluation ingest events to the case aggregation counting queue',
      bus: platform.eventBus,
      pattern: EVALUATION_EVENTS_PATTERN,
      consumer,
      deliveryDlq,
      key: this.key,
      keyStatementSid: 'EventBridgeSendsToTheEvaluationCountsQueues',
      queueStatementSid: 'OnlyTheEvaluationEventsRuleSends',
    });
    return [fn, consumer, rule];
  }

  private createRollup(platform: HubPlatform): HubFunction {
    const fn = new HubFunction(this, 'RollupFunction', {
      platform,
      entry: 'functions/case-aggregate/rollup.ts',
      serviceName: SERVICE_NAME,
      description:
        'Daily rollup of the statistics buckets into day and month assessments: S3 snapshots, AssessmentPublished',
      timeout: Duration.minutes(15),
      memorySize: 1024,
    });
    fn.bindTable(this.statsTable, 'STATS_TABLE', 'readWrite').bindEventBus(
      platform.eventBus,
      'EVENT_BUS_NAME',
    );
    fn.addEnvironment('STATS_SHARDS', String(platform.config.statsShards));
    fn.addEnvironment('ASSESSMENTS_BUCKET', this.assessmentsBucket.bucketName);
    // Puts snapshots under assessments/ and nothing else: no read, no delete, no other prefix.
    const objects = this.assessmentsBucket.arnForObjects(`${ASSESSMENTS_PREFIX}*`);
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [objects] }));
    // An SSE-KMS put with a bucket key asks KMS for a data key, nothing more.
    this.key.grant(fn, 'kms:GenerateDataKey');
    acknowledgeNag(
      fn.serviceRole,
      'IAM5',
      `s3:PutObject of assessment snapshots only: the wildcard is confined to the ${ASSESSMENTS_PREFIX} prefix of the one assessments bucket.`,
      `Resource::${nagArnReference(this.assessmentsBucket.node.defaultChild as CfnBucket)}/${ASSESSMENTS_PREFIX}*`,
    );
    return fn;
  }

  /**
   * The assessment snapshots (JSON, CSV): national statistics, no personal data, but the record of what was
   * published. Versioned so an overwritten period keeps its earlier publications; access-logged like the public
   * snapshot bucket.
   */
  private createAssessmentsBucket(config: StageConfig): Bucket {
    return createHubBucket(this, 'AssessmentsBucket', {
      encryptionKey: this.key,
      accessLogsPrefix: 'assessments/',
      removalPolicy: config.removalPolicy,
    });
  }

  /** grantReadData and friends add `<cases table>/index/*` once the table has indexes: the query paths. */
  private acknowledgeCaseIndexGrants(fn: HubFunction): void {
    acknowledgeNag(
      fn.serviceRole,
      'IAM5',
      'Queries of the cases table need its applicant and due indexes; the wildcard is confined to that table’s /index/ path.',
      `Resource::${nagArnReference(this.casesTable.node.defaultChild as CfnTable)}/index/*`,
    );
  }

  get ingestQueue(): Queue {
    return this.ingest.queue;
  }

  get ingestDeadLetterQueue(): Queue {
    return this.ingest.deadLetterQueue.queue;
  }

  /**
   * Both entry points share one capability config schema, so both receive every variable of the
   * capability; what each may actually touch is decided by its grants, not by what it can name.
   */
  private bindCapabilityEnvironment(statsShards: number): void {
    const environment = {
      CASES_TABLE: this.casesTable.tableName,
      STATS_TABLE: this.statsTable.tableName,
      CASE_QUEUE_URL: this.ingest.queue.queueUrl,
      STATS_SHARDS: String(statsShards),
    };
    for (const fn of [this.apiFunction, this.ingestFunction]) {
      for (const [name, value] of Object.entries(environment)) fn.addEnvironment(name, value);
    }
  }
}

/** What every function behind the signed HTTP stack (shared/http.ts) reads: nonces, idempotency, the client registry. */
function bindHttpStack(fn: HubFunction, platform: HubPlatform): void {
  fn.bindTable(platform.noncesTable, 'NONCES_TABLE', 'readWrite')
    .bindTable(platform.idempotencyTable, 'IDEMPOTENCY_TABLE', 'readWrite')
    .bindSecretRead(platform.clientsSecret, 'HUB_CLIENTS_SECRET_ID');
}
