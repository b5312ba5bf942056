import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { dynamoDbClients } from '../../shared/aws/dynamodb';
import { eventBridgeClients } from '../../shared/aws/eventbridge';
import { holidayCalendarEnv } from '../../shared/calendar';
import { loadConfig, positiveInt, requiredString, tableName } from '../../shared/config';
import { once } from '../../shared/entry';
import { createEventPublisher } from '../../shared/events';
import { sqsBatchConsumer } from '../../shared/sqs-consumer';
import { type ChangeProcessorDependencies, processChanges } from './change-processor';
import { caseChangeMessageSchema } from './domain/change';
import { createCaseStore } from './store';

/**
 * Consumes the case change queue (batches of up to 50): see change-processor.ts for the exactly-once
 * apply and README.md for the failure modes. A message that fails its schema, or whose case could not be
 * committed or announced, is reported in batchItemFailures and redelivered; after maxReceiveCount the
 * queue moves it to its DLQ.
 */
export const EVENT_SOURCE = 'zwfw.case-aggregate';

const consumerEnv = z.object({
  CASES_TABLE: tableName,
  STATS_TABLE: tableName,
  STATS_SHARDS: positiveInt(8),
  EVENT_BUS_NAME: requiredString,
  /** JSON `{ holidays, workdays }` (README); absent: weekends off only. */
  HOLIDAY_CALENDAR: holidayCalendarEnv,
});

// Built on first use, so that importing the module (tests, synth) needs no environment.
async function buildDependencies(): Promise<ChangeProcessorDependencies> {
  const aws = { ...dynamoDbClients(), ...eventBridgeClients() };
  const config = loadConfig(consumerEnv);
  const publisher = createEventPublisher({
    client: aws.eventBridge,
    busName: config.EVENT_BUS_NAME,
    source: EVENT_SOURCE,
  });
  return {
    store: createCaseStore({
      doc: aws.documentClient,
      casesTable: config.CASES_TABLE,
      statsTable: config.STATS_TABLE,
    }),
    publish: (events) => publisher.publish(events),
    clock: () => new Date(),
    statistics: { shards: config.STATS_SHARDS, calendar: config.HOLIDAY_CALENDAR },
  };
}

const dependencies = once(buildDependencies);

export const handler = sqsBatchConsumer({
  schema: caseChangeMessageSchema,
  processBatch: async (items, { logger, metrics }) => {
    const report = await processChanges(
      await dependencies(),
      items.map((item) => ({ messageId: item.messageId, change: item.body })),
    );
    metrics.addMetric('CaseChangesApplied', MetricUnit.Count, report.applied);
    metrics.addMetric('CaseChangesDuplicate', MetricUnit.Count, report.duplicates);
    metrics.addMetric('CaseChangesConflicting', MetricUnit.Count, report.conflicts.length);
    // Case ids, statuses and reasons only: the personal data of a case never reaches the log.
    for (const conflict of report.conflicts)
      logger.warn('case change conflicts with its timeline', { ...conflict });
    if (report.commitAttempts > 1) logger.info('case commit retried', { attempts: report.commitAttempts });
    return report.outcomes;
  },
});
