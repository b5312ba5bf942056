import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3EventNotificationEventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/s3';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningS3, startS3 } from '../../../infra/local/engines/s3';
import type { HubModel, QueueModel, RuleModel } from '../../../infra/local/model';
import {
  type RunningS3Notifications,
  startS3Notifications,
  toEventBridgeEvent,
} from '../../../infra/local/s3-notifications';
import { createTargetDelivery } from '../../../infra/local/targets';
import { DEFAULT_BUS_KEY } from '../../../infra/local/template';
import { localAwsConfig } from '../../support/aws';
import { emptyModel } from '../../support/model';
import { type LocalSqs, startLocalSqs, stopLocalSqs } from '../../support/sqs';

/**
 * S3 → EventBridge in the local runtime, on real engines: s3rver emits its notification records, the module turns
 * them into the events S3 puts on the account's default bus, and the default bus's matching rules deliver them
 * (here to a local-aws-sqs queue, as the licence uploads rule does). Only buckets the template enables announce.
 */
const ANNOUNCING = 'licence-files';
const SILENT = 'other-bucket';

let s3Dir: string;
let s3Engine: RunningS3;
let s3: S3Client;
let local: LocalSqs;
let sqs: SQSClient;
let notifications: RunningS3Notifications;
const queues: Record<'uploads' | 'everything' | 'privateBus', QueueModel> = {} as never;

async function queueModel(name: string): Promise<QueueModel> {
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
  return {
    key: `stack/${name}`,
    queueName: name,
    queueUrl,
    arn: `arn:aws:sqs:us-east-1:000000000000:${name}`,
    visibilityTimeoutSeconds: 30,
    fifo: false,
  };
}

const rule = (
  key: string,
  busKey: string,
  queue: QueueModel,
  eventPattern: Record<string, unknown>,
): RuleModel => ({
  key,
  busKey,
  eventPattern,
  enabled: true,
  targets: [{ kind: 'queue', queueKey: queue.key }],
});

async function received(queue: QueueModel): Promise<unknown[]> {
  const result = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queue.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  return (result.Messages ?? []).map((message) => JSON.parse(message.Body ?? 'null'));
}

beforeAll(async () => {
  s3Dir = await mkdtemp(join(tmpdir(), 's3-notifications-'));
  s3Engine = await startS3({ port: 0, directory: s3Dir });
  s3 = new S3Client({
    ...localAwsConfig(s3Engine.endpoint),
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  for (const Bucket of [ANNOUNCING, SILENT]) await s3.send(new CreateBucketCommand({ Bucket }));
  local = await startLocalSqs();
  sqs = local.sqs;
  queues.uploads = await queueModel('uploads');
  queues.everything = await queueModel('everything');
  queues.privateBus = await queueModel('private-bus');
  const model: HubModel = emptyModel({
    buckets: [
      {
        key: 'stack/Files',
        bucketName: ANNOUNCING,
        arn: `arn:aws:s3:::${ANNOUNCING}`,
        eventBridgeEnabled: true,
      },
      { key: 'stack/Other', bucketName: SILENT, arn: `arn:aws:s3:::${SILENT}`, eventBridgeEnabled: false },
    ],
    queues: Object.values(queues),
    rules: [
      // As the licence construct's rule: this bucket, this prefix, on the default bus.
      rule('stack/UploadsRule', DEFAULT_BUS_KEY, queues.uploads, {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: [ANNOUNCING] }, object: { key: [{ prefix: 'licences/' }] } },
      }),
      rule('stack/EverythingRule', DEFAULT_BUS_KEY, queues.everything, { source: ['aws.s3'] }),
      // S3 never puts events on a custom bus: a rule there hears nothing.
      rule('stack/PrivateBusRule', 'stack/Bus', queues.privateBus, { source: ['aws.s3'] }),
    ],
  });
  const deliver = createTargetDelivery({
    model,
    host: { invoke: async () => Promise.reject(new Error('no functions here')), stop: async () => undefined },
    sqs,
    retryDelaysMs: [],
  });
  notifications = startS3Notifications({ model, s3: s3Engine, deliver });
}, 60_000);

