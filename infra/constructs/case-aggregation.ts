import { Duration } from 'aws-cdk-lib';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { HubFunction } from './hub-function';
import type { HubRestApi } from './hub-rest-api';
import { HubTable } from './hub-table';
import type { HubPlatform } from './platform';
import { SqsConsumer } from './sqs-consumer';

export interface CaseAggregationProps {
  platform: HubPlatform;
  api: HubRestApi;
}

const SERVICE_NAME = 'case-aggregate';

/**
 * Case aggregation (办件汇聚), first slice: `POST /v1/cases:batch` validates and enqueues, the ingest
 * consumer applies status changes exactly once with their statistics increments, `GET /v1/cases/{caseId}`
 * reads a case. Owns the cases and stats tables, the ingest queue and its key.
 */
export class CaseAggregation extends Construct {
  readonly key: Key;
  readonly casesTable: HubTable;
  readonly statsTable: HubTable;
  readonly apiFunction: HubFunction;
  readonly ingestFunction: HubFunction;
  readonly ingest: SqsConsumer;

  constructor(scope: Construct, id: string, props: CaseAggregationProps) {
    super(scope, id);
    const { platform } = props;
    const { config } = platform;

    this.key = new Key(this, 'Key', {
      description: `zwfw-hub ${config.stage} case aggregation: cases, statistics, ingest queue`,
      enableKeyRotation: true,
      removalPolicy: config.removalPolicy,
    });
    // gsi1 serves the applicant's own cases (用户空间) by id HMAC.
    this.casesTable = new HubTable(this, 'CasesTable', { config, encryptionKey: this.key, gsi1: true });
    this.statsTable = new HubTable(this, 'StatsTable', { config, encryptionKey: this.key });

    this.apiFunction = new HubFunction(this, 'ApiFunction', {
      platform,
      entry: 'functions/case-aggregate/api.ts',
      serviceName: SERVICE_NAME,
      description: 'Case ingest (POST /v1/cases:batch) and case query (GET /v1/cases/{caseId})',
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

    props.api.addRoute('POST', '/v1/cases:batch', this.apiFunction);
    props.api.addRoute('GET', '/v1/cases/{caseId}', this.apiFunction);
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
