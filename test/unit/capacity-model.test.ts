import { describe, expect, it } from 'vitest';
import { deploymentOf, MissingInputError, measuredInputsOf } from '../../infra/capacity/inputs';
import { computeCapacity, messagesPerBatch } from '../../infra/capacity/model';
import { ASSUMPTIONS } from '../../infra/capacity/profile';
import { renderReport } from '../../infra/capacity/render';
import { type OperationFixture, privateTemplate, resultsDocument } from './capacity-fixtures';

/**
 * The capacity model against figures computed by hand. A month of 53 days at scale 1 is exactly the 2019 national
 * load (26.78 M verifications, 49.89 M cases), which keeps the arithmetic checkable on paper.
 */
const OPERATIONS: OperationFixture = {
  'auth.verification': { registry: { wcu: 0, rcu: 0.5 } },
  'case.statusChange': { statistics: { wcu: 2, rcu: 0 } },
};
const inputs = measuredInputsOf(resultsDocument(OPERATIONS, { statusChangesPerCase: 3 }));
const deployment = deploymentOf([privateTemplate({ memory: { identity: 1024, rollup: 2048 } })]);
const national = (scale: number) =>
  computeCapacity(inputs, deployment, ASSUMPTIONS, { scale, peakFactor: 2, days: 53 });

describe('capacity model', () => {
  it('plans a 53-day month at scale 1 as exactly the 2019 figures, with the peak at factor × the average second', () => {
    const verifications = national(1).load.find((l) => l.name === 'verifications');
    expect(verifications?.perMonth).toBeCloseTo(26_780_000, 0);
    // 26,780,000 / 53 days / 86,400 s × 2 = 11.696 per second
    expect(verifications?.peakPerSecond).toBeCloseTo(11.696, 3);
    expect(national(1).load.find((l) => l.name === 'caseChanges')?.perMonth).toBeCloseTo(149_670_000, 0);
  });

  it('multiplies each operation’s measured capacity per table by how often it runs, and prices it', () => {
    const registry = national(1).dynamodb.find((t) => t.table === 'registry');
    // 0.5 RCU × 26.78 M verifications = 13.39 M RCU; × $0.125 per million
    expect(registry?.rcu).toBeCloseTo(13_390_000, 0);
    expect(registry?.wcu).toBe(0);
    expect(registry?.usd).toBeCloseTo(1.67375, 5);
    const statistics = national(10).dynamodb.find((t) => t.table === 'statistics');
    // 2 WCU × 3 changes × 49.89 M cases × 10
    expect(statistics?.wcu).toBeCloseTo(2_993_400_000, 0);
  });

  it('sizes Lambda from the template’s memory: invocations, GB-seconds at the stated duration, and cost', () => {
    const identity = national(1).lambda.find((l) => l.function === 'AuthVerification/IdentityFunction');
    expect(identity?.memoryMb).toBe(1024);
    expect(identity?.invocations).toBeCloseTo(26_780_000, 0);
    // 26.78 M × 60 ms × 1 GB = 1,606,800 GB-s; 26.78 × $0.20 + 1,606,800 × $0.0000133334
    expect(identity?.gbSeconds).toBeCloseTo(1_606_800, 0);
    expect(identity?.usd).toBeCloseTo(5.356 + 21.4241, 3);
    expect(national(1).lambda.find((l) => l.function === 'CaseAggregation/RollupFunction')?.memoryMb).toBe(
      2048,
    );
  });

  it('counts a LicenceAccessed event for each retrieval and one more for each download URL handed out', () => {
    const withDownloads = computeCapacity(inputs, deployment, ASSUMPTIONS, {
      scale: 1,
      peakFactor: 2,
      days: 53,
    });
    const without = computeCapacity(
      inputs,
      deployment,
      { ...ASSUMPTIONS, downloadsPerRetrieval: 0 },
      { scale: 1, peakFactor: 2, days: 53 },
    );
    // 2.18 M licence calls in 53 days, all retrievals, one download URL each: 2.18 M more events.
    expect(withDownloads.eventBridge.customEvents - without.eventBridge.customEvents).toBeCloseTo(
      2_180_000,
      0,
    );
  });

  it('fills SQS batches with what reaches each of the 5 pollers within the batching window, up to the batch size', () => {
    const mapping = { memoryMb: 1024, batchSize: 50, batchingWindowSeconds: 1 };
    expect(messagesPerBatch(100, mapping, 5)).toBe(20);
    expect(messagesPerBatch(1_000, mapping, 5)).toBe(50);
    expect(messagesPerBatch(1, mapping, 5)).toBe(1);
    // Batches below the batch size: every poller is invoked once a window, 5 × 53 days × 86,400 s.
    const ingest = national(1).lambda.find((l) => l.function === 'CaseAggregation/IngestFunction');
    expect(ingest?.invocations).toBeCloseTo(22_896_000, 0);
    // Sends in batches of 10 (14.967 M), receives and deletes one per invocation (22.896 M each).
    expect(national(1).sqs.find((q) => q.queue === 'case-ingest')?.requests).toBeCloseTo(60_759_000, 0);
  });

  it('puts the largest province’s share of the statistics on one of STATS_SHARDS partitions, and flags it past 1,000 WCU/s', () => {
    const hot = (scale: number) =>
      national(scale).dynamodb.find((t) => t.table === 'statistics')?.hottestPartition;
    // 299.34 M WCU / 53 d / 86,400 s × 2 = 130.74 WCU/s at peak; × 12 % / 8 shards = 1.961
    expect(hot(1)?.share).toBeCloseTo(0.015, 6);
    expect(hot(1)?.wcuPerSecond).toBeCloseTo(1.961, 3);
    const limit = (scale: number) =>
      national(scale).limits.find((l) => l.name.startsWith('DynamoDB statistics: hottest partition WCU/s'));
    expect(limit(1)?.exceeded).toBe(false);
    expect(limit(1_000)?.exceeded).toBe(true);
    expect(limit(1_000)?.peak).toBeCloseTo(1_961.08, 1);
  });

  it('flags account limits: API Gateway requests per second grow with the scale', () => {
    const api = (scale: number) => national(scale).limits.find((l) => l.name.startsWith('API Gateway'));
    expect(api(1)?.exceeded).toBe(false);
    expect(api(10_000)?.exceeded).toBe(true);
    expect(renderReport(national(10_000))).toMatch(/limit\(s\) EXCEEDED: .*API Gateway/);
  });
});

