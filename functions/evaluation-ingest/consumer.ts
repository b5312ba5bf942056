import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { requestHandler, traced } from '../../shared/aws/client-options';
import { createDocumentClient } from '../../shared/aws/dynamodb';
import { eventBridgeClients } from '../../shared/aws/eventbridge';
import { sqsClients } from '../../shared/aws/sqs';
import { holidayCalendarEnv } from '../../shared/calendar';
import { loadConfig, positiveInt, requiredString, tableName } from '../../shared/config';
import { once } from '../../shared/entry';
import { createEventPublisher } from '../../shared/events';
import { sqsBatchConsumer } from '../../shared/sqs-consumer';
import {
  type AbuseFlag,
  type AbuseSettings,
  type BurstKey,
  burstKeysOf,
  completedBurst,
  DEFAULT_ABUSE_BURST_THRESHOLD,
  DEFAULT_ABUSE_WINDOW_SECONDS,
  isBurst,
  MAX_ABUSE_BURST_THRESHOLD,
} from './domain/abuse';
import {
  type AcceptedEvaluation,
  acceptedEvaluationOf,
  announcementsOf,
  type EvaluationEvent,
  evaluationReceivedOf,
  opensTicket,
} from './domain/announcements';
import { type EvaluationMessage, evaluationMessageSchema, submissionIdOf } from './domain/evaluation';
import {
  DEFAULT_CASE_WAIT_SECONDS,
  DEFAULT_LATE_EVALUATION_WORKING_DAYS,
  DEFAULT_RECHECK_SECONDS,
  judge,
  judgeDuplicate,
  MAX_SQS_DELAY_SECONDS,
  type RejectReason,
  type RuleSettings,
  rejectionOf,
} from './domain/rules';
import { createEvaluationStore, type EvaluationStore, type TransactItem } from './evaluation-store';
import { loadTicketSettings, openTicketItem } from './ticket-store';

/**
 * Consumes the evaluation queue: judges each submission against the case it names (domain/rules.ts), records it
 * as the vote, a review or a rejection — each write conditioned on its absence, so copies change nothing — flags
 * bursts (domain/abuse.ts) and announces what was accepted. A submission whose case is not known yet is sent back
 * to the queue with a delay and looked at again until CASE_WAIT_SECONDS after it was first received.
 */
export const EVENT_SOURCE = 'zwfw.evaluation-ingest';

/** What a bad vote's ticket needs; part B's ticket-store builds the transaction item from it. */
export interface TicketOpening {
  evaluationId: string;
  caseId: string;
  regionCode: string;
  departmentCode: string;
  itemCode: string;
  level: number;
  evaluatorIdHmac: string;
  openedAt: string;
}

export interface EvaluationProcessorDependencies {
  store: EvaluationStore;
  /** Puts events on the bus; rejects if any of them is not published. */
  publish: (events: EvaluationEvent[]) => Promise<unknown>;
  /** Sends a waiting submission back to the queue, to be delivered again after `delaySeconds`. */
  park: (message: EvaluationMessage, delaySeconds: number) => Promise<void>;
  /** The ticket Put that commits together with a bad vote. */
  openTicket: (opening: TicketOpening) => TransactItem;
  clock: () => Date;
  rules: RuleSettings;
  abuse: AbuseSettings;
  /** Evaluation ids worked on at once (default 16). */
  concurrency?: number;
  /**
   * When to stop starting submissions (epoch ms, read against `clock`): those not started by then are left to
   * redelivery, so that a slow batch answers before the function's timeout instead of failing whole.
   */
  startBefore?: number;
}

export interface ReceivedEvaluation {
  messageId: string;
  message: EvaluationMessage;
  /** SQS deliveries of the message so far (this one included): the most retried go first. */
  receiveCount?: number;
}

/** Why a submission was not started: the batch's time budget was spent (nothing was written for it). */
export class DeferredError extends Error {
  constructor() {
    super('not started within the batch time budget; left to redelivery');
    this.name = 'DeferredError';
  }
}

