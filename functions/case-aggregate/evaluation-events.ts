import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { badReviewOpenedV1 } from '../../events/bad-review-opened.v1';
import { envelopeOf } from '../../events/envelope';
import { evaluationReceivedV1 } from '../../events/evaluation-received.v1';
import { rectificationTransitionedV1 } from '../../events/rectification-transitioned.v1';
import { dynamoDbClients } from '../../shared/aws/dynamodb';
import { loadConfig, positiveInt, tableName } from '../../shared/config';
import { once } from '../../shared/entry';
import { sqsBatchConsumer } from '../../shared/sqs-consumer';
import {
  contributionDelta,
  type EvaluationObservation,
  type EvaluationWrite,
  evaluationContribution,
  observeAll,
  planEvaluationCommits,
} from './domain/evaluation-counts';
import { createEvaluationCountsStore, type EvaluationCountsStore, type EvaluationMarker } from './store';

/**
 * Counts the evaluation capability's events into the statistics buckets (README "Evaluation counters"): a bus rule
 * sends `EvaluationReceived`, `BadReviewOpened` and `RectificationTransitioned` (source `zwfw.evaluation-ingest`) to
 * this consumer's queue, one envelope per message. Per batch the events are grouped by evaluation, the markers loaded,
 * the facts applied in memory and each changed marker committed with its bucket increments in one transaction
 * conditioned on the marker's version — exactly once, whatever the order and however often an event arrives.
 * Nothing here reads the evaluation capability's tables.
 */
export const EVALUATION_EVENT_SOURCE = 'zwfw.evaluation-ingest';

export const evaluationEventEnvelope = z.discriminatedUnion('detail-type', [
  envelopeOf('EvaluationReceived', evaluationReceivedV1, EVALUATION_EVENT_SOURCE),
  envelopeOf('BadReviewOpened', badReviewOpenedV1, EVALUATION_EVENT_SOURCE),
  envelopeOf('RectificationTransitioned', rectificationTransitionedV1, EVALUATION_EVENT_SOURCE),
]);
export type EvaluationEventEnvelope = z.output<typeof evaluationEventEnvelope>;

/** What an event tells the statistics; undefined for a review, which is kept by its capability but never counted. */
export function observationOf(envelope: EvaluationEventEnvelope): EvaluationObservation | undefined {
  switch (envelope['detail-type']) {
    case 'EvaluationReceived': {
      const d = envelope.detail;
      if (d.isReview) return undefined;
      return {
        kind: 'vote',
        evaluationId: d.evaluationId,
        vote: { ...dimensionsOf(d), level: d.level, evaluatedAt: d.evaluatedAt, flags: [...d.flags] },
      };
    }
    case 'BadReviewOpened': {
      const d = envelope.detail;
      return {
        kind: 'badReview',
        evaluationId: d.evaluationId,
        badReview: { ...dimensionsOf(d), level: d.level, evaluatedAt: d.evaluatedAt },
      };
    }
    case 'RectificationTransitioned': {
      const d = envelope.detail;
      return {
        kind: 'transition',
        evaluationId: d.evaluationId,
        transition: { transitionId: d.transitionId, to: d.to },
      };
    }
  }
}

const dimensionsOf = (d: {
  caseId: string;
  regionCode: string;
  departmentCode: string;
  itemCode: string;
}) => ({
  caseId: d.caseId,
  regionCode: d.regionCode,
  departmentCode: d.departmentCode,
  itemCode: d.itemCode,
});