describe('capacity model inputs', () => {
  it('refuses a results document that lacks a measured operation, naming it and the benchmarks that failed', () => {
    const document = resultsDocument(OPERATIONS, { omit: ['licence.issue', 'rollup.dayProvince'] });
    document.benchmarks.push({ name: 'licence', status: 'failed', figures: [], capacity: [] });
    expect(() => measuredInputsOf(document)).toThrow(MissingInputError);
    expect(() => measuredInputsOf(document)).toThrow(
      /capacity of licence\.issue, capacity of rollup\.dayProvince\. Benchmarks not ok in that run: licence \(failed\)/,
    );
    expect(() => measuredInputsOf({ benchmarks: 'no' })).toThrow(/not a bench results document/);
  });

  it('reads memory sizes, SQS mappings and STATS_SHARDS from the templates, and names a missing function', () => {
    expect(deployment.statsShards).toBe(8);
    expect(deployment.functions.licenceUploads).toEqual({
      memoryMb: 1024,
      batchSize: 10,
      batchingWindowSeconds: 1,
    });
    expect(deployment.functions.identity.batchSize).toBeUndefined();
    expect(() => deploymentOf([privateTemplate({ without: ['rollup'] })])).toThrow(
      /CaseAggregation\/RollupFunction/,
    );
  });
});