export type Disposition = 'vote' | 'review' | 'duplicate' | 'waiting' | RejectReason;

export interface EvaluationBatchReport {
  /** messageId → undefined when done, or why it must be redelivered. */
  outcomes: Map<string, Error | undefined>;
  dispositions: Record<Disposition, number>;
  /** Votes that got a burst flag in this batch (their own or, retroactively, earlier ones). */
  flagged: number;
  /** Bursts completed in this batch: source and kind, never content. */
  bursts: { source: string; flag: AbuseFlag }[];
}

interface Handled {
  disposition: Disposition;
  events: EvaluationEvent[];
  flagged: number;
  bursts: { source: string; flag: AbuseFlag }[];
}

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/** Submissions of one evaluation id run in order (earliest first): the first accepted one is the vote. */
function groupByEvaluation(received: readonly ReceivedEvaluation[]): ReceivedEvaluation[][] {
  const groups = new Map<string, ReceivedEvaluation[]>();
  for (const item of received) {
    const group = groups.get(item.message.evaluationId) ?? [];
    group.push(item);
    groups.set(item.message.evaluationId, group);
  }
  const order = (item: ReceivedEvaluation) =>
    `${new Date(item.message.evaluatedAt).toISOString()}#${submissionIdOf(item.message)}`;
  return [...groups.values()].map((group) => group.sort((a, b) => order(a).localeCompare(order(b))));
}

export async function processEvaluations(
  deps: EvaluationProcessorDependencies,
  received: readonly ReceivedEvaluation[],
): Promise<EvaluationBatchReport> {
  const outcomes = new Map<string, Error | undefined>();
  const handled = new Map<string, Handled>();
  // Most retried first, so that a message deferred before is not deferred again until it is parked.
  const retries = (group: ReceivedEvaluation[]) => Math.max(...group.map((item) => item.receiveCount ?? 1));
  const pending = groupByEvaluation(received).sort((a, b) => retries(b) - retries(a));
  const outOfTime = () => deps.startBefore !== undefined && deps.clock().getTime() >= deps.startBefore;
  const workers = Array.from({ length: Math.min(deps.concurrency ?? 16, pending.length) }, async () => {
    for (let group = pending.shift(); group; group = pending.shift()) {
      for (const item of group) {
        if (outOfTime()) {
          outcomes.set(item.messageId, new DeferredError());
          continue;
        }
        try {
          handled.set(item.messageId, await handleSubmission(deps, item.message));
          outcomes.set(item.messageId, undefined);
        } catch (error) {
          outcomes.set(item.messageId, asError(error));
        }
      }
    }
  });
  await Promise.all(workers);
  await publishAll(deps, handled, outcomes);
  return report(outcomes, handled);
}

