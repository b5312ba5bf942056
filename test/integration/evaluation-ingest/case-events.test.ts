import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { changeIdOf } from '../../../events/case-status-changed.v1';
import { caseStatusChangedV1Event, exampleEnvelopeOf } from '../../../events/catalogue';
import { createParking, processEvaluations } from '../../../functions/evaluation-ingest/consumer';
import {
  type EvaluationMessage,
  evaluationMessageSchema,
} from '../../../functions/evaluation-ingest/domain/evaluation';
import {
  createEvaluationStore,
  type EvaluationStore,
} from '../../../functions/evaluation-ingest/evaluation-store';
import type { RunningEngine } from '../../../infra/local/engines/dynamodb';
import { localDynamo, scratchTables } from '../../support/dynamo';
import { startLocalSqs, stopLocalSqs } from '../../support/sqs';
import {
  CASE_ID,
  deliveries,
  inMemoryBus,
  messageOf,
  observation,
  processorDeps,
  ruleSettings,
  ticketOpener,
} from '../../unit/evaluation-ingest/ingest-fixtures';

const dynamo = localDynamo();
const tables = scratchTables(dynamo.client);
let engine: RunningEngine;
let sqs: SQSClient;
let queueUrl: string;
let evaluationsTable: string;
let ticketsTable: string;
let store: EvaluationStore;
let handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

beforeAll(async () => {
  ({ engine, sqs } = await startLocalSqs());
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'evaluations' }))).QueueUrl as string;
  [evaluationsTable, ticketsTable] = await Promise.all([
    tables.create('evaluations'),
    tables.create('tickets'),
  ]);
  store = createEvaluationStore({ doc: dynamo.doc, evaluationsTable });
  Object.assign(process.env, {
    EVALUATIONS_TABLE: evaluationsTable,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
  });
  // Imported after the environment is set, as Lambda would load it.
  ({ handler } = await import('../../../functions/evaluation-ingest/case-events'));
});

afterAll(async () => {
  await tables.dropAll();
  await stopLocalSqs({ engine, sqs });
});

const context = { awsRequestId: 'req', getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

/** A CaseStatusChanged envelope as the bus rule puts it on this capability's queue. */
function envelopeRecord(
  messageId: string,
  caseNumber: string,
  status: 'accepted' | 'completed' | 'terminated',
  statusAt: string,
): SQSRecord {
  const example = exampleEnvelopeOf(caseStatusChangedV1Event);
  const caseId = `330106:${caseNumber}`;
  const { departmentCode, itemCode } = observation(status, statusAt);
  const detail = {
    ...example.detail,
    changeId: changeIdOf(caseId, status),
    caseId,
    regionCode: '330106',
    departmentCode,
    itemCode,
    status,
    currentStatus: status,
    statusAt,
  };
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: JSON.stringify({ ...example, detail }),
    attributes: { ApproximateReceiveCount: '1' },
    messageAttributes: {},
    eventSource: 'aws:sqs',
  } as unknown as SQSRecord;
}

async function receiveParked(): Promise<{ messageId: string; message: EvaluationMessage }[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ['All'],
    }),
  );
  for (const m of Messages) {
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
  }
  return Messages.map((m) => ({
    messageId: m.MessageId as string,
    message: evaluationMessageSchema.parse(JSON.parse(m.Body as string)),
  }));
}

describe('learning cases from CaseStatusChanged', () => {
  it('merges events in any order and any number of times into the same knowledge', async () => {
    const records = [
      envelopeRecord('e1', 'ORDER-1', 'completed', '2026-11-19T16:00:00+08:00'),
      envelopeRecord('e2', 'ORDER-1', 'accepted', '2026-11-18T09:00:00+08:00'),
      envelopeRecord('e3', 'ORDER-1', 'completed', '2026-11-19T16:00:00+08:00'),
      {
        ...envelopeRecord('bad', 'ORDER-1', 'accepted', 'x'),
        body: '{"detail-type":"CaseStatusChanged"}',
      } as SQSRecord,
    ];
    const response = await handler({ Records: records }, context);
    // The malformed envelope fails alone (and would go to the DLQ); the others are learnt.
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
    expect(await store.getCase('330106:ORDER-1')).toEqual({
      caseId: '330106:ORDER-1',
      regionCode: '330106',
      departmentCode: observation('accepted', '').departmentCode,
      itemCode: observation('accepted', '').itemCode,
      statuses: ['accepted', 'completed'],
      completedAt: '2026-11-19T08:00:00.000Z',
    });
  });
});