export interface EvaluationCountingDependencies {
  store: EvaluationCountsStore;
  /** STATS_SHARDS: spreads the buckets as the case counters do. */
  shards: number;
  /** Commit attempts per evaluation before its messages are left to SQS redelivery (default 5). */
  maxCommitAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface ReceivedObservation {
  messageId: string;
  /** undefined: nothing to count (a review). */
  observation: EvaluationObservation | undefined;
}

export interface EvaluationCountingReport {
  /** messageId → undefined when done, or why it must be redelivered. */
  outcomes: Map<string, Error | undefined>;
  /** Evaluations whose marker was written. */
  counted: number;
  /** Evaluations whose events were all known already (duplicates): nothing written. */
  unchanged: number;
  /** Messages with nothing to count (reviews). */
  ignored: number;
  commitAttempts: number;
}

interface Group {
  evaluationId: string;
  messageIds: string[];
  observations: EvaluationObservation[];
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

function groupByEvaluation(received: readonly ReceivedObservation[]): Group[] {
  const groups = new Map<string, Group>();
  for (const { messageId, observation } of received) {
    if (!observation) continue;
    const group = groups.get(observation.evaluationId) ?? {
      evaluationId: observation.evaluationId,
      messageIds: [],
      observations: [],
    };
    group.messageIds.push(messageId);
    group.observations.push(observation);
    groups.set(observation.evaluationId, group);
  }
  return [...groups.values()];
}

function prepare(
  group: Group,
  before: EvaluationMarker | undefined,
  shards: number,
): EvaluationWrite | undefined {
  const { facts, changed } = observeAll(before?.facts, group.evaluationId, group.observations);
  if (!changed) return undefined;
  const contribution = evaluationContribution(facts, shards);
  return {
    evaluationId: group.evaluationId,
    expectedVersion: before?.version,
    facts,
    contribution,
    delta: contributionDelta(contribution, before?.contribution ?? new Map()),
  };
}

export async function countEvaluationEvents(
  deps: EvaluationCountingDependencies,
  received: readonly ReceivedObservation[],
): Promise<EvaluationCountingReport> {
  const maxAttempts = deps.maxCommitAttempts ?? 5;
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const failures = new Map<string, Error>();
  const pending = new Map(groupByEvaluation(received).map((g) => [g.evaluationId, g]));
  const markers = await deps.store.loadMarkers([...pending.keys()]);
  let counted = 0;
  let unchanged = 0;

  const failGroup = (evaluationId: string, error: Error) => {
    for (const id of pending.get(evaluationId)?.messageIds ?? []) failures.set(id, error);
    pending.delete(evaluationId);
  };

  async function reload(evaluationIds: readonly string[]): Promise<void> {
    if (evaluationIds.length === 0) return;
    try {
      const fresh = await deps.store.loadMarkers(evaluationIds);
      for (const id of evaluationIds) {
        const marker = fresh.get(id);
        if (marker) markers.set(id, marker);
        else markers.delete(id);
      }
    } catch (error) {
      for (const id of evaluationIds) failGroup(id, asError(error));
    }
  }

  let attempts = 0;
  for (; pending.size > 0 && attempts < maxAttempts; attempts += 1) {
    const writes: EvaluationWrite[] = [];
    for (const group of pending.values()) {
      const write = prepare(group, markers.get(group.evaluationId), deps.shards);
      if (write) {
        writes.push(write);
      } else {
        unchanged += 1;
        pending.delete(group.evaluationId);
      }
    }
    let contended = false;
    for (const plan of planEvaluationCommits(writes)) {
      try {
        const result = await deps.store.commitEvaluations(plan);
        if (result.committed) {
          counted += plan.writes.length;
          for (const write of plan.writes) pending.delete(write.evaluationId);
          continue;
        }
        contended ||= result.contended;
        await reload(result.staleEvaluationIds);
      } catch (error) {
        for (const write of plan.writes) failGroup(write.evaluationId, asError(error));
      }
    }
    if (contended && pending.size > 0)
      await sleep(Math.floor(random() * Math.min(1_000, 20 * 2 ** attempts)));
  }
  for (const evaluationId of [...pending.keys()]) {
    failGroup(
      evaluationId,
      new Error(`evaluation not committed after ${maxAttempts} attempts; left to redelivery`),
    );
  }

  return {
    outcomes: new Map(received.map((r) => [r.messageId, failures.get(r.messageId)])),
    counted,
    unchanged,
    ignored: received.filter((r) => !r.observation).length,
    commitAttempts: attempts,
  };
}

const evaluationEventsEnv = z.object({
  STATS_TABLE: tableName,
  STATS_SHARDS: positiveInt(8),
});

// Built on first use, so that importing the module (tests, synth) needs no environment.
const dependencies = once(async (): Promise<EvaluationCountingDependencies> => {
  const aws = dynamoDbClients();
  const config = loadConfig(evaluationEventsEnv);
  return {
    store: createEvaluationCountsStore({ doc: aws.documentClient, statsTable: config.STATS_TABLE }),
    shards: config.STATS_SHARDS,
  };
});

export const handler = sqsBatchConsumer({
  // Other sources, detail types or detail versions fail the schema and go to the DLQ: they need code here first.
  schema: evaluationEventEnvelope,
  processBatch: async (items, { logger, metrics }) => {
    const report = await countEvaluationEvents(
      await dependencies(),
      items.map((item) => ({ messageId: item.messageId, observation: observationOf(item.body) })),
    );
    metrics.addMetric('EvaluationsCounted', MetricUnit.Count, report.counted);
    metrics.addMetric('EvaluationEventsDuplicate', MetricUnit.Count, report.unchanged);
    metrics.addMetric('EvaluationReviewsIgnored', MetricUnit.Count, report.ignored);
    if (report.commitAttempts > 1)
      logger.info('evaluation counters commit retried', { attempts: report.commitAttempts });
    return report.outcomes;
  },
});