async function handleSubmission(
  deps: EvaluationProcessorDependencies,
  message: EvaluationMessage,
  attempt = 1,
): Promise<Handled> {
  const now = deps.clock();
  const submissionId = submissionIdOf(message);
  const stored = await deps.store.loadSubmissions(message.evaluationId);
  const nothing = { events: [], flagged: 0, bursts: [] };

  const duplicate = judgeDuplicate(submissionId, stored.prior);
  if (duplicate?.kind === 'duplicate') {
    // Recorded before; what was owed for it is done again (its first announcement may have failed).
    if (duplicate.as === 'vote' && stored.vote) {
      return { disposition: 'duplicate', ...(await settleVote(deps, stored.vote, message.correlationId)) };
    }
    const review = stored.reviews.get(submissionId);
    const events = review ? [evaluationReceivedOf(review, message.correlationId)] : [];
    return { ...nothing, disposition: 'duplicate', events };
  }

  const known = await deps.store.getCase(message.caseId);
  const judgement = judge(message, known, stored.prior, now, deps.rules);
  switch (judgement.kind) {
    case 'duplicate':
      return { ...nothing, disposition: 'duplicate' };
    case 'wait':
      await deps.park(message, judgement.recheckInSeconds);
      return { ...nothing, disposition: 'waiting' };
    case 'reject': {
      // A rejection is kept and counted once: a copy finds it recorded and changes nothing.
      await deps.store.putRejection(rejectionOf(message, submissionId, judgement.reason, now));
      return { ...nothing, disposition: judgement.reason };
    }
    case 'review': {
      if (!known) throw new Error('a review was judged without its case');
      const review = acceptedEvaluationOf({ message, submissionId, known, isReview: true, flags: [], now });
      await deps.store.putReview(review);
      return {
        ...nothing,
        disposition: 'review',
        events: [evaluationReceivedOf(review, message.correlationId)],
      };
    }
    case 'vote': {
      if (!known) throw new Error('a vote was judged without its case');
      const joined = await joinBursts(deps, message);
      const vote = acceptedEvaluationOf({
        message,
        submissionId,
        known,
        isReview: false,
        flags: joined.flags,
        now,
      });
      const ticket = opensTicket(vote) ? [deps.openTicket(ticketOpeningOf(vote))] : [];
      if ((await deps.store.putVote(vote, ticket)) === 'exists') {
        // Another submission became the vote meanwhile: look again, now as a review or a copy.
        if (attempt > 1) throw new Error('evaluation changed twice while being recorded; left to redelivery');
        return handleSubmission(deps, message, attempt + 1);
      }
      return { disposition: 'vote', ...(await settleVote(deps, vote, message.correlationId, joined)) };
    }
  }
}

interface JoinedBursts {
  keys: BurstKey[];
  flags: AbuseFlag[];
  /** Bursts this vote completed: the earlier members are flagged too. */
  completed: { key: BurstKey; members: string[] }[];
}

async function joinBursts(
  deps: EvaluationProcessorDependencies,
  vote: Pick<EvaluationMessage, 'evaluationId' | 'clientId' | 'level' | 'comment' | 'receivedAt'>,
): Promise<JoinedBursts> {
  const keys = burstKeysOf(vote, deps.abuse);
  const joined: JoinedBursts = { keys, flags: [], completed: [] };
  for (const key of keys) {
    const membership = await deps.store.joinBurst(key, vote.evaluationId, deps.abuse.threshold);
    if (isBurst(membership.size, deps.abuse)) joined.flags.push(key.flag);
    if (completedBurst(membership.joined, membership.size, deps.abuse)) {
      joined.completed.push({ key, members: membership.members });
    }
  }
  return joined;
}

/**
 * After a vote is stored (and again for each copy of it): a burst completed by another vote since this one
 * joined flags it now; a burst this vote completed flags the votes before it, which are announced again.
 */
async function settleVote(
  deps: EvaluationProcessorDependencies,
  stored: AcceptedEvaluation,
  correlationId: string,
  alreadyJoined?: JoinedBursts,
): Promise<Omit<Handled, 'disposition'>> {
  // A copy joins again: membership is a set, so this counts nothing twice and finds a burst it completed.
  const joined = alreadyJoined ?? (await joinBursts(deps, stored));
  let vote = stored;
  let flagged = vote.flags.length > 0 && alreadyJoined ? 1 : 0;
  for (const key of joined.keys) {
    if (vote.flags.includes(key.flag)) continue;
    if (isBurst((await deps.store.readBurst(key)).size, deps.abuse)) {
      vote = (await deps.store.flagVote(vote.evaluationId, key.flag)) ?? vote;
      flagged = 1;
    }
  }
  const earlier: EvaluationEvent[] = [];
  for (const { key, members } of joined.completed) {
    for (const member of members.filter((id) => id !== vote.evaluationId)) {
      // A member not stored yet is still on its way in: it finds the burst complete when it settles.
      const flaggedMember = await deps.store.flagVote(member, key.flag);
      if (flaggedMember) earlier.push(evaluationReceivedOf(flaggedMember, correlationId));
    }
  }
  return {
    events: [...announcementsOf(vote, correlationId), ...earlier],
    flagged: flagged + earlier.length,
    bursts: joined.completed.map(({ key }) => ({ source: key.source, flag: key.flag })),
  };
}

