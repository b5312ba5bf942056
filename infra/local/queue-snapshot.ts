/**
 * local-aws-sqs keeps messages in memory only, yet the local hub promises that its state survives a
 * restart. On a clean stop we move every message still queued into `.hub/queues.json` and send them back
 * after the next start's provisioning. What this cannot keep: receive counts (a redelivered message starts
 * again at one) and messages of a hub that was killed rather than stopped.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { HubModel, ResourceKey } from './model';

interface SavedMessage {
  body: string;
  attributes?: Record<string, MessageAttributeValue>;
  messageGroupId?: string;
}

type Snapshot = Record<ResourceKey, SavedMessage[]>;

// Received messages stay hidden for this long; the engine is stopped well before they would reappear.
const HIDE_SECONDS = 300;

export async function saveQueueMessages(sqs: SQSClient, model: HubModel, file: string): Promise<number> {
  const snapshot: Snapshot = {};
  let total = 0;
  for (const queue of model.queues) {
    const saved: SavedMessage[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: HIDE_SECONDS,
          AttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) break;
      for (const message of Messages) {
        saved.push({
          body: message.Body ?? '',
          ...(message.MessageAttributes ? { attributes: message.MessageAttributes } : {}),
          ...(message.Attributes?.MessageGroupId
            ? { messageGroupId: message.Attributes.MessageGroupId }
            : {}),
        });
      }
    }
    if (saved.length > 0) snapshot[queue.key] = saved;
    total += saved.length;
  }
  if (total > 0) writeFileSync(file, `${JSON.stringify(snapshot)}\n`, { mode: 0o600 });
  return total;
}

/** Sends the saved messages to the queues of the same key; the file is kept aside if a queue is gone. */
export async function restoreQueueMessages(
  sqs: SQSClient,
  model: HubModel,
  file: string,
  warn: (message: string) => void,
): Promise<number> {
  if (!existsSync(file)) return 0;
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const queues = new Map(model.queues.map((q) => [q.key, q]));
  let restored = 0;
  const orphans: Snapshot = {};
  for (const [key, messages] of Object.entries(snapshot)) {
    const queue = queues.get(key);
    if (!queue) {
      orphans[key] = messages;
      continue;
    }
    for (let i = 0; i < messages.length; i += 10) {
      const entries = messages.slice(i, i + 10).map((m, index) => ({
        Id: String(index),
        MessageBody: m.body,
        ...(m.attributes ? { MessageAttributes: m.attributes } : {}),
        ...(queue.fifo ? { MessageGroupId: m.messageGroupId ?? 'restored' } : {}),
      }));
      const { Failed = [] } = await sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queue.queueUrl, Entries: entries }),
      );
      if (Failed.length > 0) throw new Error(`restoring ${key}: ${Failed.length} messages refused`);
      restored += entries.length;
    }
  }
  if (Object.keys(orphans).length > 0) {
    const aside = `${file}.orphaned-${Date.now()}`;
    writeFileSync(aside, `${JSON.stringify(orphans)}\n`, { mode: 0o600 });
    warn(`queues no longer in the template; their messages were kept in ${aside}`);
  }
  rmSync(file);
  return restored;
}
