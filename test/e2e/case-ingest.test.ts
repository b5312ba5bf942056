import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../shared/identifiers/generate';
import { storedCaseStatistics } from '../support/case-statistics';
import {
  buildCases,
  type CaseRecord,
  expectedStatistics,
  recordsOf,
  type ScenarioCase,
  shuffle,
} from './case-scenario';
import { hubClient } from './hub-client';
import { type E2eTarget, startTarget } from './support/target';

/**
 * The acceptance test of the walking skeleton, on any target (test/e2e/support/target.ts; by default the whole hub
 * locally from the synthesised template): signed batches with duplicates, out-of-order status changes and invalid
 * records end as exactly the cases and statistics computed independently here.
 */

const REGIONS = ['330000', '440000', '110000'];
let target: E2eTarget;

beforeAll(async () => {
  // Locally a failed message comes back after 2 s instead of the deployed 181 s, so the poison test is quick.
  target = await startTarget('e2e', { maxVisibilityTimeoutSeconds: 2 });
}, 180_000);

afterAll(async () => {
  await target?.stop();
});

const output = (key: string): string => target.output('private', key);

describe('case ingest, end to end through the local hub', () => {
  const random = seededRandom(20261121);
  const cases = buildCases(random, REGIONS, 90);

  it('answers GET /health with 200 (the local hub’s own route)', async (ctx) => {
    if (!target.local) return ctx.skip();
    const response = await fetch(`${target.apiUrl}/health`);
    expect(response.status).toBe(200);
  });

  it('stores exactly the ground truth after duplicated, shuffled and invalid deliveries', async () => {
    // Every status change 1–3 times, in shuffled order, split by region into batches of at most 120.
    const deliveries = shuffle(
      random,
      cases.flatMap((c) =>
        recordsOf(c).flatMap((r) => Array.from({ length: 1 + Math.floor(random() * 3) }, () => r)),
      ),
    );
    // Cases are dealt to REGIONS in turn, so invalid[i] belongs to the province of REGIONS[i].
    const firstRecord = (i: number) => recordsOf(cases[i] as ScenarioCase)[0] as CaseRecord;
    const invalid: CaseRecord[] = [
      {
        ...firstRecord(0),
        applicant: { ...firstRecord(0).applicant, idNumber: '11010519491231002Y' },
      },
      { ...firstRecord(1), status: 'approved' as CaseRecord['status'] },
      { ...firstRecord(2), statutoryDays: 1, promisedDays: 5 },
    ];
    let sentInvalid = 0;
    for (const region of REGIONS) {
      const client = hubClient(target.apiUrl, `region-${region}`);
      const mine = deliveries.filter((r) => r.regionCode === region);
      for (let i = 0; i < mine.length; i += 120) {
        const batch: unknown[] = mine.slice(i, i + 120);
        // An invalid record and one of another province ride along in each region's first batch.
        const foreign = deliveries.find((r) => r.regionCode !== region) as CaseRecord;
        const extras = i === 0 ? [invalid[sentInvalid++ % invalid.length], foreign] : [];
        const response = await client.post('/v1/cases:batch', { records: [...batch, ...extras] });
        expect(response.status).toBe(202);
        const reply = (await response.json()) as {
          accepted: number;
          rejected: { index: number; reason: string }[];
        };
        expect(reply.accepted).toBe(batch.length);
        expect(reply.rejected.map((r) => [r.index, r.reason])).toEqual(
          extras.length
            ? [
                [batch.length, 'invalid_record'],
                [batch.length + 1, 'out_of_scope'],
              ]
            : [],
        );
        // Rejections name the field, never the personal data that failed.
        expect(JSON.stringify(reply)).not.toMatch(/11010519491231002Y/);
      }
    }

    await target.drained({ timeoutMs: 120_000 });

    // Cases: the timeline of each equals the generated one, whatever the delivery order.
    const reader = hubClient(target.apiUrl, 'ministry-mps');
    for (const c of cases) {
      const response = await reader.get(`/v1/cases/${encodeURIComponent(c.caseId)}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as Record<string, unknown> & {
        status: string;
        timeline: { status: string; at: string }[];
        applicant: Record<string, string>;
      };
      expect(body.timeline.map((t) => [t.status, Date.parse(t.at)])).toEqual(
        [...c.timeline]
          .sort((a, b) => a.at.getTime() - b.at.getTime())
          .map((t) => [t.status, t.at.getTime()]),
      );
      expect(body.status).toBe(c.timeline.at(-1)?.status);
      expect(JSON.stringify(body)).not.toContain(c.base.applicant.idNumber);
      expect(JSON.stringify(body)).not.toContain(c.base.applicant.name);
    }

    // Statistics: the stored buckets, summed over shards, equal the independent ground truth exactly.
    expect(await storedCaseStatistics(target.aws('dynamodb').endpoint, output('StatsTableName'))).toEqual(
      expectedStatistics(cases),
    );
  }, 300_000);

  it('sends a poison message to the DLQ after its retries while the rest of its batch is stored', async () => {
    const sqs = new SQSClient(target.aws('sqs'));
    const queueUrl = output('CaseQueueUrl');
    const dlqUrl = output('CaseDlqUrl');
    const [healthy] = buildCases(seededRandom(7), ['330000'], 1) as [ScenarioCase];
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"version":1,"caseId":"poison"' }),
    );
    const failedBefore = totalFailed();
    const client = hubClient(target.apiUrl, 'region-330000');
    const response = await client.post('/v1/cases:batch', { records: recordsOf(healthy) });
    expect(response.status).toBe(202);

    await target.drained({ timeoutMs: 120_000 });

    const stored = await client.get(`/v1/cases/${encodeURIComponent(healthy.caseId)}`);
    expect(stored.status).toBe(200);
    const dead = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, AttributeNames: ['All'] }),
    );
    expect(dead.Messages?.map((m) => m.Body)).toEqual(['{"version":1,"caseId":"poison"']);
    // The consumer refused it on each of its maxReceiveCount (3) deliveries before the queue gave it up (the local
    // pollers count them; LocalStack's event source mapping does not say).
    if (target.local) expect(totalFailed() - failedBefore).toBe(3);
    const main = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(main.Attributes?.ApproximateNumberOfMessages).toBe('0');
  }, 180_000);

  it('never writes an ID number or a name in clear to the logs (the local hub’s)', (ctx) => {
    if (!target.local) return ctx.skip();
    const text = target.local.logs.join('\n');
    expect(text.length).toBeGreaterThan(0);
    for (const c of cases) {
      expect(text).not.toContain(c.base.applicant.idNumber);
      expect(text).not.toContain(`"${c.base.applicant.name}"`);
    }
  });
});

const totalFailed = () =>
  Object.values(target.local?.hub.pollers.counters() ?? {}).reduce((sum, c) => sum + c.failed, 0);
