import { LIMITS, type Limits } from './limits';
import { PRICES, type PriceTable } from './prices';
import { type Assumptions, type ConsumerRole, NATIONAL_2019 } from './profile';

/**
 * The capacity model (`npm run hub -- capacity`): from the capacity each operation consumed in the latest bench run
 * and a load profile (profile.ts) × scale, what a month of national traffic asks of every service, what it costs
 * on demand (prices.ts) and which limit (limits.ts) it would exceed. Pure: no file, clock or network here.
 */

/** Operations whose consumed capacity the bench measures (test/bench/operations.bench.ts, capacity.bench.ts). */
export const MEASURED_OPERATIONS = [
  'request.signed',
  'request.idempotent',
  'auth.verification',
  'auth.ticketIssue',
  'auth.tokenIssue',
  'auth.revocation',
  'auth.revocationPoll',
  'licence.issue',
  'licence.fileRecorded',
  'licence.retrieval',
  'licence.caseAuthorisation',
  'licence.caseObserved',
  'case.statusChange',
  'evaluation.caseObserved',
  'evaluation.vote',
  'evaluation.badReview',
  'case.evaluationCounted',
  'rollup.dayProvince',
] as const;
export type OperationName = (typeof MEASURED_OPERATIONS)[number];

/** Measured quantities other than capacity the model needs. */
export const MEASURED_QUANTITIES = ['case.statusChangesPerCase'] as const;
export type QuantityName = (typeof MEASURED_QUANTITIES)[number];

export interface TableCapacity {
  wcu: number;
  rcu: number;
}

export interface OperationCapacity extends TableCapacity {
  /** Per logical table (nonces, registry, cases, statistics…). */
  tables: Record<string, TableCapacity>;
}

export interface MeasuredInputs {
  operations: Record<OperationName, OperationCapacity>;
  quantities: Record<QuantityName, number>;
}

/** Functions by their CDK construct path inside the stack (e.g. `AuthVerification/IdentityFunction`). */
export const FUNCTIONS = {
  identity: 'AuthVerification/IdentityFunction',
  tokens: 'AuthVerification/TokensFunction',
  authorizer: 'AuthVerification/AuthorizerFunction',
  caseApi: 'CaseAggregation/ApiFunction',
  caseIngest: 'CaseAggregation/IngestFunction',
  evaluationEvents: 'CaseAggregation/EvaluationEventsFunction',
  rollup: 'CaseAggregation/RollupFunction',
  evaluationApi: 'EvaluationIngest/ApiFunction',
  evaluationConsumer: 'EvaluationIngest/ConsumerFunction',
  evaluationCaseEvents: 'EvaluationIngest/CaseEventsFunction',
  licenceIssuing: 'LicenceRetrieval/IssuingFunction',
  licenceRetrieval: 'LicenceRetrieval/RetrievalFunction',
  licenceUploads: 'LicenceRetrieval/UploadEventsFunction',
  licenceCaseEvents: 'LicenceRetrieval/CaseEventsFunction',
} as const;
export type FunctionKey = keyof typeof FUNCTIONS;

export interface FunctionSpec {
  memoryMb: number;
  /** SQS event-source mapping, for consumers. */
  batchSize?: number;
  batchingWindowSeconds?: number;
}

export interface Deployment {
  functions: Record<FunctionKey, FunctionSpec>;
  /** STATS_SHARDS of the case consumer: partitions per (province, day) of the statistics buckets. */
  statsShards: number;
}

export interface ModelOptions {
  scale: number;
  peakFactor: number;
  /** Days in the modelled month. */
  days: number;
}

export interface LoadLine {
  name: string;
  perMonth: number;
  peakPerSecond: number;
}

export interface LambdaLine {
  function: string;
  memoryMb: number;
  invocations: number;
  gbSeconds: number;
  peakConcurrency: number;
  usd: number;
}

