import { Duration } from 'aws-cdk-lib';
import { AttributeType, ProjectionType } from 'aws-cdk-lib/aws-dynamodb';
import type { Rule } from 'aws-cdk-lib/aws-events';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DEFAULT_ABUSE_BURST_THRESHOLD,
  DEFAULT_ABUSE_WINDOW_SECONDS,
} from '../../functions/evaluation-ingest/domain/abuse';
import {
  DEFAULT_CASE_WAIT_SECONDS,
  DEFAULT_LATE_EVALUATION_WORKING_DAYS,
  DEFAULT_RECHECK_SECONDS,
} from '../../functions/evaluation-ingest/domain/rules';
import { DUE_INDEX } from '../../functions/evaluation-ingest/ticket-store';
import { DeadLetterQueue } from './dead-letter-queue';
import { subscribeQueueToEvents } from './event-subscription';
import { HubFunction } from './hub-function';
import type { HubRestApi } from './hub-rest-api';
import { HubSchedule } from './hub-schedule';
import { HubTable } from './hub-table';
import type { HubPlatform } from './platform';
import { SqsConsumer } from './sqs-consumer';
import { bindUserTokenVerification } from './user-tokens';

export interface EvaluationIngestProps {
  platform: HubPlatform;
  api: HubRestApi;
  /** `iss` of the hub's access tokens (auth verification's); `POST /v1/evaluations` accepts only these. */
  tokenIssuer: string;
}

const SERVICE_NAME = 'evaluation-ingest';
const CONSUMER_TIMEOUT = Duration.seconds(30);
/** Daily at 00:30 Asia/Shanghai: yesterday has ended, so every deadline due yesterday can be judged missed. */
export const RECTIFICATION_SWEEP_SCHEDULE = 'cron(30 0 * * ? *)';
/** Working days of each rectification stage (README "Deadlines"): verify, fix, revisit. */
export const RECTIFY_DAYS = { verify: 1, fix: 15, revisit: 5 } as const;
/** Citizens' evaluations from the public cloud: the one entry of the cross-cloud allow-list evaluation ingest takes. */
export const SUBMITTED_EVALUATIONS_PATTERN = {
  source: ['zwfw.evaluation-ingest'],
  detailType: ['EvaluationSubmitted'],
} as const;
/** Where the EventBridge rule's deliveries to the case-events queue come from. */
export const CASE_EVENTS_PATTERN = {
  source: ['zwfw.case-aggregate'],
  detailType: ['CaseStatusChanged'],
} as const;

/**
 * Evaluation ingest (好差评) and the rectification of bad reviews (差评整改): `POST /v1/evaluations:batch`
 * (platforms) and `POST /v1/evaluations` (the citizen app) validate and enqueue, the evaluation consumer judges
 * each against its case, records vote / review / rejection and opens a ticket for each bad vote; a bus rule feeds
 * `CaseStatusChanged` into a queue of its own so the capability learns cases; the rectification API moves tickets
 * and a daily sweep marks missed deadlines. Owns the evaluations and tickets tables, both queues and their key.
 */
export class EvaluationIngest extends Construct {
  readonly key: Key;
  readonly evaluationsTable: HubTable;
  readonly ticketsTable: HubTable;
  readonly apiFunction: HubFunction;
  readonly consumerFunction: HubFunction;
  readonly caseEventsFunction: HubFunction;
  readonly rectificationFunction: HubFunction;
  readonly sweepFunction: HubFunction;
  /** `GET /v1/me/evaluations` (the evaluator's own) and `GET /v1/evaluations/rejections` (a platform's). */
  readonly queryFunction: HubFunction;
  readonly evaluations: SqsConsumer;
  readonly caseEvents: SqsConsumer;
  /** Where EventBridge parks `CaseStatusChanged` it could not put on the case-events queue. */
  readonly caseEventsDeliveryDlq: DeadLetterQueue;
  readonly caseEventsRule: Rule;
  /** Citizens' evaluations from the public cloud (`EvaluationSubmitted`, infra/cross-cloud.ts) onto the evaluation queue. */
  readonly submittedEvaluationsRule: Rule;
  readonly submittedEvaluationsDeliveryDlq: DeadLetterQueue;
  readonly sweepSchedule: HubSchedule;