export const ticketOpeningOf = (vote: AcceptedEvaluation): TicketOpening => ({
  evaluationId: vote.evaluationId,
  caseId: vote.caseId,
  regionCode: vote.regionCode,
  departmentCode: vote.departmentCode,
  itemCode: vote.itemCode,
  level: vote.level,
  // An app evaluation knows only the subject; it stands in for the idHmac (both are keyed pseudonyms).
  evaluatorIdHmac: vote.evaluator.idHmac ?? vote.evaluator.sub,
  openedAt: vote.acceptedAt,
});

const PUT_EVENTS_MAX_ENTRIES = 10;

/** Publishes in PutEvents-sized chunks; a message whose events did not all go out is redelivered (and re-announced). */
async function publishAll(
  deps: EvaluationProcessorDependencies,
  handled: ReadonlyMap<string, Handled>,
  outcomes: Map<string, Error | undefined>,
): Promise<void> {
  const tagged = [...handled].flatMap(([messageId, h]) => h.events.map((event) => ({ messageId, event })));
  for (let start = 0; start < tagged.length; start += PUT_EVENTS_MAX_ENTRIES) {
    const chunk = tagged.slice(start, start + PUT_EVENTS_MAX_ENTRIES);
    try {
      await deps.publish(chunk.map((t) => t.event));
    } catch (error) {
      for (const { messageId } of chunk) outcomes.set(messageId, asError(error));
    }
  }
}

function report(
  outcomes: Map<string, Error | undefined>,
  handled: ReadonlyMap<string, Handled>,
): EvaluationBatchReport {
  const dispositions: Record<Disposition, number> = {
    vote: 0,
    review: 0,
    duplicate: 0,
    waiting: 0,
    case_unknown: 0,
    case_not_completed: 0,
    too_late: 0,
  };
  let flagged = 0;
  const bursts: EvaluationBatchReport['bursts'] = [];
  for (const h of handled.values()) {
    dispositions[h.disposition] += 1;
    flagged += h.flagged;
    bursts.push(...h.bursts);
  }
  return { outcomes, dispositions, flagged, bursts };
}

// ---- The Lambda entry point ----------------------------------------------------------------------------------

/** Half the consumer's 30 s timeout: a submission started at the last moment still has 15 s to end. */
export const DEFAULT_BATCH_TIME_BUDGET_SECONDS = 15;

const consumerEnv = z.object({
  EVALUATIONS_TABLE: tableName,
  EVALUATION_QUEUE_URL: requiredString,
  EVENT_BUS_NAME: requiredString,
  CASE_WAIT_SECONDS: positiveInt(DEFAULT_CASE_WAIT_SECONDS),
  CASE_RECHECK_SECONDS: positiveInt(DEFAULT_RECHECK_SECONDS).pipe(z.number().max(MAX_SQS_DELAY_SECONDS)),
  LATE_EVALUATION_WORKING_DAYS: positiveInt(DEFAULT_LATE_EVALUATION_WORKING_DAYS),
  ABUSE_WINDOW_SECONDS: positiveInt(DEFAULT_ABUSE_WINDOW_SECONDS),
  ABUSE_BURST_THRESHOLD: positiveInt(DEFAULT_ABUSE_BURST_THRESHOLD).pipe(
    z.number().max(MAX_ABUSE_BURST_THRESHOLD),
  ),
  /** JSON `{ holidays, workdays }` (shared/calendar.ts); absent: weekends off only. */
  HOLIDAY_CALENDAR: holidayCalendarEnv,
  /** Seconds a batch may spend starting submissions; the rest of the function's timeout lets started ones end. */
  BATCH_TIME_BUDGET_SECONDS: positiveInt(DEFAULT_BATCH_TIME_BUDGET_SECONDS),
});

/** Sends a waiting submission back to its queue with a delay; the correlation id rides along as before. */
export const createParking =
  (sqs: SQSClient, queueUrl: string) =>
  async (message: EvaluationMessage, delaySeconds: number): Promise<void> => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds: Math.max(0, Math.min(MAX_SQS_DELAY_SECONDS, Math.round(delaySeconds))),
        MessageAttributes: { correlationId: { DataType: 'String', StringValue: message.correlationId } },
      }),
    );
  };

