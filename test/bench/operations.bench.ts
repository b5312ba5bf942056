import { randomBytes, randomUUID } from 'node:crypto';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { subjectOf } from '../../functions/auth-verify/domain/subject';
import { seedSyntheticRegistry } from '../../functions/auth-verify/registry-seed';
import { createRegistryStore } from '../../functions/auth-verify/registry-store';
import { createTokenStore } from '../../functions/auth-verify/token-store';
import { processChanges } from '../../functions/case-aggregate/change-processor';
import {
  countEvaluationEvents,
  type EvaluationEventEnvelope,
  observationOf as evaluationObservationOf,
} from '../../functions/case-aggregate/evaluation-events';
import { rollUpDay } from '../../functions/case-aggregate/rollup';
import { createRollupStore } from '../../functions/case-aggregate/rollup-store';
import { createCaseStore, createEvaluationCountsStore } from '../../functions/case-aggregate/store';
import { processEvaluations } from '../../functions/evaluation-ingest/consumer';
import { createEvaluationStore } from '../../functions/evaluation-ingest/evaluation-store';
import { issueRequestSchema, newLicence } from '../../functions/licence-retrieve/domain/licence';
import { usesOf } from '../../functions/licence-retrieve/domain/uses';
import { createLicenceStore } from '../../functions/licence-retrieve/store';
import { LOCAL_S3_CREDENTIALS } from '../../infra/local/engines/s3';
import type { RunningHub } from '../../infra/local/hub';
import { LOCAL_REGION } from '../../infra/local/model';
import { weekendsOffCalendar } from '../../shared/calendar';
import { type HttpRequest, idempotencyKeyMiddleware } from '../../shared/http/idempotency';
import { validateLicenceId } from '../../shared/identifiers';
import { maskIdNumber, maskName } from '../../shared/masking';
import { NonceStore } from '../../shared/nonce-store';
import { hmacIdentifier } from '../../shared/pii';
import { NONCE_TTL_SECONDS } from '../../shared/signing';
import { lambdaContext } from '../support/api-gateway';
import {
  deliveries,
  EVALUATOR_IDS,
  inMemoryBus,
  messageOf,
  observation,
  processorDeps,
  ticketOpener,
} from '../unit/evaluation-ingest/ingest-fixtures';
import { type CapacityTally, createCapacityMeter } from './support/capacity-meter';
import { caseChangeDeliveries } from './support/case-changes';
import { hubDynamo, hubTableOf } from './support/dynamo';
import { BENCH_HOLDER, benchLicenceId, licenceIssueBody } from './support/licences';
import type { Benchmark, OperationCapacityFigure } from './support/types';

/**
 * Issue 10: the capacity each capability's operations consume, for the capacity model (`npm run hub -- capacity`).
 * Each operation is the capability's own store code (and the HTTP stack's nonce and idempotency layers) run in this
 * process against the local hub's tables — created from the synthesised template, indexes included — through a
 * DynamoDB client that asks every call for ReturnConsumedCapacity (support/capacity-meter.ts; production code is
 * unchanged). Transactions are priced from item sizes, as DynamoDB Local undercounts them (capacity.bench.ts).
 * The case status change itself is capacity.bench.ts's figure.
 */

const SAMPLES = 15;
const BENCH_HMAC_KEY = 'bench-only-id-hmac-key-0123456789abcdef';
const EVALUATION_CLOCK = new Date('2026-11-20T03:00:00.000Z');
const ROLLUP_DAY = '2026-08-05';
const ROLLUP_CASES = 640;

/** Logical table names (the capacity model's) by the variable the functions get the physical name from. */
const TABLE_VARIABLES = {
  NONCES_TABLE: 'nonces',
  IDEMPOTENCY_TABLE: 'idempotency',
  REGISTRY_TABLE: 'registry',
  TOKENS_TABLE: 'tokens',
  LICENCES_TABLE: 'licences',
  CASES_TABLE: 'cases',
  STATS_TABLE: 'statistics',
  EVALUATIONS_TABLE: 'evaluations',
  TICKETS_TABLE: 'tickets',
} as const;
type Logical = (typeof TABLE_VARIABLES)[keyof typeof TABLE_VARIABLES];

const fixed = (n: number) => Number(n.toPrecision(4));

