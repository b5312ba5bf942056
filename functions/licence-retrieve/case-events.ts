import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { caseStatusChangedEnvelopeV1 } from '../../events/case-status-changed.v1';
import { dynamoDbClients } from '../../shared/aws/dynamodb';
import { loadConfig, tableName } from '../../shared/config';
import { once } from '../../shared/entry';
import { settleEach, sqsBatchConsumer } from '../../shared/sqs-consumer';
import { type CaseObservation, caseObservationOf } from './domain/authorisation';
import { createLicenceStore, type LicenceStore } from './store';

/**
 * Learns cases from `CaseStatusChanged` (a bus rule to this capability's queue) into the licences table: region,
 * department, the applicant's ID HMAC and the statuses seen — what a case-based authorisation needs. The merge is
 * commutative and idempotent, so order and redelivery do not matter. Nothing here reads case aggregation's tables.
 */
export const caseStatusChangedEnvelope = caseStatusChangedEnvelopeV1;

export async function recordCaseEvents(
  deps: { store: LicenceStore; clock: () => Date },
  observations: readonly { messageId: string; observation: CaseObservation }[],
): Promise<Map<string, Error | undefined>> {
  return settleEach(observations, ({ observation }) =>
    deps.store.recordCaseStatus(observation, deps.clock()),
  );
}

const caseEventsEnv = z.object({ LICENCES_TABLE: tableName });

const dependencies = once(async () => {
  const aws = dynamoDbClients();
  const store = createLicenceStore({
    doc: aws.documentClient,
    table: loadConfig(caseEventsEnv).LICENCES_TABLE,
  });
  return { store, clock: () => new Date() };
});

export const handler = sqsBatchConsumer({
  // Detail versions other than 1 fail the schema and go to the DLQ: a new version needs code here first.
  schema: caseStatusChangedEnvelope,
  processBatch: async (items, { metrics }) => {
    const outcomes = await recordCaseEvents(
      await dependencies(),
      items.map((item) => ({ messageId: item.messageId, observation: caseObservationOf(item.body.detail) })),
    );
    metrics.addMetric(
      'LicenceCasesLearnt',
      MetricUnit.Count,
      [...outcomes.values()].filter((o) => !o).length,
    );
    return outcomes;
  },
});
