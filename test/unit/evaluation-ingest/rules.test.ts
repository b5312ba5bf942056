import { describe, expect, it } from 'vitest';
import { submissionIdOf } from '../../../functions/evaluation-ingest/domain/evaluation';
import {
  judge,
  judgeDuplicate,
  lastEvaluationDay,
  type PriorSubmissions,
} from '../../../functions/evaluation-ingest/domain/rules';
import { configuredCalendar } from '../../../shared/calendar';
import { knownCase, messageOf, ruleSettings } from './ingest-fixtures';

const none: PriorSubmissions = { recorded: new Map() };
const RECEIVED = '2026-11-20T03:00:00.000Z';
const at = (iso: string) => new Date(iso);

describe('the case an evaluation names', () => {
  it('waits for an unknown case, re-checking at most every recheck interval, then rejects it as case_unknown', () => {
    const message = messageOf({ receivedAt: RECEIVED });
    expect(judge(message, undefined, none, at(RECEIVED), ruleSettings)).toEqual({
      kind: 'wait',
      awaiting: 'case',
      recheckInSeconds: 900,
    });
    // 100 s before the wait ends, the next look is the last one.
    expect(judge(message, undefined, none, at('2026-11-21T02:58:20.000Z'), ruleSettings)).toEqual({
      kind: 'wait',
      awaiting: 'case',
      recheckInSeconds: 100,
    });
    expect(judge(message, undefined, none, at('2026-11-21T03:00:00.000Z'), ruleSettings)).toEqual({
      kind: 'reject',
      reason: 'case_unknown',
    });
  });

  it('waits for the completion of a case an evaluation at completion names, unless the case ended otherwise', () => {
    const message = messageOf({ stage: 'completed', receivedAt: RECEIVED });
    const inProgress = knownCase({ statuses: ['accepted', 'in_progress'], completedAt: undefined });
    expect(judge(message, inProgress, none, at(RECEIVED), ruleSettings)).toMatchObject({
      kind: 'wait',
      awaiting: 'completion',
    });
    expect(judge(message, inProgress, none, at('2026-11-22T00:00:00Z'), ruleSettings)).toEqual({
      kind: 'reject',
      reason: 'case_not_completed',
    });
    const terminated = knownCase({ statuses: ['accepted', 'terminated'], completedAt: undefined });
    expect(judge(message, terminated, none, at(RECEIVED), ruleSettings)).toEqual({
      kind: 'reject',
      reason: 'case_not_completed',
    });
    // An evaluation at acceptance needs the case, not its completion.
    expect(judge(messageOf({ stage: 'accepted' }), inProgress, none, at(RECEIVED), ruleSettings)).toEqual({
      kind: 'vote',
    });
  });

  it('rejects an evaluation at completion given before the case completed', () => {
    const message = messageOf({ stage: 'completed', evaluatedAt: '2026-11-19T15:59:00+08:00' });
    expect(judge(message, knownCase(), none, at(RECEIVED), ruleSettings)).toEqual({
      kind: 'reject',
      reason: 'case_not_completed',
    });
  });
});

describe('the late window', () => {
  // Completed Thursday 2026-11-19 (Shanghai): five working days run Fri, Mon–Thu → last day Thursday 11-26.
  it('accepts through the fifth working day after completion and rejects the day after as too_late', () => {
    expect(lastEvaluationDay('2026-11-19T08:00:00Z', ruleSettings)).toBe('2026-11-26');
    const onLastDay = messageOf({ evaluatedAt: '2026-11-26T23:59:00+08:00' });
    const dayAfter = messageOf({ evaluatedAt: '2026-11-27T00:00:00+08:00' });
    const now = at('2026-11-27T01:00:00Z');
    expect(judge(onLastDay, knownCase(), none, now, ruleSettings)).toEqual({ kind: 'vote' });
    expect(judge(dayAfter, knownCase(), none, now, ruleSettings)).toEqual({
      kind: 'reject',
      reason: 'too_late',
    });
  });

  it('counts working days by the configured calendar and the configured window', () => {
    const calendar = configuredCalendar({ holidays: ['2026-11-20', '2026-11-23'], workdays: [] });
    expect(lastEvaluationDay('2026-11-19T08:00:00Z', { ...ruleSettings, calendar })).toBe('2026-11-30');
    expect(lastEvaluationDay('2026-11-19T08:00:00Z', { ...ruleSettings, lateWorkingDays: 1 })).toBe(
      '2026-11-20',
    );
  });

  it('applies the window to evaluations at acceptance of a completed case as well', () => {
    const late = messageOf({ stage: 'accepted', evaluatedAt: '2026-12-01T10:00:00+08:00' });
    expect(judge(late, knownCase(), none, at('2026-12-01T03:00:00Z'), ruleSettings)).toEqual({
      kind: 'reject',
      reason: 'too_late',
    });
  });
});

describe('one vote per case, stage and evaluator', () => {
  it('makes the first accepted submission the vote and a later different one a review', () => {
    const first = messageOf({ level: 2 });
    expect(judge(first, knownCase(), none, at(RECEIVED), ruleSettings)).toEqual({ kind: 'vote' });
    const prior: PriorSubmissions = {
      voteSubmissionId: submissionIdOf(first),
      recorded: new Map([[submissionIdOf(first), 'vote']]),
    };
    const second = messageOf({ level: 5, comment: '已解决' });
    expect(judgeDuplicate(submissionIdOf(second), prior)).toBeUndefined();
    expect(judge(second, knownCase(), prior, at(RECEIVED), ruleSettings)).toEqual({ kind: 'review' });
  });

  it('recognises a copy of any recorded submission, rejected ones included', () => {
    const message = messageOf();
    const id = submissionIdOf(message);
    for (const as of ['vote', 'review', 'rejected'] as const) {
      expect(judgeDuplicate(id, { recorded: new Map([[id, as]]) })).toEqual({ kind: 'duplicate', as });
    }
  });
});