export interface TableLine {
  table: string;
  wcu: number;
  rcu: number;
  peakWcuPerSecond: number;
  peakRcuPerSecond: number;
  /**
   * The busiest partition: which, its share of the table's peak, and its own peak rates. `byDesign` when the key
   * design concentrates load (checked against the partition limits); otherwise keys spread by hash and on-demand
   * splits partitions as the load grows, so no partition limit can be reached by volume alone.
   */
  hottestPartition: {
    key: string;
    share: number;
    wcuPerSecond: number;
    rcuPerSecond: number;
    byDesign: boolean;
  };
  usd: number;
}

export interface QueueLine {
  queue: string;
  messages: number;
  requests: number;
  peakInFlight: number;
  usd: number;
}

export interface LimitCheck {
  name: string;
  limit: number;
  peak: number;
  exceeded: boolean;
}

export interface CapacityReport {
  options: ModelOptions;
  region: string;
  pricesAsOf: string;
  load: LoadLine[];
  lambda: LambdaLine[];
  dynamodb: TableLine[];
  sqs: QueueLine[];
  apiGateway: { requests: number; peakPerSecond: number; usd: number };
  eventBridge: { customEvents: number; serviceEvents: number; peakPutEventsPerSecond: number; usd: number };
  s3: { putRequests: number; getRequests: number; storageGbAddedPerMonth: number; usd: number };
  cost: { service: string; usd: number }[];
  totalUsd: number;
  limits: LimitCheck[];
}

const SECONDS_PER_DAY = 86_400;

/** Counts per day at scale 1 of what the 2019 figures name. */
function dailyBase() {
  const perDay = (n: number) => n / NATIONAL_2019.days;
  return {
    verifications: perDay(NATIONAL_2019.verifications),
    licenceRetrievals: perDay(NATIONAL_2019.licenceCalls),
    cases: perDay(NATIONAL_2019.cases),
  };
}

/** Every counted thing of a month, per day (scaled); peaks follow from the per-second average × peak factor. */
function dailyLoad(inputs: MeasuredInputs, assumptions: Assumptions, scale: number) {
  const base = dailyBase();
  const cases = base.cases * scale;
  const changes = cases * inputs.quantities['case.statusChangesPerCase'];
  const evaluations = cases * assumptions.evaluationsPerCase;
  const verifications = base.verifications * scale;
  const signIns = verifications * assumptions.signInsPerVerification;
  const licenceIssues = cases * assumptions.licencesIssuedPerCase;
  return {
    verifications,
    signIns,
    introspections: signIns * assumptions.introspectionsPerSignIn,
    revocations: signIns * assumptions.revocationsPerSignIn,
    licenceRetrievals: base.licenceRetrievals * scale,
    licenceIssues,
    cases,
    caseChanges: changes,
    caseBatches: changes / assumptions.caseRecordsPerBatch,
    evaluations,
    badReviews: evaluations * assumptions.badReviewShare,
    evaluationBatches: evaluations / assumptions.evaluationRecordsPerBatch,
    rollupProvinceDays: NATIONAL_2019.regions,
  };
}
type DailyLoad = ReturnType<typeof dailyLoad>;

/** One queue consumed by a Lambda event-source mapping. */
interface QueueFlow {
  queue: string;
  consumer: FunctionKey;
  role: ConsumerRole;
  messagesPerDay: number;
  /** Messages per send request: 10 for an API's SendMessageBatch, 1 for an EventBridge target. */
  messagesPerSend: number;
}