describe('an evaluation that names a case not known yet', () => {
  it('waits in the queue, and counts once the case arrives', async () => {
    const bus = inMemoryBus();
    const receivedAt = '2026-11-20T03:00:00.000Z';
    const deps = processorDeps({
      store,
      publish: bus.publish,
      openTicket: ticketOpener(ticketsTable),
      clock: () => new Date('2026-11-20T03:00:05Z'),
      park: createParking(sqs, queueUrl),
      // No delay here, so the test need not wait; the deadline is still 24 h.
      rules: { ...ruleSettings, recheckSeconds: 0 },
    });
    const message = messageOf({ receivedAt, level: 2 });
    const first = await processEvaluations(deps, deliveries([message]));
    expect(first.dispositions.waiting).toBe(1);
    expect([...first.outcomes.values()]).toEqual([undefined]);
    expect(bus.events).toEqual([]);

    // Still unknown on the next look: parked again, with the original receive time.
    const parked = await receiveParked();
    expect(parked.map((p) => p.message)).toEqual([message]);
    expect((await processEvaluations(deps, parked)).dispositions.waiting).toBe(1);

    await handler(
      { Records: [envelopeRecord('c1', 'ZJ-2026-0001', 'completed', '2026-11-19T16:00:00+08:00')] },
      context,
    );
    const applied = await processEvaluations(deps, await receiveParked());
    expect(applied.dispositions.vote).toBe(1);
    expect(bus.received()).toMatchObject([{ caseId: CASE_ID, evaluationId: message.evaluationId, level: 2 }]);
    expect(bus.badReviews()).toMatchObject([{ evaluationId: message.evaluationId }]);
    expect(await receiveParked()).toEqual([]);
  });

  it('is rejected as case_unknown once the wait is over, counted once however often it comes back', async () => {
    const bus = inMemoryBus();
    const message = messageOf({ caseNumber: 'NEVER-SEEN', receivedAt: '2026-11-20T03:00:00.000Z' });
    const deps = processorDeps({
      store,
      publish: bus.publish,
      openTicket: ticketOpener(ticketsTable),
      clock: () => new Date('2026-11-21T03:00:00.000Z'),
    });
    const report = await processEvaluations(deps, deliveries([message, message]));
    expect(report.dispositions).toMatchObject({ case_unknown: 1, duplicate: 1 });
    expect((await processEvaluations(deps, deliveries([message]))).dispositions.duplicate).toBe(1);
    const kept = await dynamo.doc.send(
      new QueryCommand({
        TableName: evaluationsTable,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `EVAL#${message.evaluationId}` },
      }),
    );
    expect(kept.Items).toEqual([
      expect.objectContaining({ entity: 'rejection', reason: 'case_unknown', caseId: '330106:NEVER-SEEN' }),
    ]);
    expect(JSON.stringify(kept.Items)).not.toContain(message.evaluator.idHmac as string);
    expect(bus.events).toEqual([]);
  });

  it('waits for the completion an evaluation at completion needs, and rejects it when the case ends otherwise', async () => {
    const bus = inMemoryBus();
    const parkedHere: number[] = [];
    const deps = processorDeps({
      store,
      publish: bus.publish,
      openTicket: ticketOpener(ticketsTable),
      clock: () => new Date('2026-11-20T03:00:05Z'),
      park: async (_message, delay) => {
        parkedHere.push(delay);
      },
    });
    await handler(
      { Records: [envelopeRecord('t1', 'TERM-1', 'accepted', '2026-11-18T09:00:00+08:00')] },
      context,
    );
    const message = messageOf({ caseNumber: 'TERM-1', receivedAt: '2026-11-20T03:00:00.000Z' });
    expect((await processEvaluations(deps, deliveries([message]))).dispositions.waiting).toBe(1);
    expect(parkedHere).toEqual([900]);
    await handler(
      { Records: [envelopeRecord('t2', 'TERM-1', 'terminated', '2026-11-19T09:00:00+08:00')] },
      context,
    );
    expect((await processEvaluations(deps, deliveries([message]))).dispositions.case_not_completed).toBe(1);
  });
});
