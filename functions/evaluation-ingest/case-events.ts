import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { caseStatusChangedEnvelopeV1 } from '../../events/case-status-changed.v1';
import { dynamoDbClients } from '../../shared/aws/dynamodb';
import { loadConfig, tableName } from '../../shared/config';
import { once } from '../../shared/entry';
import { settleEach, sqsBatchConsumer } from '../../shared/sqs-consumer';
import { type CaseStatusObservation, observationOf } from './domain/case-knowledge';
import { createEvaluationStore, type EvaluationStore } from './evaluation-store';

/**
 * Learns cases from `CaseStatusChanged` (delivered by a bus rule to this capability's queue, one envelope per
 * message) into the evaluations table: region, department, item, statuses seen, completion time. The merge is
 * commutative and idempotent, so order and redelivery do not matter. Evaluations waiting for a case find it on
 * their next look (consumer.ts); nothing here reads the case aggregation's tables.
 */
export const caseStatusChangedEnvelope = caseStatusChangedEnvelopeV1;

export interface CaseEventDependencies {
  store: EvaluationStore;
  clock: () => Date;
}

export async function recordCaseEvents(
  deps: CaseEventDependencies,
  observations: readonly { messageId: string; observation: CaseStatusObservation }[],
): Promise<Map<string, Error | undefined>> {
  return settleEach(observations, ({ observation }) =>
    deps.store.recordCaseStatus(observation, deps.clock()),
  );
}

const caseEventsEnv = z.object({ EVALUATIONS_TABLE: tableName });

// Built on first use, so that importing the module (tests, synth) needs no environment.
const dependencies = once(async (): Promise<CaseEventDependencies> => {
  const aws = dynamoDbClients();
  const config = loadConfig(caseEventsEnv);
  return {
    store: createEvaluationStore({ doc: aws.documentClient, evaluationsTable: config.EVALUATIONS_TABLE }),
    clock: () => new Date(),
  };
});

export const handler = sqsBatchConsumer({
  // Detail versions other than 1 fail the schema and go to the DLQ: a new version needs code here first.
  schema: caseStatusChangedEnvelope,
  processBatch: async (items, { metrics }) => {
    const outcomes = await recordCaseEvents(
      await dependencies(),
      items.map((item) => ({ messageId: item.messageId, observation: observationOf(item.body.detail) })),
    );
    metrics.addMetric(
      'CaseStatusesLearnt',
      MetricUnit.Count,
      [...outcomes.values()].filter((o) => !o).length,
    );
    return outcomes;
  },
});
