import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../shared/identifiers/generate';
import {
  buildCases,
  recordsOf,
  type ScenarioCase,
  shanghaiDay,
  shuffle,
  toShanghaiIso,
} from '../e2e/case-scenario';
import { hubClient } from '../e2e/hub-client';
import { devClient } from '../e2e/support/dev-clients';
import { sendSigned } from '../e2e/support/signed-fetch';
import { startTestHub, type TestHub } from '../e2e/support/test-hub';
import {
  consumerOf,
  crashBusyWorkers,
  deadLettered,
  deadLetterQueueOf,
  privateOutput,
  redriveEverything,
  withRetries,
} from './support';

/**
 * Exactly-once evaluation ingest under faults (issue 9, fast version): the cases are pushed, then one evaluation
 * per completed case is delivered 1–3 times in shuffled order while a fifth of the functions' DynamoDB calls are
 * throttled (half of them ambiguously: applied, yet reported failed), some stall past the visibility timeout,
 * and evaluation-consumer workers are killed mid-batch. The counters case aggregation keeps for the assessment
 * (evaluations, satisfied, bad reviews) must equal what was sent, each vote once; no message may be left over.
 */

const REGION = '440000';
const HOUR = 3_600_000;
/** Cases pushed (about half complete and get a vote); FAULT_CASES=400 makes a stress run of the same test. */
const CASES = Number(process.env.FAULT_CASES ?? 70);

let testHub: TestHub;

beforeAll(async () => {
  testHub = await startTestHub('evaluation-faults', {
    // Long enough for a batch slowed by the SDK's throttling back-off; the 1% of calls stalled past it are redelivered
    // mid-processing on purpose.
    maxVisibilityTimeoutSeconds: 8,
    functionEnvironment: { CASE_RECHECK_SECONDS: '2' },
    faults: {
      dynamodb: { throttleRate: 0.2, ambiguousShare: 0.5, slowRate: 0.01, slowMs: 9_000, seed: 17 },
    },
  });
}, 240_000);

afterAll(async () => {
  await testHub?.stop();
});

const completionOf = (c: ScenarioCase) => c.timeline.find((t) => t.status === 'completed')?.at as Date;

describe('evaluation ingest under injected faults', () => {
  it('counts every vote exactly once, whatever was throttled, redelivered, killed or parked and redriven', async () => {
    const random = seededRandom(5150);
    const cases = buildCases(random, [REGION], CASES).filter((c) =>
      c.timeline.some((t) => t.status === 'completed'),
    );
    const platform = hubClient(testHub.hub.port, `region-${REGION}`);

    const caseRecords = cases.flatMap(recordsOf);
    for (let i = 0; i < caseRecords.length; i += 500) {
      const { response: pushed } = await withRetries(() =>
        platform.post('/v1/cases:batch', { records: caseRecords.slice(i, i + 500) }),
      );
      expect(pushed.status, await pushed.clone().text()).toBe(202);
    }
    await testHub.hub.drained({ timeoutMs: 240_000 });

    // Levels spread over 1..5 without long runs of fives, so no burst flag muddies the counts.
    const votes = cases.map((c, i) => ({
      regionCode: c.base.regionCode,
      caseNumber: c.base.caseNumber,
      level: (i % 5) + 1,
      channel: 'window',
      stage: 'completed',
      evaluator: { type: 'person', idType: 'citizen_id', idNumber: c.base.applicant.idNumber },
      evaluatedAt: toShanghaiIso(new Date(completionOf(c).getTime() + HOUR)),
    }));
    const deliveries = shuffle(
      random,
      votes.flatMap((v) => Array.from({ length: 1 + Math.floor(random() * 3) }, () => v)),
    );

    const stopCrashing = crashBusyWorkers(
      testHub.hub,
      consumerOf(testHub.hub, privateOutput(testHub.hub, 'EvaluationQueueUrl')),
      3,
    );
    for (let i = 0; i < deliveries.length; i += 40) {
      const batch = deliveries.slice(i, i + 40);
      const { response } = await withRetries(() =>
        platform.post('/v1/evaluations:batch', { records: batch }),
      );
      expect(response.status, await response.clone().text()).toBe(202);
      expect(((await response.json()) as { rejected: unknown[] }).rejected).toEqual([]);
    }
    await testHub.hub.drained({ timeoutMs: 300_000 });
    const crashed = stopCrashing();

    const parked = await deadLettered(testHub.hub);
    // The evaluation consumer absorbs the throttling itself — SDK retries with back-off, calls that hang abandoned
    // after 5 s, a batch that stops starting submissions once its time budget is spent — so throttling parks none
    // of its messages. A killed worker fails its whole batch, though, and a batch killed on its every receive is
    // parked whole: at most one batch per kill may be in the DLQ. (Other consumers' DLQs, e.g. case learning's,
    // are redriven below and still balance.)
    const evaluationQueueUrl = privateOutput(testHub.hub, 'EvaluationQueueUrl');
    const evaluationDlq = deadLetterQueueOf(testHub.hub, evaluationQueueUrl);
    const consumerKey = consumerOf(testHub.hub, evaluationQueueUrl);
    const batchSize =
      testHub.hub.model.eventSourceMappings.find((m) => m.functionKey === consumerKey)?.batchSize ?? 0;
    expect(batchSize).toBeGreaterThan(0);
    expect(parked[evaluationDlq] ?? 0, 'evaluations parked').toBeLessThanOrEqual(crashed * batchSize);
    testHub.hub.setDynamoDbFaults({ throttleRate: 0 });
    await redriveEverything(testHub.hub, parked);
    expect(await deadLettered(testHub.hub)).toEqual({});
    const faults = testHub.hub.faultCounters();
    expect(faults?.refused).toBeGreaterThan(0);
    expect(faults?.ambiguous).toBeGreaterThan(0);
    expect(faults?.slowed).toBeGreaterThan(0);

    const days = votes.map((v) => shanghaiDay(new Date(v.evaluatedAt))).sort();
    const query = new URLSearchParams({ from: days[0] as string, to: days.at(-1) as string, region: REGION });
    const { response: stats } = await withRetries(() =>
      sendSigned(testHub.hub.port, devClient(`region-${REGION}`), {
        method: 'GET',
        path: '/v1/stats',
        query: query.toString(),
      }),
    );
    expect(stats.status, await stats.clone().text()).toBe(200);
    const counters = ((await stats.json()) as { total: { counters: Record<string, number> } }).total.counters;
    const { response: refused } = await withRetries(() =>
      sendSigned(testHub.hub.port, devClient(`region-${REGION}`), {
        method: 'GET',
        path: '/v1/evaluations/rejections',
      }),
    );
    // A refusal after the 202 would be named here (none is expected: every case was learnt before its vote).
    expect(((await refused.json()) as { items: unknown[] }).items).toEqual([]);
    expect({
      evaluations: counters.evaluations,
      satisfied: counters.satisfied,
      badReviews: counters.badReviews,
    }).toEqual({
      evaluations: votes.length,
      satisfied: votes.filter((v) => v.level >= 3).length,
      badReviews: votes.filter((v) => v.level <= 2).length,
    });
    console.info(
      `evaluation faults: ${JSON.stringify(faults)}, consumer workers killed: ${crashed}, parked then redriven: ${JSON.stringify(parked)}`,
    );
  }, 600_000);
});
