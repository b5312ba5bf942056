import { describe, expect, it } from 'vitest';
import {
  DeferredError,
  type EvaluationProcessorDependencies,
  processEvaluations,
  type ReceivedEvaluation,
} from '../../functions/evaluation-ingest/consumer';
import type { EvaluationMessage } from '../../functions/evaluation-ingest/domain/evaluation';
import type { EvaluationStore } from '../../functions/evaluation-ingest/evaluation-store';

/**
 * The evaluation consumer's batch time budget (why: under sustained throttling a batch of 50 used to run into the
 * function's timeout and fail whole, parking messages that had been applied): once `startBefore` has passed, no
 * submission is started — each is answered with a DeferredError and left to redelivery, nothing is written for it —
 * and the submissions retried most often are started first, so that a deferred message is not deferred for ever.
 */

const T0 = Date.parse('2026-11-22T10:00:00Z');

function received(evaluationId: string, receiveCount: number): ReceivedEvaluation {
  const message = {
    evaluationId,
    level: 4,
    channel: 'window',
    evaluatedAt: '2026-11-22T09:00:00+08:00',
  } as unknown as EvaluationMessage;
  return { messageId: `m-${evaluationId}`, message, receiveCount };
}

/** A store that records which evaluation each call was for, passes the deadline on first use, then fails. */
function recordingStore(clock: { now: number }, deadline: number) {
  const touched: string[] = [];
  const store = new Proxy({} as EvaluationStore, {
    get: () => async (evaluationId: unknown) => {
      touched.push(String(evaluationId));
      clock.now = deadline;
      throw new Error('store reached');
    },
  });
  return { store, touched };
}

function dependencies(store: EvaluationStore, clock: { now: number }, startBefore: number) {
  return {
    store,
    publish: async () => undefined,
    park: async () => undefined,
    openTicket: () => ({}) as never,
    clock: () => new Date(clock.now),
    rules: {} as EvaluationProcessorDependencies['rules'],
    abuse: {} as EvaluationProcessorDependencies['abuse'],
    concurrency: 1,
    startBefore,
  } satisfies EvaluationProcessorDependencies;
}

describe('evaluation consumer batch time budget', () => {
  it('starts nothing once the budget is spent, and writes nothing for what it defers', async () => {
    const clock = { now: T0 };
    const { store, touched } = recordingStore(clock, T0);
    const report = await processEvaluations(dependencies(store, clock, T0), [
      received('e1', 1),
      received('e2', 2),
    ]);
    expect(touched).toEqual([]);
    expect([...report.outcomes.values()].every((e) => e instanceof DeferredError)).toBe(true);
    expect(report.outcomes.size).toBe(2);
  });

  it('starts the most retried submissions first and defers the rest once time is up', async () => {
    const clock = { now: T0 };
    const deadline = T0 + 1_000;
    const { store, touched } = recordingStore(clock, deadline);
    const report = await processEvaluations(dependencies(store, clock, deadline), [
      received('once', 1),
      received('thrice', 3),
      received('twice', 2),
    ]);
    // The first submission started was the one delivered three times; it met the store (and its failure).
    expect(touched).toEqual(['thrice']);
    expect(report.outcomes.get('m-thrice')?.message).toBe('store reached');
    expect(report.outcomes.get('m-twice')).toBeInstanceOf(DeferredError);
    expect(report.outcomes.get('m-once')).toBeInstanceOf(DeferredError);
  });

  it('starts everything when no budget is set', async () => {
    const clock = { now: T0 };
    const { store, touched } = recordingStore(clock, T0 + 10);
    const deps = { ...dependencies(store, clock, 0), startBefore: undefined };
    await processEvaluations(deps, [received('a', 1), received('b', 1)]);
    expect(touched.sort()).toEqual(['a', 'b']);
  });
});
