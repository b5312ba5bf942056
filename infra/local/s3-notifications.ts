/**
 * S3 → EventBridge, locally. In AWS a bucket with EventBridge notifications switched on
 * (`NotificationConfiguration.EventBridgeConfiguration`) sends "Object Created" / "Object Deleted" events, source
 * `aws.s3`, to the account's *default* bus, where rules pick them up. Here s3rver emits the classic notification
 * records (the SQS/SNS/Lambda shape) for every object write; this module turns each into the EventBridge event S3
 * would put, for the buckets the template enables, and delivers it to the enabled rules of the default bus whose
 * pattern matches — the same pattern matcher and target delivery the local bus uses.
 *
 * Not modelled: S3's own delivery delays and duplicates; events of operations s3rver does not emit (tagging,
 * restores, storage-class changes); s3rver reports CompleteMultipartUpload as a POST, so its reason is "POST Object".
 */
import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import type { RunningS3, S3Notification, S3NotificationRecord } from './engines/s3';
import { matchesPattern } from './event-pattern';
import type { EventEnvelope } from './eventbridge';
import { type HubModel, LOCAL_ACCOUNT, LOCAL_REGION, type RuleModel } from './model';
import type { TargetDelivery } from './targets';
import { DEFAULT_BUS_KEY } from './template';

export interface S3NotificationsOptions {
  model: HubModel;
  s3: Pick<RunningS3, 'onNotification'>;
  deliver: TargetDelivery;
  /** Each event put on the default bus is appended here as one JSON line, like the local bus's own. */
  logFile?: string;
  log?: (entry: Record<string, unknown>) => void;
}

export interface RunningS3Notifications {
  /** Events put on the default bus so far. */
  published(): number;
  /** Resolves once no delivery is in flight. */
  idle(): Promise<void>;
  /** Stops listening, then waits for deliveries in flight. */
  stop(): Promise<void>;
}

interface S3EventKind {
  detailType: 'Object Created' | 'Object Deleted';
  reason: string;
  deletionType?: string;
}

/** s3rver's event names and what S3 puts on EventBridge for the same operation. */
const KINDS: Record<string, S3EventKind> = {
  'ObjectCreated:Put': { detailType: 'Object Created', reason: 'PutObject' },
  'ObjectCreated:Post': { detailType: 'Object Created', reason: 'POST Object' },
  'ObjectCreated:Copy': { detailType: 'Object Created', reason: 'CopyObject' },
  'ObjectCreated:CompleteMultipartUpload': {
    detailType: 'Object Created',
    reason: 'CompleteMultipartUpload',
  },
  'ObjectRemoved:Delete': {
    detailType: 'Object Deleted',
    reason: 'DeleteObject',
    deletionType: 'Permanently Deleted',
  },
  'ObjectRemoved:DeleteMarkerCreated': {
    detailType: 'Object Deleted',
    reason: 'DeleteObject',
    deletionType: 'Delete Marker Created',
  },
};

/**
 * The EventBridge event S3 sends for one notification record (AWS "EventBridge event message structure"), or
 * undefined for an operation S3 does not announce there. The key is passed as stored; the hub's own keys use only
 * characters that URL-encoding leaves alone.
 */
export function toEventBridgeEvent(
  record: S3NotificationRecord,
  options: { account?: string; region?: string; id?: string } = {},
): EventEnvelope | undefined {
  const kind = KINDS[record.eventName];
  if (!kind) return undefined;
  const account = options.account ?? LOCAL_ACCOUNT;
  const { bucket, object } = record.s3;
  const sourceIp = ipv4Of(record.requestParameters?.sourceIPAddress);
  const created = kind.detailType === 'Object Created';
  return {
    version: '0',
    id: options.id ?? randomUUID(),
    'detail-type': kind.detailType,
    source: 'aws.s3',
    account,
    time: eventTime(record.eventTime),
    region: options.region ?? LOCAL_REGION,
    resources: [`arn:aws:s3:::${bucket.name}`],
    detail: {
      version: '0',
      bucket: { name: bucket.name },
      object: {
        key: object.key,
        ...(created && object.size !== undefined ? { size: object.size } : {}),
        ...(created && object.eTag !== undefined ? { etag: object.eTag } : {}),
        ...(object.versionId !== undefined ? { 'version-id': object.versionId } : {}),
        ...(object.sequencer !== undefined ? { sequencer: object.sequencer } : {}),
      },
      'request-id':
        record.responseElements?.['x-amz-request-id'] ?? randomUUID().replace(/-/g, '').slice(0, 16),
      requester: account,
      ...(sourceIp ? { 'source-ip-address': sourceIp } : {}),
      reason: kind.reason,
      ...(kind.deletionType ? { 'deletion-type': kind.deletionType } : {}),
    },
  };
}

/** EventBridge writes times without fractional seconds. */
function eventTime(iso: string): string {
  const ms = Date.parse(iso);
  return `${new Date(Number.isNaN(ms) ? Date.now() : ms).toISOString().slice(0, 19)}Z`;
}

/** s3rver reports the socket's address, often IPv4-mapped IPv6 (`::ffff:127.0.0.1`); S3 reports plain IPv4. */
function ipv4Of(address: string | undefined): string | undefined {
  const plain = address?.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return plain && /^\d{1,3}(\.\d{1,3}){3}$/.test(plain) ? plain : undefined;
}

/** The enabled rules of the default bus whose pattern matches: where S3's events go. */
export function defaultBusRulesFor(model: HubModel, event: EventEnvelope): RuleModel[] {
  return model.rules.filter(
    (rule) => rule.enabled && rule.busKey === DEFAULT_BUS_KEY && matchesPattern(rule.eventPattern, event),
  );
}

export function startS3Notifications(options: S3NotificationsOptions): RunningS3Notifications {
  const log = options.log ?? (() => undefined);
  const announcing = new Set(
    options.model.buckets.filter((b) => b.eventBridgeEnabled).map((b) => b.bucketName),
  );
  const inFlight = new Set<Promise<void>>();
  let published = 0;
  let logWrites: Promise<void> = Promise.resolve();

  const track = (work: Promise<void>) => {
    const tracked = work.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  const put = (event: EventEnvelope) => {
    published++;
    if (options.logFile) {
      const file = options.logFile;
      const line = `${JSON.stringify({ eventBusName: 'default', ...event })}\n`;
      logWrites = logWrites
        .then(() => appendFile(file, line))
        .catch((error: unknown) =>
          log({ level: 'ERROR', message: 'cannot append to the event log', error: String(error) }),
        );
      track(logWrites);
    }
    for (const rule of defaultBusRulesFor(options.model, event)) {
      for (const target of rule.targets) {
        track(
          options.deliver(target, event).catch((error: unknown) =>
            log({
              level: 'ERROR',
              message: 'S3 event delivery failed',
              rule: rule.key,
              eventId: event.id,
              error: String(error),
            }),
          ),
        );
      }
    }
  };

  const listener = (notification: S3Notification) => {
    for (const record of notification.Records ?? []) {
      if (!announcing.has(record.s3.bucket.name)) continue;
      const event = toEventBridgeEvent(record);
      if (event) put(event);
    }
  };
  const unsubscribe = options.s3.onNotification(listener);

  const idle = async () => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };
  return {
    published: () => published,
    idle,
    stop: async () => {
      unsubscribe();
      await idle();
    },
  };
}