function perOperation(
  operation: string,
  tally: CapacityTally,
  count: number,
  basis: string,
): OperationCapacityFigure {
  if (count <= 0) throw new Error(`${operation}: nothing measured`);
  const tables = Object.fromEntries(
    [...tally].map(([table, t]) => [table, { wcu: fixed(t.wcu / count), rcu: fixed(t.rcu / count) }]),
  );
  const total = (key: 'wcu' | 'rcu') => fixed(Object.values(tables).reduce((sum, t) => sum + t[key], 0));
  if (total('wcu') + total('rcu') === 0) throw new Error(`${operation}: consumed no capacity at all`);
  return { operation, wcu: total('wcu'), rcu: total('rcu'), tables, basis };
}

/** A POST as API Gateway hands it to the idempotency layer: the client's key, an Idempotency-Key and a body. */
function idempotentPost(body: string): HttpRequest {
  const event = {
    httpMethod: 'POST',
    path: '/v1/cases:batch',
    headers: { 'x-hub-key': 'AKBENCHOPS', 'idempotency-key': randomUUID() },
    body,
  } as unknown as APIGatewayProxyEvent;
  return {
    event,
    context: lambdaContext(),
    response: null,
    error: null,
    internal: {},
  } as unknown as HttpRequest;
}

const benchmark: Benchmark = {
  name: 'operations',
  description:
    'Consumed capacity (WCU/RCU) per operation of every capability, for the capacity model: each operation’s own ' +
    'store code run in process against the local hub’s tables (created from the synthesised template) through a ' +
    'DynamoDB client that asks every call for ReturnConsumedCapacity INDEXES; committed transactions priced from ' +
    'item sizes before and after (2 WCU per started KB per item, plus index entries), as DynamoDB Local ' +
    `undercounts them. ${SAMPLES} samples per operation (rollup: one day of all 32 provinces).`,
  async run({ hub: sharedHub, progress }) {
    const hub: RunningHub = await sharedHub();
    const table = (variable: keyof typeof TABLE_VARIABLES) => hubTableOf(hub, variable);
    const logicalNames = Object.fromEntries(
      (Object.keys(TABLE_VARIABLES) as (keyof typeof TABLE_VARIABLES)[]).map((v) => [
        table(v),
        TABLE_VARIABLES[v],
      ]),
    );
    const shards = Number(
      hub.model.functions.find((f) => f.environment.STATS_SHARDS)?.environment.STATS_SHARDS,
    );
    if (!Number.isInteger(shards)) throw new Error('no function of the hub has STATS_SHARDS');
    const meter = createCapacityMeter(hub.endpoints.dynamodb, logicalNames);
    const plain = hubDynamo(hub.endpoints.dynamodb);
    const s3 = new S3Client({
      endpoint: hub.endpoints.s3,
      region: LOCAL_REGION,
      credentials: LOCAL_S3_CREDENTIALS,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    const figures: OperationCapacityFigure[] = [];
    const measure = async (
      operation: string,
      samples: number,
      run: (i: number) => Promise<unknown>,
      basis: string,
    ) => {
      const { tally } = await meter.measure(async () => {
        for (let i = 0; i < samples; i++) await run(i);
      });
      const figure = perOperation(operation, tally, samples, basis);
      progress(`${operation}: ${figure.wcu} WCU, ${figure.rcu} RCU`);
      figures.push(figure);
    };
    const expect = (ok: boolean, what: string) => {
      if (!ok) throw new Error(what);
    };
    const run = `${Date.now().toString(36)}`;

    try {
      // --- the HTTP stack: every signed request, and every idempotent POST ---------------------------------------
      const nonces = new NonceStore(meter.doc, table('NONCES_TABLE'));
      await measure(
        'request.signed',
        SAMPLES,
        async () =>
          expect(
            (await nonces.recordNonce(
              'AKBENCHOPS',
              randomBytes(16).toString('base64url'),
              NONCE_TTL_SECONDS,
            )) === 'recorded',
            'a fresh nonce was refused',
          ),
        'NonceStore.recordNonce (conditional put) as the HTTP stack calls it for every signed request',
      );
      const idempotency = idempotencyKeyMiddleware({
        operation: 'bench.ops',
        persistence: async () =>
          new DynamoDBPersistenceLayer({
            tableName: table('IDEMPOTENCY_TABLE'),
            awsSdkV3Client: meter.client,
          }),
        onReplay: (_request, response) => response,
      });
      const accepted = JSON.stringify({ batchId: randomUUID(), accepted: 100, rejected: [] });
      await measure(
        'request.idempotent',
        SAMPLES,
        async () => {
          const request = idempotentPost(
            JSON.stringify({ records: Array.from({ length: 100 }, (_, i) => ({ i })) }),
          );
          expect((await idempotency.before?.(request)) === undefined, 'a fresh Idempotency-Key was replayed');
          request.response = { statusCode: 202, headers: {}, body: accepted };
          await idempotency.after?.(request);
        },
        'the HTTP stack’s Idempotency-Key layer (Powertools DynamoDB persistence): in-progress record, then the stored 202',
      );

      // --- auth verification ---------------------------------------------------------------------------------
      progress('seeding the registry');
      const registry = await seedSyntheticRegistry({
        doc: plain.doc,
        table: table('REGISTRY_TABLE'),
        key: BENCH_HMAC_KEY,
        persons: SAMPLES,
        enterprises: 0,
        seed: 20_261_201,
      });
      const registryStore = createRegistryStore({ doc: meter.doc, table: table('REGISTRY_TABLE') });
      await measure(
        'auth.verification',
        SAMPLES,
        async (i) => {
          const person = registry.persons[i % registry.persons.length] as { idNumber: string };
          const idHmac = hmacIdentifier(BENCH_HMAC_KEY, 'citizen_id', person.idNumber);
          expect((await registryStore.findPerson(idHmac)) !== undefined, 'a seeded person was not found');
        },
        'registry-store findRecord: one eventually consistent GetItem by the ID HMAC',
      );
      const tokens = createTokenStore({ doc: meter.doc, tableName: table('TOKENS_TABLE') });
      const idHmac = hmacIdentifier(BENCH_HMAC_KEY, 'citizen_id', BENCH_HOLDER.idNumber);
      const sub = subjectOf(idHmac, BENCH_HMAC_KEY);
      const ticketIds = Array.from({ length: SAMPLES }, () => randomBytes(32).toString('base64url'));
      const nowSeconds = () => Math.floor(Date.now() / 1000);
      await measure(
        'auth.ticketIssue',
        SAMPLES,
        (i) =>
          tokens.putTicket({
            ticketId: ticketIds[i] as string,
            clientId: 'region-330000',
            redirectUri: 'https://region-330000.dev.zwfw.local/sso/callback',
            idHmac,
            sub,
            maskedId: maskIdNumber(BENCH_HOLDER.idNumber),
            maskedName: maskName(BENCH_HOLDER.name),
            assuranceLevel: 'L2',
            authMethod: 'password',
            issuedAt: nowSeconds(),
            expiresAt: nowSeconds() + 60,
          }),
        'token-store putTicket: the one-time ticket of a sign-in (conditional put)',
      );
      await measure(
        'auth.tokenIssue',
        SAMPLES,
        async (i) =>
          expect(
            (await tokens.consumeTicket(ticketIds[i] as string, new Date())).outcome === 'consumed',
            'a fresh ticket was not consumed',
          ),
        'token-store consumeTicket: the ticket spent atomically when the platform redeems it for a token',
      );
      await measure(
        'auth.revocation',
        SAMPLES,
        async () =>
          expect(
            (await tokens.recordRevocation({
              jti: randomUUID(),
              sub,
              clientId: 'region-330000',
              revokedBy: 'region-330000',
              revokedAt: new Date(),
              expiresAt: nowSeconds() + 3600,
            })) === 'recorded',
            'a revocation was not recorded',
          ),
        'token-store recordRevocation: the revocation item and its hour-bucket index entry',
      );
      await measure(
        'auth.revocationPoll',
        SAMPLES,
        () => tokens.revokedBetween(new Date(Date.now() - 500), new Date()),
        'token-store revokedBetween over the last 500 ms: what each warm introspecting instance asks twice a second',
      );

      // --- licence retrieval ---------------------------------------------------------------------------------
      const licences = createLicenceStore({ doc: meter.doc, table: table('LICENCES_TABLE') });
      const holder = {
        type: 'person' as const,
        idType: 'citizen_id' as const,
        idHmac,
        sub,
        maskedId: maskIdNumber(BENCH_HOLDER.idNumber),
        maskedName: maskName(BENCH_HOLDER.name),
      };
      const issued = Array.from({ length: SAMPLES }, (_, i) => {
        const id = validateLicenceId(benchLicenceId(`OPS${run}${i}`.toUpperCase().slice(0, 20)));
        if (!id.ok) throw new Error(`bench licence id refused: ${id.reason}`);
        const request = issueRequestSchema.parse(licenceIssueBody(id.value));
        return newLicence({ request, id, holder, issuerClientId: 'issuer-330000-amr', now: new Date() });
      });
      await measure(
        'licence.issue',
        SAMPLES,
        async (i) =>
          expect(
            (await licences.putLicence(issued[i] as (typeof issued)[number])) === 'created',
            'not created',
          ),
        'licence store putLicence: the licence item and its holder index entry (gsi1, projection ALL)',
      );
      await measure(
        'licence.fileRecorded',
        SAMPLES,
        async (i) =>
          expect(
            (await licences.recordFile((issued[i] as (typeof issued)[number]).licenceId, {
              state: 'recorded',
              digests: { sha256: randomBytes(32).toString('hex') },
              size: 200 * 1024,
              recordedAt: new Date().toISOString(),
            })) === 'recorded',
            'a file was not recorded',
          ),
        'licence store recordFile: the uploaded file’s digest recorded once (conditional update; rewrites the index entry)',
      );
      await measure(
        'licence.retrieval',
        SAMPLES,
        async (i) => {
          const licence = await licences.getLicence((issued[i] as (typeof issued)[number]).licenceId);
          expect(licence !== undefined, 'an issued licence was not found');
          await licences.recordUses(
            usesOf({
              licences: [licence as NonNullable<typeof licence>],
              operations: ['fetch', 'download_url'],
              client: { clientId: 'region-330000', name: '浙江省政务服务平台' },
              authorisation: { kind: 'holder_token', sub, jti: randomUUID() },
              reason: '办理企业变更登记',
              now: new Date(),
              correlationId: randomUUID(),
            }),
          );
        },
        'GET /v1/licences/{id} of a recorded licence: getLicence (strongly consistent) and its two use records (fetch, download_url) in one BatchWriteItem',
      );
      const caseIds = Array.from({ length: SAMPLES }, (_, i) => `330000:OPS${run}${i}`);
      await measure(
        'licence.caseObserved',
        SAMPLES,
        (i) =>
          licences.recordCaseStatus(
            {
              caseId: caseIds[i] as string,
              regionCode: '330106',
              departmentCode: '11330000002593947X',
              applicantIdHmac: idHmac,
              status: 'accepted',
            },
            new Date(),
          ),
        'licence store recordCaseStatus: one update per CaseStatusChanged (the case that may authorise a retrieval)',
      );
      await measure(
        'licence.caseAuthorisation',
        SAMPLES,
        async (i) =>
          expect((await licences.getCase(caseIds[i] as string)) !== undefined, 'a known case was not found'),
        'licence store getCase: the extra read of a retrieval authorised by a case (strongly consistent)',
      );

      // --- evaluation ingest -----------------------------------------------------------------------------------
      const evaluations = createEvaluationStore({
        doc: meter.doc,
        evaluationsTable: table('EVALUATIONS_TABLE'),
      });
      const caseNumbers = Array.from({ length: 2 * SAMPLES }, (_, i) => `OPS-${run}-${i}`);
      await measure(
        'evaluation.caseObserved',
        caseNumbers.length * 2,
        (i) =>
          evaluations.recordCaseStatus(
            i % 2 === 0
              ? observation('accepted', '2026-11-18T08:00:00.000Z', caseNumbers[i >> 1])
              : observation('completed', '2026-11-19T08:00:00.000Z', caseNumbers[i >> 1]),
            EVALUATION_CLOCK,
          ),
        'evaluation store recordCaseStatus: one merge per CaseStatusChanged (accepted, then completed)',
      );
      const bus = inMemoryBus();
      const consumer = processorDeps({
        store: evaluations,
        publish: bus.publish,
        openTicket: ticketOpener(table('TICKETS_TABLE')),
        clock: () => EVALUATION_CLOCK,
      });
      const evaluate = async (i: number, level: number) => {
        const message = messageOf({
          caseNumber: caseNumbers[i] as string,
          evaluatorId: EVALUATOR_IDS[i] as string,
          level,
          clientId: `bench-${run}-${level}`,
        });
        const report = await processEvaluations(consumer, deliveries([message]));
        expect(report.dispositions.vote === 1, `evaluation ${i} was not recorded as a vote`);
      };
      await measure(
        'evaluation.vote',
        SAMPLES,
        (i) => evaluate(i, 5),
        'processEvaluations of one level-5 vote on a completed case: submissions read, case read, burst counter joined (below its threshold), vote transaction',
      );
      await measure(
        'evaluation.badReview',
        SAMPLES,
        (i) => evaluate(SAMPLES + i, 1),
        'processEvaluations of one level-1 vote: the vote and its rectification ticket in one transaction',
      );
      const counts = createEvaluationCountsStore({ doc: meter.doc, statsTable: table('STATS_TABLE') });
      const observed = bus.events.flatMap((event, i) => {
        const envelope = { 'detail-type': event.detailType, detail: event.detail } as EvaluationEventEnvelope;
        const observation = evaluationObservationOf(envelope);
        return observation ? [{ messageId: `ops-${i}`, observation }] : [];
      });
      await measure(
        'case.evaluationCounted',
        observed.length,
        async (i) => {
          const report = await countEvaluationEvents({ store: counts, shards }, [
            observed[i] as (typeof observed)[number],
          ]);
          expect(
            [...report.outcomes.values()].every((o) => o === undefined),
            'an evaluation event was not counted',
          );
        },
        `countEvaluationEvents of one EvaluationReceived or BadReviewOpened (${observed.length} events of the votes above): marker and statistics buckets in one transaction`,
      );

      // --- rollup -----------------------------------------------------------------------------------------------
      progress(`seeding statistics buckets with ${ROLLUP_CASES} cases`);
      const caseStore = createCaseStore({
        doc: plain.doc,
        casesTable: table('CASES_TABLE'),
        statsTable: table('STATS_TABLE'),
      });
      const seeded = caseChangeDeliveries({
        round: 900,
        cases: ROLLUP_CASES,
        deliveriesPerChange: 1,
        now: new Date(),
      });
      for (let i = 0; i < seeded.deliveries.length; i += 50) {
        const report = await processChanges(
          {
            store: caseStore,
            publish: async () => undefined,
            clock: () => new Date(),
            statistics: { shards, calendar: weekendsOffCalendar },
          },
          seeded.deliveries.slice(i, i + 50),
        );
        expect(
          [...report.outcomes.values()].every((o) => o === undefined),
          'seeding changes failed',
        );
      }
      const rollupStore = createRollupStore({
        doc: meter.doc,
        statsTable: table('STATS_TABLE'),
        shards,
        snapshots: { s3, bucket: hubTableOf(hub, 'ASSESSMENTS_BUCKET') },
      });
      let cells = 0;
      const { tally } = await meter.measure(async () => {
        const report = await rollUpDay(
          {
            store: rollupStore,
            publish: async () => undefined,
            clock: () => new Date(),
            correlationId: randomUUID(),
          },
          ROLLUP_DAY,
        );
        cells = report.cells;
      });
      expect(cells > 0, `the rollup of ${ROLLUP_DAY} found no statistics buckets`);
      const rollup = perOperation(
        'rollup.dayProvince',
        tally,
        32,
        `rollUpDay of ${ROLLUP_DAY} (32 provinces × ${shards} shard partitions, ${cells} cells from ${ROLLUP_CASES} generated cases), divided by 32; a province-day with more items reads and writes more`,
      );
      progress(`rollup.dayProvince: ${rollup.wcu} WCU, ${rollup.rcu} RCU (${cells} cells)`);
      figures.push(rollup);

      const byTable = (logical: Logical) =>
        figures
          .filter((f) => f.tables[logical])
          .map((f) => f.operation)
          .join(', ');
      return {
        status: 'ok',
        figures: [],
        capacity: figures,
        notes: [
          `Tables touched: ${(Object.values(TABLE_VARIABLES) as Logical[]).map((t) => `${t} (${byTable(t) || 'none here'})`).join('; ')}.`,
          'Conditional writes that fail consume capacity on the service but DynamoDB Local returns no ConsumedCapacity with the error: none of the measured operations fails its condition.',
        ],
      };
    } finally {
      meter.destroy();
      plain.client.destroy();
      s3.destroy();
    }
  },
};

export default benchmark;