function queueFlows(load: DailyLoad): QueueFlow[] {
  return [
    {
      queue: 'case-ingest',
      consumer: 'caseIngest',
      role: 'caseIngest',
      messagesPerDay: load.caseChanges,
      messagesPerSend: 10,
    },
    {
      queue: 'licence case-events',
      consumer: 'licenceCaseEvents',
      role: 'caseEvents',
      messagesPerDay: load.caseChanges,
      messagesPerSend: 1,
    },
    {
      queue: 'evaluation case-events',
      consumer: 'evaluationCaseEvents',
      role: 'caseEvents',
      messagesPerDay: load.caseChanges,
      messagesPerSend: 1,
    },
    {
      queue: 'evaluations',
      consumer: 'evaluationConsumer',
      role: 'evaluations',
      messagesPerDay: load.evaluations,
      messagesPerSend: 10,
    },
    {
      queue: 'case evaluation-events',
      consumer: 'evaluationEvents',
      role: 'evaluationEvents',
      messagesPerDay: load.evaluations,
      messagesPerSend: 1,
    },
    {
      queue: 'licence uploads',
      consumer: 'licenceUploads',
      role: 'licenceUploads',
      messagesPerDay: load.licenceIssues,
      messagesPerSend: 1,
    },
  ];
}

/**
 * Messages per invocation of an SQS mapping: what arrives at a poller within the batching window (the queue's
 * average rate shared by the pollers), at least one and at most the batch size.
 */
export function messagesPerBatch(ratePerSecond: number, spec: FunctionSpec, pollers: number): number {
  const batchSize = spec.batchSize ?? 10;
  const window = Math.max(spec.batchingWindowSeconds ?? 0, 1);
  return Math.min(batchSize, Math.max(1, (ratePerSecond * window) / pollers));
}

/** Operation counts per day: how often each measured operation runs. */
function operationCounts(
  load: DailyLoad,
  assumptions: Assumptions,
  tokenInstances: number,
): Record<OperationName, number> {
  const signedRequests =
    load.verifications +
    load.signIns + // ticket validation
    load.introspections +
    load.revocations +
    load.licenceRetrievals +
    load.licenceIssues +
    load.caseBatches +
    load.evaluationBatches;
  return {
    'request.signed': signedRequests,
    'request.idempotent': load.licenceIssues + load.caseBatches + load.evaluationBatches,
    'auth.verification': load.verifications,
    'auth.ticketIssue': load.signIns,
    'auth.tokenIssue': load.signIns,
    'auth.revocation': load.revocations,
    'auth.revocationPoll': tokenInstances * assumptions.revocationPollsPerSecondPerInstance * SECONDS_PER_DAY,
    'licence.issue': load.licenceIssues,
    'licence.fileRecorded': load.licenceIssues,
    'licence.retrieval': load.licenceRetrievals,
    'licence.caseAuthorisation': load.licenceRetrievals * assumptions.caseAuthorisedRetrievalShare,
    'licence.caseObserved': load.caseChanges,
    'case.statusChange': load.caseChanges,
    'evaluation.caseObserved': load.caseChanges,
    'evaluation.vote': load.evaluations - load.badReviews,
    'evaluation.badReview': load.badReviews,
    // EvaluationReceived of every vote, and BadReviewOpened of a bad one, are each counted.
    'case.evaluationCounted': load.evaluations + load.badReviews,
    'rollup.dayProvince': load.rollupProvinceDays,
  };
}

interface ApiFlow {
  function: FunctionKey;
  requestsPerDay: number;
}

function apiFlows(load: DailyLoad): ApiFlow[] {
  return [
    { function: 'identity', requestsPerDay: load.verifications },
    { function: 'tokens', requestsPerDay: load.signIns * 2 + load.introspections + load.revocations },
    { function: 'licenceRetrieval', requestsPerDay: load.licenceRetrievals },
    { function: 'licenceIssuing', requestsPerDay: load.licenceIssues },
    { function: 'caseApi', requestsPerDay: load.caseBatches },
    { function: 'evaluationApi', requestsPerDay: load.evaluationBatches },
  ];
}