/**
 * The consumer's own DynamoDB client. A submission is a chain of ~7 calls, so a throttled table (or one call that
 * hangs) decides whether a whole batch ends within its time: more attempts (standard mode, with the SDK's
 * exponential back-off and jitter) absorb sustained throttling instead of failing the message, and a call that
 * has not answered in 5 s — DynamoDB answers in milliseconds — is abandoned and retried rather than waited for
 * until the batch times out. Every write here is conditional, so a retried write that had been applied is a no-op.
 */
export const CONSUMER_DYNAMODB_MAX_ATTEMPTS = 8;
const CONSUMER_DYNAMODB_REQUEST_TIMEOUT_MS = 5_000;
const consumerDocumentClient = () =>
  createDocumentClient(
    traced(
      new DynamoDBClient({
        requestHandler: { ...requestHandler, requestTimeout: CONSUMER_DYNAMODB_REQUEST_TIMEOUT_MS },
        maxAttempts: CONSUMER_DYNAMODB_MAX_ATTEMPTS,
      }),
    ),
  );

/** What the handler needs beyond the processor's dependencies: how long a batch may start submissions. */
type ConsumerDependencies = EvaluationProcessorDependencies & { batchTimeBudgetMs: number };

// Built on first use, so that importing the module (tests, synth) needs no environment.
const dependencies = once(async (): Promise<ConsumerDependencies> => {
  const aws = { documentClient: consumerDocumentClient(), ...eventBridgeClients(), ...sqsClients() };
  const config = loadConfig(consumerEnv);
  const tickets = loadTicketSettings();
  const publisher = createEventPublisher({
    client: aws.eventBridge,
    busName: config.EVENT_BUS_NAME,
    source: EVENT_SOURCE,
  });
  return {
    store: createEvaluationStore({ doc: aws.documentClient, evaluationsTable: config.EVALUATIONS_TABLE }),
    // The catalogue types only the detail types it lists; EvaluationReceived and BadReviewOpened join it with
    // issue 5 (until then the publisher refuses them at run time, and this cast goes with that change).
    publish: (events) => publisher.publish(events),
    park: createParking(aws.sqs, config.EVALUATION_QUEUE_URL),
    openTicket: (opening) => openTicketItem(opening, tickets),
    clock: () => new Date(),
    rules: {
      caseWaitSeconds: config.CASE_WAIT_SECONDS,
      recheckSeconds: config.CASE_RECHECK_SECONDS,
      lateWorkingDays: config.LATE_EVALUATION_WORKING_DAYS,
      calendar: config.HOLIDAY_CALENDAR,
    },
    abuse: { windowSeconds: config.ABUSE_WINDOW_SECONDS, threshold: config.ABUSE_BURST_THRESHOLD },
    batchTimeBudgetMs: config.BATCH_TIME_BUDGET_SECONDS * 1000,
  };
});

export const handler = sqsBatchConsumer({
  schema: evaluationMessageSchema,
  processBatch: async (items, { logger, metrics }) => {
    const deps = await dependencies();
    const report = await processEvaluations(
      { ...deps, startBefore: deps.clock().getTime() + deps.batchTimeBudgetMs },
      items.map((item) => ({
        messageId: item.messageId,
        message: item.body,
        receiveCount: item.receiveCount,
      })),
    );
    for (const [disposition, count] of Object.entries(report.dispositions)) {
      if (count > 0) metrics.addMetric(`Evaluations_${disposition}`, MetricUnit.Count, count);
    }
    metrics.addMetric('EvaluationsFlagged', MetricUnit.Count, report.flagged);
    // Source and kind only: a burst's comment is the evaluators' free text and never reaches the log.
    for (const burst of report.bursts) logger.warn('evaluation burst flagged', { ...burst });
    return report.outcomes;
  },
});
