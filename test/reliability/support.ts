import { PassThrough } from 'node:stream';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { runCli } from '../../infra/cli/cli';
import type { RunningHub } from '../../infra/local/hub';
import { localAwsConfig } from '../support/aws';

/** What the reliability tests share: stack outputs, queue depths and a platform's retry behaviour. */

const PRIVATE_STACK = 'zwfw-dev-private';

export function privateOutput(hub: RunningHub, key: string): string {
  const value = hub.outputs[PRIVATE_STACK]?.[key];
  if (!value) throw new Error(`output ${key} missing`);
  return value;
}

/** Messages in a queue, visible or in flight. */
export async function queueDepth(hub: RunningHub, queueUrl: string): Promise<number> {
  const sqs = new SQSClient(localAwsConfig(hub.endpoints.sqs));
  try {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible)
    );
  } finally {
    sqs.destroy();
  }
}

/**
 * A platform's behaviour on a 429, a 503 (a dependency still throttled after the SDK's retries) or a 502/504 (a
 * function that died or ran out of time while a dependency stalled): the same request again after a growing
 * pause, signed anew — the hub's writes are idempotent. Anything else is answered as is.
 */
export async function withRetries(
  call: () => Promise<Response>,
  maxAttempts = 8,
): Promise<{ response: Response; attempt: number }> {
  for (let attempt = 1; ; attempt++) {
    const response = await call();
    if (![429, 502, 503, 504].includes(response.status) || attempt >= maxAttempts)
      return { response, attempt };
    await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
  }
}

/** The function polling a queue (its event-source mapping), e.g. the consumer of the case-ingest queue. */
export function consumerOf(hub: RunningHub, queueUrl: string): string {
  const queue = hub.model.queues.find((q) => q.queueUrl === queueUrl);
  const mapping = hub.model.eventSourceMappings.find((m) => m.queueKey === queue?.key);
  if (!mapping) throw new Error(`no event-source mapping polls ${queueUrl}`);
  return mapping.functionKey;
}

/** Kills a busy worker of the function now and then until `wanted` have died mid-invocation; returns a stop. */
export function crashBusyWorkers(hub: RunningHub, functionKey: string, wanted: number): () => number {
  let crashed = 0;
  const timer = setInterval(() => {
    if (crashed < wanted && hub.host.crashBusyWorker(functionKey)) crashed++;
  }, 120);
  return () => {
    clearInterval(timer);
    return crashed;
  };
}

/** The key of the DLQ that a queue parks its messages in (the keys `deadLettered` answers with). */
export function deadLetterQueueOf(hub: RunningHub, queueUrl: string): string {
  const queue = hub.model.queues.find((q) => q.queueUrl === queueUrl);
  if (!queue?.deadLetter) throw new Error(`${queueUrl} has no DLQ`);
  return queue.deadLetter.targetKey;
}

/** Every dead-letter queue of the hub that holds messages, with how many: `{}` when nothing was parked. */
export async function deadLettered(hub: RunningHub): Promise<Record<string, number>> {
  const dlqKeys = new Set(hub.model.queues.flatMap((q) => (q.deadLetter ? [q.deadLetter.targetKey] : [])));
  const parked: Record<string, number> = {};
  for (const queue of hub.model.queues.filter((q) => dlqKeys.has(q.key))) {
    const depth = await queueDepth(hub, queue.queueUrl);
    if (depth > 0) parked[queue.key] = depth;
  }
  return parked;
}

/**
 * The operator's answer to parked messages once the cause is gone: `npm run hub -- redrive` for every DLQ that
 * holds any, then a drain. Consumers are idempotent, so what was applied before is not applied again.
 */
export async function redriveEverything(hub: RunningHub, parked: Record<string, number>): Promise<void> {
  for (const key of Object.keys(parked)) {
    const dlq = hub.model.queues.find((q) => q.key === key);
    if (!dlq) throw new Error(`no queue ${key}`);
    const out = new PassThrough().resume();
    const code = await runCli(['redrive', dlq.queueUrl, '--endpoint', hub.endpoints.sqs], {
      stdout: out,
      stderr: new PassThrough().resume(),
      env: {},
      cwd: process.cwd(),
    });
    if (code !== 0) throw new Error(`redrive of ${key} exited ${code}`);
  }
  await hub.drained({ timeoutMs: 240_000 });
}