  constructor(scope: Construct, id: string, props: EvaluationIngestProps) {
    super(scope, id);
    const { platform, api } = props;
    const { config } = platform;

    this.key = new Key(this, 'Key', {
      description: `zwfw-hub ${config.stage} evaluation ingest: evaluations, tickets, queues`,
      enableKeyRotation: true,
      removalPolicy: config.removalPolicy,
    });
    // Cases, votes, reviews, rejections, burst counters (TTL); gsi1: a user's own evaluations, rejections per source.
    this.evaluationsTable = new HubTable(this, 'EvaluationsTable', {
      config,
      encryptionKey: this.key,
      expires: true,
      gsi1: true,
    });
    // gsi1 lists tickets per province; the sparse `due` index holds only tickets the sweep must look at.
    this.ticketsTable = new HubTable(this, 'TicketsTable', { config, encryptionKey: this.key, gsi1: true });
    this.ticketsTable.addGlobalSecondaryIndex({
      indexName: DUE_INDEX.indexName,
      partitionKey: { name: DUE_INDEX.partitionKey, type: AttributeType.STRING },
      sortKey: { name: DUE_INDEX.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.KEYS_ONLY,
    });

    this.consumerFunction = new HubFunction(this, 'ConsumerFunction', {
      platform,
      entry: 'functions/evaluation-ingest/consumer.ts',
      serviceName: SERVICE_NAME,
      description: 'Judges evaluations against their cases: vote, review or rejection, burst flags, tickets',
      timeout: CONSUMER_TIMEOUT,
      memorySize: 1024,
      // A slow batch (throttled table) stops starting submissions halfway and leaves the rest to redelivery,
      // rather than timing out and failing every message of the batch.
      environment: { BATCH_TIME_BUDGET_SECONDS: String(CONSUMER_TIMEOUT.toSeconds() / 2) },
    });
    this.evaluations = new SqsConsumer(this, 'Evaluations', {
      config,
      encryptionKey: this.key,
      alarmTopic: platform.alarmTopic,
      purpose: 'evaluation-ingest',
      impact:
        'Evaluations failed 3 times and are parked: they are neither counted nor rejected, bad reviews among them have no rectification ticket, and no EvaluationReceived was emitted, until the messages are redriven.',
      consumer: this.consumerFunction,
      batchSize: 50,
      maxBatchingWindow: Duration.seconds(1),
    });

    this.caseEventsFunction = new HubFunction(this, 'CaseEventsFunction', {
      platform,
      entry: 'functions/evaluation-ingest/case-events.ts',
      serviceName: SERVICE_NAME,
      description: 'Learns cases from CaseStatusChanged into the evaluations table (commutative merge)',
      timeout: Duration.seconds(30),
      memorySize: 512,
    });
    this.caseEvents = new SqsConsumer(this, 'CaseEvents', {
      config,
      encryptionKey: this.key,
      alarmTopic: platform.alarmTopic,
      purpose: 'evaluation-case-events',
      impact:
        'CaseStatusChanged events failed 3 times and are parked: evaluations of those cases wait (up to CASE_WAIT_SECONDS) and are then rejected case_unknown, until the messages are redriven.',
      consumer: this.caseEventsFunction,
      batchSize: 50,
      maxBatchingWindow: Duration.seconds(1),
    });
    this.caseEventsDeliveryDlq = new DeadLetterQueue(this, 'CaseEventsDeliveryDlq', {
      config,
      encryptionKey: this.key,
      purpose: 'evaluation-case-events-delivery',
      impact:
        'The bus could not deliver CaseStatusChanged to the evaluation case-events queue: evaluations of those cases wait and are then rejected case_unknown, until the events are redriven to that queue.',
      alarmTopic: platform.alarmTopic,
      feeder: 'eventbridge',
    });
    this.caseEventsRule = this.routeCaseEvents(platform);
    this.submittedEvaluationsDeliveryDlq = new DeadLetterQueue(this, 'SubmittedEvaluationsDeliveryDlq', {
      config,
      encryptionKey: this.key,
      purpose: 'evaluation-submissions-delivery',
      impact:
        "The bus could not put citizens' evaluations from the public cloud (EvaluationSubmitted) on the evaluation queue: they are not judged, counted or ticketed until redriven to that queue.",
      alarmTopic: platform.alarmTopic,
      feeder: 'eventbridge',
    });
    this.submittedEvaluationsRule = subscribeQueueToEvents(this, {
      ruleId: 'SubmittedEvaluationsRule',
      description: "Citizens' evaluations forwarded by the public cloud, onto the evaluation queue",
      bus: platform.eventBus,
      pattern: SUBMITTED_EVALUATIONS_PATTERN,
      consumer: this.evaluations,
      deliveryDlq: this.submittedEvaluationsDeliveryDlq,
      // The detail is the queue message the consumer reads (events/evaluation-submitted.v1.ts).
      inputPath: '$.detail',
      key: this.key,
      keyStatementSid: 'EventBridgeSendsSubmittedEvaluations',
      queueStatementSid: 'OnlyTheSubmittedEvaluationsRuleSends',
    });

    this.apiFunction = new HubFunction(this, 'ApiFunction', {
      platform,
      entry: 'functions/evaluation-ingest/api.ts',
      serviceName: SERVICE_NAME,
      description: 'Evaluation batches from platforms: POST /v1/evaluations:batch',
      // A 500-record batch is 50 SendMessageBatch calls; API Gateway gives up at 29 s.
      timeout: Duration.seconds(20),
      memorySize: 1024,
    });
    this.rectificationFunction = new HubFunction(this, 'RectificationFunction', {
      platform,
      entry: 'functions/evaluation-ingest/rectification-api.ts',
      serviceName: SERVICE_NAME,
      description:
        'Rectification tickets: POST /v1/rectifications/{evaluationId}/transitions, GET /v1/rectifications',
      // A national listing may read every province partition once (ticket-store MAX_LIST_READS).
      timeout: Duration.seconds(20),
      memorySize: 512,
    });
    this.sweepFunction = new HubFunction(this, 'SweepFunction', {
      platform,
      entry: 'functions/evaluation-ingest/sweep.ts',
      serviceName: SERVICE_NAME,
      description: 'Daily rectification sweep: marks missed deadlines once, publishes pending ticket events',
      timeout: Duration.minutes(10),
      memorySize: 512,
    });

    this.queryFunction = new HubFunction(this, 'QueryFunction', {
      platform,
      entry: 'functions/evaluation-ingest/query-api.ts',
      serviceName: SERVICE_NAME,
      description:
        "Reads evaluations: a person's own (GET /v1/me/evaluations), a platform's rejections (GET /v1/evaluations/rejections)",
      memorySize: 512,
    });

    this.bindFunctions(platform, props.tokenIssuer, api);
    this.sweepSchedule = new HubSchedule(this, 'RectificationSweepSchedule', {
      config,
      encryptionKey: this.key,
      alarmTopic: platform.alarmTopic,
      purpose: 'rectification-sweep',
      impact:
        'The daily rectification sweep failed after its retries: tickets that missed a deadline are not marked overdue and no RectificationOverdue was announced (nor events left in ticket outboxes), until the sweep runs again (a later run catches up; none twice).',
      expression: RECTIFICATION_SWEEP_SCHEDULE,
      target: this.sweepFunction,
      input: {},
    });

    api.addRoute('POST', '/v1/evaluations:batch', this.apiFunction);
    api.addRoute('POST', '/v1/rectifications/{evaluationId}/transitions', this.rectificationFunction);
    api.addRoute('GET', '/v1/rectifications', this.rectificationFunction);
    api.addRoute('GET', '/v1/me/evaluations', this.queryFunction);
    api.addRoute('GET', '/v1/evaluations/rejections', this.queryFunction);
  }

  get evaluationQueue(): Queue {
    return this.evaluations.queue;
  }

  get evaluationDeadLetterQueue(): Queue {
    return this.evaluations.deadLetterQueue.queue;
  }

  /** `CaseStatusChanged` from the private bus into the case-events queue (see event-subscription.ts). */
  private routeCaseEvents(platform: HubPlatform): Rule {
    return subscribeQueueToEvents(this, {
      ruleId: 'CaseEventsRule',
      description: 'CaseStatusChanged (case aggregation) to the evaluation ingest case-events queue',
      bus: platform.eventBus,
      pattern: CASE_EVENTS_PATTERN,
      consumer: this.caseEvents,
      deliveryDlq: this.caseEventsDeliveryDlq,
      key: this.key,
      keyStatementSid: 'EventBridgeSendsToTheEvaluationQueues',
      queueStatementSid: 'OnlyTheCaseEventsRuleSends',
    });
  }

  private bindFunctions(platform: HubPlatform, tokenIssuer: string, api: HubRestApi): void {
    const { config } = platform;
    const rectify = {
      RECTIFY_VERIFY_DAYS: String(RECTIFY_DAYS.verify),
      RECTIFY_FIX_DAYS: String(RECTIFY_DAYS.fix),
      RECTIFY_REVISIT_DAYS: String(RECTIFY_DAYS.revisit),
      // Deadlines and the late window are working days: the kernel's calendar, as case aggregation's.
      HOLIDAY_CALENDAR: config.holidayCalendar,
    };
    const rules = {
      CASE_WAIT_SECONDS: String(DEFAULT_CASE_WAIT_SECONDS),
      CASE_RECHECK_SECONDS: String(DEFAULT_RECHECK_SECONDS),
      LATE_EVALUATION_WORKING_DAYS: String(DEFAULT_LATE_EVALUATION_WORKING_DAYS),
      ABUSE_WINDOW_SECONDS: String(DEFAULT_ABUSE_WINDOW_SECONDS),
      ABUSE_BURST_THRESHOLD: String(DEFAULT_ABUSE_BURST_THRESHOLD),
    };

    // The consumer sees PII-free messages (ID HMAC, masked id, subject): no secrets. It re-sends waiting
    // evaluations to its own queue, and opens tickets (Put only) in the transaction of the vote.
    this.consumerFunction
      .bindTable(this.evaluationsTable, 'EVALUATIONS_TABLE', 'readWrite')
      .bindTable(this.ticketsTable, 'TICKETS_TABLE', 'write')
      .bindQueueSend(this.evaluations.queue, 'EVALUATION_QUEUE_URL')
      .bindEventBus(platform.eventBus, 'EVENT_BUS_NAME');
    setEnvironment(this.consumerFunction, { ...rules, ...rectify });

    this.caseEventsFunction.bindTable(this.evaluationsTable, 'EVALUATIONS_TABLE', 'readWrite');

    bindHttpStack(this.apiFunction, platform)
      .bindQueueSend(this.evaluations.queue, 'EVALUATION_QUEUE_URL')
      .bindSecretRead(platform.idHmacSecret, 'HUB_ID_HMAC_SECRET_ID');

    bindHttpStack(this.rectificationFunction, platform)
      .bindTable(this.ticketsTable, 'TICKETS_TABLE', 'readWrite')
      .bindEventBus(platform.eventBus, 'EVENT_BUS_NAME');
    setEnvironment(this.rectificationFunction, rectify);

    this.sweepFunction
      .bindTable(this.ticketsTable, 'TICKETS_TABLE', 'readWrite')
      .bindEventBus(platform.eventBus, 'EVENT_BUS_NAME');
    setEnvironment(this.sweepFunction, rectify);

    // Read only: a person's votes and reviews by subject, a platform's rejections by client (gsi1).
    bindHttpStack(this.queryFunction, platform).bindTable(this.evaluationsTable, 'EVALUATIONS_TABLE', 'read');
    bindUserTokenVerification(this.queryFunction, { api, tokenIssuer, stage: config.stage });
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
