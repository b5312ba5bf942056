import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeEventBusCommand,
  EventBridgeClient,
  ListRulesCommand,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../infra/local/engines/ports';
import {
  type EventEnvelope,
  type RunningEventBridge,
  startEventBridge,
} from '../../../infra/local/eventbridge';
import type { FunctionHost } from '../../../infra/local/model';
import { createTargetDelivery } from '../../../infra/local/targets';
import { localAwsConfig } from '../../support/aws';
import { emptyModel } from '../../support/model';

const hubBus = {
  key: 'zwfw-dev-private/HubBus',
  busName: 'zwfw-dev-hub',
  arn: 'arn:aws:events:us-east-1:000000000000:event-bus/zwfw-dev-hub',
};

const model = emptyModel({
  buses: [
    { key: 'default', busName: 'default', arn: 'arn:aws:events:us-east-1:000000000000:event-bus/default' },
    hubBus,
  ],
  rules: [
    {
      key: 'zwfw-dev-private/CaseStatusChangedToStats',
      busKey: hubBus.key,
      eventPattern: { source: ['zwfw.case-aggregate'], 'detail-type': ['CaseStatusChanged'] },
      enabled: true,
      targets: [{ kind: 'function', functionKey: 'zwfw-dev-private/StatsFn' }],
    },
    {
      key: 'zwfw-dev-private/CompletedCasesOnly',
      busKey: hubBus.key,
      eventPattern: { source: ['zwfw.case-aggregate'], detail: { status: ['completed'] } },
      enabled: true,
      targets: [{ kind: 'function', functionKey: 'zwfw-dev-private/ArchiveFn', inputPath: '$.detail' }],
    },
    {
      key: 'zwfw-dev-private/SwitchedOff',
      busKey: hubBus.key,
      eventPattern: { source: ['zwfw.case-aggregate'] },
      enabled: false,
      targets: [{ kind: 'function', functionKey: 'zwfw-dev-private/NeverFn' }],
    },
    {
      key: 'zwfw-dev-private/DefaultBusRule',
      busKey: 'default',
      eventPattern: { source: ['zwfw.case-aggregate'] },
      enabled: true,
      targets: [{ kind: 'function', functionKey: 'zwfw-dev-private/DefaultFn' }],
    },
    {
      key: 'zwfw-dev-private/ForwardToHub',
      busKey: 'default',
      eventPattern: { 'detail-type': ['Forwarded'] },
      enabled: true,
      targets: [{ kind: 'bus', busKey: hubBus.key }],
    },
    {
      key: 'zwfw-dev-private/ForwardedOnHub',
      busKey: hubBus.key,
      eventPattern: { 'detail-type': ['Forwarded'] },
      enabled: true,
      targets: [{ kind: 'function', functionKey: 'zwfw-dev-private/ForwardedFn' }],
    },
  ],
});

const entry = (overrides: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
  EventBusName: hubBus.busName,
  Source: 'zwfw.case-aggregate',
  DetailType: 'CaseStatusChanged',
  Detail: JSON.stringify({ version: 1, caseId: '330000:0001', status: 'accepted' }),
  ...overrides,
});

