import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../infra/cli/cli';
import { seededRandom } from '../../shared/identifiers/generate';
import { buildCases, expectedStatistics, recordsOf } from '../e2e/case-scenario';
import { hubClient } from '../e2e/hub-client';
import { startTestHub, type TestHub } from '../e2e/support/test-hub';
import { storedCaseStatistics } from '../support/case-statistics';
import { privateOutput, queueDepth } from './support';

/**
 * Poison and redrive (issue 9): while the statistics table refuses every transaction (an outage of the one
 * operation the consumer commits with), valid case changes fail their maxReceiveCount receives and land in the
 * DLQ; the API, which does not use that operation, keeps answering. Once the outage ends, the operator's
 * `npm run hub -- redrive` moves them back and each is applied once: the statistics equal the ground truth.
 */

let testHub: TestHub;

beforeAll(async () => {
  testHub = await startTestHub('redrive', {
    maxVisibilityTimeoutSeconds: 1,
    faults: { dynamodb: { throttleRate: 0 } },
  });
}, 240_000);

afterAll(async () => {
  await testHub?.stop();
});

const output = (key: string) => privateOutput(testHub.hub, key);
const depth = (queueUrl: string) => queueDepth(testHub.hub, queueUrl);

async function cli(args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.resume();
  const code = await runCli(args, { stdout, stderr, env: {}, cwd: process.cwd() });
  return { code, stdout: Buffer.concat(out).toString() };
}

describe('poison messages and their redrive', () => {
  it('parks failing changes in the DLQ, and applies them exactly once after the fix and a redrive', async () => {
    const cases = buildCases(seededRandom(4242), ['330000'], 12);
    const records = cases.flatMap(recordsOf);
    testHub.hub.setDynamoDbFaults({ throttleRate: 1, ambiguousShare: 0, operations: ['TransactWriteItems'] });

    const response = await hubClient(testHub.hub.port, 'region-330000').post('/v1/cases:batch', { records });
    expect(response.status).toBe(202);
    expect(((await response.json()) as { accepted: number }).accepted).toBe(records.length);
    await testHub.hub.drained({ timeoutMs: 240_000 });

    // Every change failed its receives and is parked; nothing reached the statistics.
    const queueUrl = output('CaseQueueUrl');
    const dlqUrl = output('CaseDlqUrl');
    expect(await depth(dlqUrl)).toBe(records.length);
    expect(await storedCaseStatistics(testHub.hub.endpoints.dynamodb, output('StatsTableName'))).toEqual(
      new Map(),
    );

    // The outage ends; the operator moves the messages back.
    testHub.hub.setDynamoDbFaults({ throttleRate: 0 });
    const redrive = await cli(['redrive', queueUrl, '--endpoint', testHub.hub.endpoints.sqs]);
    expect(redrive.code).toBe(0);
    expect(redrive.stdout).toContain(`moved ${records.length} messages`);
    await testHub.hub.drained({ timeoutMs: 120_000 });

    expect(await depth(dlqUrl)).toBe(0);
    expect(await depth(queueUrl)).toBe(0);
    expect(await storedCaseStatistics(testHub.hub.endpoints.dynamodb, output('StatsTableName'))).toEqual(
      expectedStatistics(cases),
    );

    // A second redrive finds nothing, and applying twice would have shown in the statistics above.
    const again = await cli(['redrive', queueUrl, '--endpoint', testHub.hub.endpoints.sqs]);
    expect(again.stdout).toContain('moved 0 messages');
  }, 420_000);
});