function events(load: DailyLoad, assumptions: Assumptions) {
  // Entries per PutEvents call: API functions publish their request's events in one call; consumers a batch's.
  const api = {
    IdentityVerified: load.verifications,
    TicketIssued: load.signIns,
    TokenRevoked: load.revocations,
    LicenceIssued: load.licenceIssues,
    // One use record and event for the fetch, and one more for each download URL handed out with it.
    LicenceAccessed: load.licenceRetrievals * (1 + assumptions.downloadsPerRetrieval),
  };
  const consumers = {
    CaseReceived: load.cases,
    CaseStatusChanged: load.caseChanges,
    EvaluationReceived: load.evaluations,
    BadReviewOpened: load.badReviews,
    AssessmentPublished: 1,
  };
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  return {
    custom: sum(api) + sum(consumers),
    apiPutEvents: sum(api),
    consumerEntries: sum(consumers),
    // S3 "Object Created" on the default bus: an AWS service event, not billed.
    service: load.licenceIssues,
  };
}

const round = (n: number) => Math.round(n * 100) / 100;

export function computeCapacity(
  inputs: MeasuredInputs,
  deployment: Deployment,
  assumptions: Assumptions,
  options: ModelOptions,
  prices: PriceTable = PRICES,
  limits: Limits = LIMITS,
): CapacityReport {
  const { days, peakFactor } = options;
  const load = dailyLoad(inputs, assumptions, options.scale);
  const perMonth = (perDay: number) => perDay * days;
  const peak = (perDay: number) => (perDay / SECONDS_PER_DAY) * peakFactor;
  const spec = (key: FunctionKey) => deployment.functions[key];

  // Lambda: API functions, the authorizer, SQS consumers and the rollup.
  const lambdaUse = new Map<
    FunctionKey,
    { invocationsPerDay: number; msEach: number; peakConcurrency: number }
  >();
  const api = apiFlows(load);
  for (const flow of api) {
    const ms = assumptions.durations.apiRequestMs;
    lambdaUse.set(flow.function, {
      invocationsPerDay: flow.requestsPerDay,
      msEach: ms,
      peakConcurrency: peak(flow.requestsPerDay) * (ms / 1000),
    });
  }
  const authorizerPerDay = assumptions.clients * (SECONDS_PER_DAY / assumptions.authorizerCacheSeconds);
  lambdaUse.set('authorizer', {
    invocationsPerDay: authorizerPerDay,
    msEach: assumptions.durations.authorizerMs,
    peakConcurrency: (authorizerPerDay / SECONDS_PER_DAY) * (assumptions.durations.authorizerMs / 1000),
  });
  const queues: QueueLine[] = [];
  for (const flow of queueFlows(load)) {
    const consumer = spec(flow.consumer);
    const averageRate = flow.messagesPerDay / SECONDS_PER_DAY;
    const perBatch = messagesPerBatch(averageRate, consumer, assumptions.sqsPollers);
    const peakPerBatch = messagesPerBatch(peak(flow.messagesPerDay), consumer, assumptions.sqsPollers);
    const batchMs = (n: number) =>
      assumptions.durations.consumerBaseMs + n * assumptions.durations.perMessageMs[flow.role];
    const peakInvocationsPerSecond = peak(flow.messagesPerDay) / peakPerBatch;
    lambdaUse.set(flow.consumer, {
      invocationsPerDay: flow.messagesPerDay / perBatch,
      msEach: batchMs(perBatch),
      peakConcurrency: peakInvocationsPerSecond * (batchMs(peakPerBatch) / 1000),
    });
    // Requests: sends, receives (≤ 10 messages each, at least the idle long polls), deletes (batches of ≤ 10).
    const messagesPerReceive = Math.min(10, perBatch);
    const idlePolls = assumptions.sqsPollers * (SECONDS_PER_DAY / assumptions.sqsLongPollSeconds);
    const requestsPerDay =
      flow.messagesPerDay / flow.messagesPerSend +
      Math.max(flow.messagesPerDay / messagesPerReceive, idlePolls) +
      flow.messagesPerDay / messagesPerReceive;
    queues.push({
      queue: flow.queue,
      messages: perMonth(flow.messagesPerDay),
      requests: perMonth(requestsPerDay),
      // Received and not yet deleted: the peak rate over one batch's window and processing time.
      peakInFlight:
        peak(flow.messagesPerDay) *
        (Math.max(consumer.batchingWindowSeconds ?? 0, 0) + batchMs(peakPerBatch) / 1000),
      usd: perMonth(requestsPerDay) * prices.sqs.request,
    });
  }
  lambdaUse.set('rollup', {
    invocationsPerDay: 1,
    msEach: assumptions.durations.rollupPerDayMs,
    peakConcurrency: 1,
  });
  const lambda: LambdaLine[] = [...lambdaUse].map(([key, use]) => {
    const memoryMb = spec(key).memoryMb;
    const invocations = perMonth(use.invocationsPerDay);
    const gbSeconds = invocations * (use.msEach / 1000) * (memoryMb / 1024);
    return {
      function: FUNCTIONS[key],
      memoryMb,
      invocations,
      gbSeconds,
      peakConcurrency: use.peakConcurrency,
      usd: invocations * prices.lambda.request + gbSeconds * prices.lambda.gbSecondArm64,
    };
  });

  // DynamoDB: each operation's measured capacity per table × how often it runs.
  const tokenInstances = Math.max(1, Math.ceil(lambdaUse.get('tokens')?.peakConcurrency ?? 0));
  const counts = operationCounts(load, assumptions, tokenInstances);
  const tables = new Map<string, { wcu: number; rcu: number }>();
  for (const name of MEASURED_OPERATIONS) {
    for (const [table, capacity] of Object.entries(inputs.operations[name].tables)) {
      const sum = tables.get(table) ?? { wcu: 0, rcu: 0 };
      sum.wcu += capacity.wcu * counts[name];
      sum.rcu += capacity.rcu * counts[name];
      tables.set(table, sum);
    }
  }
  const dynamodb: TableLine[] = [...tables]
    .map(([table, perDay]) => {
      const peakWcu = peak(perDay.wcu);
      const peakRcu = peak(perDay.rcu);
      return {
        table,
        wcu: perMonth(perDay.wcu),
        rcu: perMonth(perDay.rcu),
        peakWcuPerSecond: peakWcu,
        peakRcuPerSecond: peakRcu,
        hottestPartition: hottestPartition(table, peakWcu, peakRcu, deployment, assumptions, limits),
        usd:
          perMonth(perDay.wcu) * prices.dynamodb.writeRequestUnit +
          perMonth(perDay.rcu) * prices.dynamodb.readRequestUnit,
      };
    })
    .sort((a, b) => a.table.localeCompare(b.table));

  const apiRequestsPerDay = api.reduce((sum, flow) => sum + flow.requestsPerDay, 0);
  const apiGateway = {
    requests: perMonth(apiRequestsPerDay),
    peakPerSecond: peak(apiRequestsPerDay),
    usd: perMonth(apiRequestsPerDay) * prices.apiGateway.restRequest,
  };
  const published = events(load, assumptions);
  const eventBridge = {
    customEvents: perMonth(published.custom),
    serviceEvents: perMonth(published.service),
    // An API request publishes its events in one call; a consumer batch's events go 10 to a call.
    peakPutEventsPerSecond: peak(published.apiPutEvents) + peak(published.consumerEntries) / 10,
    usd: perMonth(published.custom) * prices.eventBridge.customEvent,
  };
  const putsPerDay = load.licenceIssues + 4; // files, and the day's JSON + CSV snapshots (with the month's)
  const getsPerDay = load.licenceIssues + load.licenceRetrievals * assumptions.downloadsPerRetrieval;
  const storageGb = (perMonth(load.licenceIssues) * assumptions.licenceFileBytes) / 1024 ** 3;
  const s3 = {
    putRequests: perMonth(putsPerDay),
    getRequests: perMonth(getsPerDay),
    storageGbAddedPerMonth: storageGb,
    // The month's new files are stored on average half the month.
    usd:
      perMonth(putsPerDay) * prices.s3.putRequest +
      perMonth(getsPerDay) * prices.s3.getRequest +
      (storageGb / 2) * prices.s3.storageGbMonth,
  };

  const sumUsd = (lines: { usd: number }[]) => lines.reduce((sum, line) => sum + line.usd, 0);
  const cost = [
    { service: 'Lambda', usd: sumUsd(lambda) },
    { service: 'API Gateway', usd: apiGateway.usd },
    { service: 'DynamoDB', usd: sumUsd(dynamodb) },
    { service: 'SQS', usd: sumUsd(queues) },
    { service: 'EventBridge', usd: eventBridge.usd },
    { service: 'S3', usd: s3.usd },
  ].map((c) => ({ ...c, usd: round(c.usd) }));

  const concurrency = lambda.reduce((sum, line) => sum + line.peakConcurrency, 0);
  const limitChecks: LimitCheck[] = [
    ...dynamodb
      .filter((t) => t.hottestPartition.byDesign)
      .flatMap((t) => [
        check(
          `DynamoDB ${t.table}: hottest partition WCU/s (${t.hottestPartition.key})`,
          limits.partitionWcuPerSecond,
          t.hottestPartition.wcuPerSecond,
        ),
        check(
          `DynamoDB ${t.table}: hottest partition RCU/s (${t.hottestPartition.key})`,
          limits.partitionRcuPerSecond,
          t.hottestPartition.rcuPerSecond,
        ),
      ]),
    check('Lambda concurrent executions (account)', limits.lambdaConcurrency, concurrency),
    check('API Gateway requests/s (account)', limits.apiGatewayRequestsPerSecond, apiGateway.peakPerSecond),
    check(
      'EventBridge PutEvents requests/s',
      limits.eventBridgePutEventsPerSecond,
      eventBridge.peakPutEventsPerSecond,
    ),
    ...queues.map((q) =>
      check(`SQS ${q.queue}: messages in flight`, limits.sqsInFlightMessages, q.peakInFlight),
    ),
  ];

  const loadLines: LoadLine[] = Object.entries(load).map(([name, perDay]) => ({
    name,
    perMonth: perMonth(perDay),
    peakPerSecond: peak(perDay),
  }));

  return {
    options,
    region: prices.region,
    pricesAsOf: prices.asOf,
    load: loadLines,
    lambda,
    dynamodb,
    sqs: queues,
    apiGateway,
    eventBridge,
    s3,
    cost,
    totalUsd: round(cost.reduce((sum, c) => sum + c.usd, 0)),
    limits: limitChecks,
  };
}