describe('local EventBridge with the real SDK', () => {
  let bus: RunningEventBridge;
  let client: EventBridgeClient;
  let logDir: string;
  let invocations: { functionKey: string; event: unknown }[] = [];
  let release: () => void = () => {};
  let hold: Promise<void> = Promise.resolve();

  beforeAll(async () => {
    logDir = await mkdtemp(join(tmpdir(), 'zwfw-eventbridge-'));
    const host: FunctionHost = {
      invoke: async (functionKey, event) => {
        await hold;
        invocations.push({ functionKey, event });
        return null;
      },
      stop: async () => {},
    };
    // Bus-to-bus targets publish through the SDK, so the endpoint must be known before the bus starts.
    const port = await freePort();
    client = new EventBridgeClient(localAwsConfig(`http://127.0.0.1:${port}`));
    const deliver = createTargetDelivery({
      model,
      host,
      sqs: new SQSClient({}),
      eventBridge: client,
      log: () => {},
    });
    bus = await startEventBridge({
      model,
      port,
      deliver,
      logFile: join(logDir, 'events.jsonl'),
      log: () => {},
    });
    expect(bus.endpoint).toBe(`http://127.0.0.1:${port}`);
  });

  afterAll(async () => {
    client?.destroy();
    await bus?.stop();
    if (logDir) await rm(logDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await bus.idle();
    invocations = [];
    hold = Promise.resolve();
  });

  it('delivers the envelope to every enabled rule whose pattern matches', async () => {
    const result = await client.send(new PutEventsCommand({ Entries: [entry()] }));
    expect(result.FailedEntryCount).toBe(0);
    const eventId = result.Entries?.[0]?.EventId;
    expect(eventId).toMatch(/^[0-9a-f-]{36}$/);

    await bus.idle();
    expect(invocations).toHaveLength(1);
    const [invocation] = invocations;
    expect(invocation?.functionKey).toBe('zwfw-dev-private/StatsFn');
    const envelope = invocation?.event as EventEnvelope;
    expect(envelope).toEqual({
      version: '0',
      id: eventId,
      'detail-type': 'CaseStatusChanged',
      source: 'zwfw.case-aggregate',
      account: '000000000000',
      time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      region: 'us-east-1',
      resources: [],
      detail: { version: 1, caseId: '330000:0001', status: 'accepted' },
    });
  });

  it('applies content patterns and InputPath, and addresses buses by ARN', async () => {
    const completed = JSON.stringify({ version: 1, caseId: '330000:0002', status: 'completed' });
    await client.send(
      new PutEventsCommand({ Entries: [entry({ EventBusName: hubBus.arn, Detail: completed })] }),
    );
    await bus.idle();
    expect(invocations.map((i) => i.functionKey).sort()).toEqual([
      'zwfw-dev-private/ArchiveFn',
      'zwfw-dev-private/StatsFn',
    ]);
    expect(invocations.find((i) => i.functionKey === 'zwfw-dev-private/ArchiveFn')?.event).toEqual(
      JSON.parse(completed),
    );
  });

  it('keeps buses apart: the default bus has its own rules', async () => {
    await client.send(new PutEventsCommand({ Entries: [entry({ EventBusName: undefined })] }));
    await bus.idle();
    expect(invocations.map((i) => i.functionKey)).toEqual(['zwfw-dev-private/DefaultFn']);
  });

  it('forwards events to another bus through a bus target', async () => {
    const detail = { version: 1, note: 'crossing' };
    await client.send(
      new PutEventsCommand({
        Entries: [
          entry({ EventBusName: 'default', DetailType: 'Forwarded', Detail: JSON.stringify(detail) }),
        ],
      }),
    );
    await bus.idle();
    expect(invocations.map((i) => i.functionKey).sort()).toEqual([
      'zwfw-dev-private/DefaultFn',
      'zwfw-dev-private/ForwardedFn',
    ]);
    const forwarded = invocations.find((i) => i.functionKey === 'zwfw-dev-private/ForwardedFn')
      ?.event as EventEnvelope;
    expect([forwarded.source, forwarded['detail-type'], forwarded.detail]).toEqual([
      'zwfw.case-aggregate',
      'Forwarded',
      detail,
    ]);
  });

  it('answers PutEvents before deliveries finish and idle() waits for them', async () => {
    hold = new Promise((resolve) => {
      release = resolve;
    });
    const result = await client.send(new PutEventsCommand({ Entries: [entry()] }));
    expect(result.FailedEntryCount).toBe(0);
    expect(invocations).toEqual([]);
    let idle = false;
    const idled = bus.idle().then(() => {
      idle = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(idle).toBe(false);
    release();
    await idled;
    expect(invocations).toHaveLength(1);
  });

  it('rejects bad entries one by one, like AWS, and delivers the good ones', async () => {
    const before = bus.published();
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          entry({ Source: undefined }),
          entry({ Detail: 'not json' }),
          entry({ Detail: '[1,2]' }),
          entry({ EventBusName: 'no-such-bus' }),
          entry(),
        ],
      }),
    );
    expect(result.FailedEntryCount).toBe(4);
    expect(result.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual([
      'InvalidArgument',
      'MalformedDetail',
      'MalformedDetail',
      'ResourceNotFoundException',
      'ok',
    ]);
    expect(result.Entries?.[3]?.ErrorMessage).toContain('no-such-bus');
    expect(bus.published()).toBe(before + 1);
    await bus.idle();
    expect(invocations).toHaveLength(1);
  });

  it('rejects a request with more than ten entries or over 256 KB as a whole', async () => {
    await expect(
      client.send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => entry()) })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    const big = JSON.stringify({ version: 1, padding: 'x'.repeat(256 * 1024) });
    await expect(
      client.send(new PutEventsCommand({ Entries: [entry({ Detail: big })] })),
    ).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('appends each accepted event to the log file as one JSON line', async () => {
    const result = await client.send(
      new PutEventsCommand({ Entries: [entry(), entry({ DetailType: 'CaseReceived' })] }),
    );
    await bus.idle();
    const lines = (await readFile(join(logDir, 'events.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const ids = result.Entries?.map((e) => e.EventId);
    const logged = lines.filter((line) => ids?.includes(line.id));
    expect(logged.map((line) => [line.eventBusName, line['detail-type']])).toEqual([
      ['zwfw-dev-hub', 'CaseStatusChanged'],
      ['zwfw-dev-hub', 'CaseReceived'],
    ]);
  });

  it('lists rules and describes buses for the CLI', async () => {
    const rules = await client.send(new ListRulesCommand({ EventBusName: hubBus.busName }));
    expect(rules.Rules?.map((r) => [r.Name, r.State])).toEqual([
      ['CaseStatusChangedToStats', 'ENABLED'],
      ['CompletedCasesOnly', 'ENABLED'],
      ['SwitchedOff', 'DISABLED'],
      ['ForwardedOnHub', 'ENABLED'],
    ]);
    expect(JSON.parse(rules.Rules?.[0]?.EventPattern ?? '')).toEqual(model.rules[0]?.eventPattern);

    const page = await client.send(new ListRulesCommand({ EventBusName: hubBus.busName, Limit: 3 }));
    const rest = await client.send(
      new ListRulesCommand({ EventBusName: hubBus.busName, Limit: 3, NextToken: page.NextToken }),
    );
    expect([page.Rules?.length, rest.Rules?.map((r) => r.Name)]).toEqual([3, ['ForwardedOnHub']]);
    expect(rest.NextToken).toBeUndefined();
    const prefixed = await client.send(
      new ListRulesCommand({ EventBusName: hubBus.busName, NamePrefix: 'Switched' }),
    );
    expect(prefixed.Rules?.map((r) => r.Name)).toEqual(['SwitchedOff']);

    const described = await client.send(new DescribeEventBusCommand({ Name: hubBus.busName }));
    expect([described.Name, described.Arn]).toEqual([hubBus.busName, hubBus.arn]);
    await expect(client.send(new DescribeEventBusCommand({ Name: 'no-such-bus' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});