afterAll(async () => {
  await notifications?.stop();
  s3?.destroy();
  await s3Engine?.stop();
  await stopLocalSqs(local ?? {});
  await rm(s3Dir, { recursive: true, force: true });
});

describe('S3 → EventBridge notifications in the local runtime', () => {
  it('a PutObject becomes an "Object Created" event on the default bus, in the shape Powertools parses', async () => {
    const body = Buffer.from('%PDF-1.7 uploaded');
    await s3.send(new PutObjectCommand({ Bucket: ANNOUNCING, Key: 'licences/one', Body: body }));
    await notifications.idle();
    const [event, ...more] = await received(queues.uploads);
    expect(more).toEqual([]);
    const parsed = S3EventNotificationEventBridgeSchema.parse(event);
    expect(parsed).toMatchObject({
      version: '0',
      source: 'aws.s3',
      'detail-type': 'Object Created',
      account: '000000000000',
      region: 'us-east-1',
      resources: [`arn:aws:s3:::${ANNOUNCING}`],
      detail: {
        version: '0',
        bucket: { name: ANNOUNCING },
        object: { key: 'licences/one', size: body.length },
        requester: '000000000000',
        reason: 'PutObject',
      },
    });
    expect(parsed.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(parsed.detail.object.etag).toMatch(/^[0-9a-f]{32}$/);
    expect(parsed.detail['source-ip-address']).toBe('127.0.0.1');
  });

  it('patterns filter as in AWS: another prefix reaches only the catch-all rule; a delete is "Object Deleted"', async () => {
    await s3.send(new PutObjectCommand({ Bucket: ANNOUNCING, Key: 'elsewhere/two', Body: 'x' }));
    await s3.send(new DeleteObjectCommand({ Bucket: ANNOUNCING, Key: 'elsewhere/two' }));
    await notifications.idle();
    expect(await received(queues.uploads)).toEqual([]);
    const everything = (await received(queues.everything)) as {
      'detail-type': string;
      detail: Record<string, unknown>;
    }[];
    const kinds = everything.map((e) => [
      e['detail-type'],
      (e.detail.object as { key: string }).key,
      e.detail.reason,
    ]);
    expect(kinds).toEqual(
      expect.arrayContaining([
        ['Object Created', 'licences/one', 'PutObject'],
        ['Object Created', 'elsewhere/two', 'PutObject'],
        ['Object Deleted', 'elsewhere/two', 'DeleteObject'],
      ]),
    );
    expect(everything.find((e) => e['detail-type'] === 'Object Deleted')?.detail['deletion-type']).toBe(
      'Permanently Deleted',
    );
  });

  it('a bucket without EventBridge notifications announces nothing, and no custom bus ever hears S3', async () => {
    const before = notifications.published();
    await s3.send(new PutObjectCommand({ Bucket: SILENT, Key: 'licences/three', Body: 'x' }));
    await notifications.idle();
    expect(notifications.published()).toBe(before);
    expect(await received(queues.privateBus)).toEqual([]);
  });

  it('translates the operations S3 announces and skips the rest', () => {
    const record = (eventName: string) => ({
      eventName,
      eventTime: '2026-11-21T02:00:00.123Z',
      awsRegion: 'us-east-1',
      requestParameters: { sourceIPAddress: '::1' },
      s3: { bucket: { name: 'b' }, object: { key: 'k', size: 1, eTag: 'e', sequencer: '01' } },
    });
    expect(toEventBridgeEvent(record('ObjectCreated:Copy'))?.detail).toMatchObject({ reason: 'CopyObject' });
    expect(toEventBridgeEvent(record('ObjectCreated:Post'))?.detail).toMatchObject({ reason: 'POST Object' });
    // S3 reports IPv4; an address it would not report is left out rather than invented.
    expect(toEventBridgeEvent(record('ObjectCreated:Put'))?.detail).not.toHaveProperty('source-ip-address');
    expect(toEventBridgeEvent(record('ObjectCreated:Put'))?.time).toBe('2026-11-21T02:00:00Z');
    expect(toEventBridgeEvent(record('ObjectTagging:Put'))).toBeUndefined();
  });
});