const check = (name: string, limit: number, peak: number): LimitCheck => ({
  name,
  limit,
  peak,
  exceeded: peak > limit,
});

/**
 * The busiest partition of a table at peak. The statistics buckets of a (province, day) are spread over
 * STATS_SHARDS partitions and every change of the day lands in the day's buckets, so the largest province's share of
 * the table divided by the shards is what one partition takes. Every other table is keyed by a hash of an id, case,
 * holder or nonce: its load spreads evenly over the partitions its peak needs.
 */
export function hottestPartition(
  table: string,
  peakWcu: number,
  peakRcu: number,
  deployment: Deployment,
  assumptions: Assumptions,
  limits: Limits = LIMITS,
): TableLine['hottestPartition'] {
  if (table === 'statistics') {
    const share = assumptions.largestProvinceShare / deployment.statsShards;
    return {
      key: `STATS#{largest province}#{today}#{shard of ${deployment.statsShards}}`,
      share,
      wcuPerSecond: peakWcu * share,
      rcuPerSecond: peakRcu * share,
      byDesign: true,
    };
  }
  const partitions = Math.max(
    1,
    Math.ceil(peakWcu / limits.partitionWcuPerSecond),
    Math.ceil(peakRcu / limits.partitionRcuPerSecond),
  );
  return {
    key: `any of ${partitions} (keys spread by hash)`,
    share: 1 / partitions,
    wcuPerSecond: peakWcu / partitions,
    rcuPerSecond: peakRcu / partitions,
    byDesign: false,
  };
}
