import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mayCrossToPrivateCloud, PUBLIC_TO_PRIVATE_EVENTS } from '../../../infra/cross-cloud';
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

/**
 * The local runtime applies the cross-cloud allow-list (infra/cross-cloud.ts) where the cloud applies the private
 * bus's policy: a bus-to-bus delivery from one stack's bus to another's passes only allow-listed events. The
 * forwarding rule here is deliberately wider than the allow-list, so the allow-list alone decides.
 */
const publicBus = {
  key: 'zwfw-dev-public/Bus',
  busName: 'zwfw-dev-public-bus',
  arn: 'arn:aws:events:us-east-1:000000000000:event-bus/zwfw-dev-public-bus',
};
const privateBus = {
  key: 'zwfw-dev-private/PlatformBus',
  busName: 'zwfw-dev-bus',
  arn: 'arn:aws:events:us-east-1:000000000000:event-bus/zwfw-dev-bus',
};
const model = emptyModel({
  buses: [publicBus, privateBus],
  rules: [
    {
      key: 'zwfw-dev-public/ForwardEverything',
      busKey: publicBus.key,
      eventPattern: { source: [{ prefix: 'zwfw.' }] },
      enabled: true,
      targets: [{ kind: 'bus', busKey: privateBus.key }],
    },
    {
      key: 'zwfw-dev-private/EverythingArriving',
      busKey: privateBus.key,
      eventPattern: { source: [{ prefix: 'zwfw.' }] },
      enabled: true,
      targets: [{ kind: 'function', functionKey: 'zwfw-dev-private/Recorder' }],
    },
  ],
});

describe('the cloud boundary of the local runtime', () => {
  let bus: RunningEventBridge;
  let client: EventBridgeClient;
  let arrived: EventEnvelope[] = [];
  const refusals: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const host: FunctionHost = {
      invoke: async (_functionKey, event) => {
        arrived.push(event as EventEnvelope);
        return null;
      },
      stop: async () => {},
    };
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
      log: (entry) => {
        if (String(entry.message).includes('cloud boundary')) refusals.push(entry);
      },
    });
  });

  afterAll(async () => {
    client?.destroy();
    await bus?.stop();
  });

  beforeEach(async () => {
    await bus.idle();
    arrived = [];
    refusals.length = 0;
  });

  const publish = async (source: string, detailType: string) => {
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: publicBus.busName,
            Source: source,
            DetailType: detailType,
            Detail: '{"version":1}',
          },
        ],
      }),
    );
    expect(result.FailedEntryCount).toBe(0);
    await bus.idle();
  };

  it('lets every allow-listed event cross to the private bus', async () => {
    expect(PUBLIC_TO_PRIVATE_EVENTS.length).toBeGreaterThan(0);
    for (const { source, detailType } of PUBLIC_TO_PRIVATE_EVENTS) await publish(source, detailType);
    expect(arrived.map((event) => [event.source, event['detail-type']])).toEqual(
      PUBLIC_TO_PRIVATE_EVENTS.map(({ source, detailType }) => [source, detailType]),
    );
    expect(refusals).toEqual([]);
  });

  it('stops a detail type outside the allow-list at the boundary, and says so', async () => {
    await publish('zwfw.evaluation-ingest', 'EvaluationReceived');
    await publish('zwfw.case-aggregate', 'CaseStatusChanged');
    expect(arrived).toEqual([]);
    expect(refusals.map((entry) => entry.detailType)).toEqual(['EvaluationReceived', 'CaseStatusChanged']);
  });

  it('stops an allow-listed detail type from another source', async () => {
    const [allowed] = PUBLIC_TO_PRIVATE_EVENTS;
    await publish('zwfw.case-aggregate', allowed?.detailType ?? '');
    expect(mayCrossToPrivateCloud('zwfw.case-aggregate', allowed?.detailType ?? '')).toBe(false);
    expect(arrived).toEqual([]);
  });
});
