import { describe, expect, it } from 'vitest';
import type { CaseRecord } from '../../../functions/case-aggregate/domain/case';
import {
  contributionDelta,
  type EvaluationContribution,
  type EvaluationCounters,
  type EvaluationFacts,
  type EvaluationObservation,
  evaluationBucket,
  evaluationContribution,
  observeAll,
  planEvaluationCommits,
  sumEvaluationContributions,
} from '../../../functions/case-aggregate/domain/evaluation-counts';
import { bucketOf } from '../../../functions/case-aggregate/domain/statistics';
import { seededRandom } from '../../../shared/identifiers/generate';
import { DEPT_HANGZHOU, ITEM_A } from './rollup-fixtures';

const SHARDS = 8;
const dims = {
  caseId: '330106:ZJ-2026-0001',
  regionCode: '330106',
  departmentCode: DEPT_HANGZHOU,
  itemCode: ITEM_A,
};
const ID = 'Zq3n0cM2wLk8pV1xR7tY4uB6hJ9dF2sA';
// 2026-11-20 23:30 in Shanghai is still the 20th there (15:30 UTC).
const EVALUATED_AT = '2026-11-20T15:30:00Z';

const vote = (level: number, flags: string[] = []): EvaluationObservation => ({
  kind: 'vote',
  evaluationId: ID,
  vote: { ...dims, level, evaluatedAt: EVALUATED_AT, flags },
});
const badReview = (level = 2): EvaluationObservation => ({
  kind: 'badReview',
  evaluationId: ID,
  badReview: { ...dims, level, evaluatedAt: EVALUATED_AT },
});
const transition = (
  sequence: number,
  to: EvaluationFacts['transitions'][number]['to'],
): EvaluationObservation => ({
  kind: 'transition',
  evaluationId: ID,
  transition: { transitionId: `${ID}#${sequence}`, to },
});

const BUCKET = evaluationBucket(dims, '2026-11-20', SHARDS);

/** The single bucket's counters of a contribution (all of an evaluation goes to one bucket). */
function countersOf(contribution: EvaluationContribution): EvaluationCounters {
  expect([...contribution.keys()].every((id) => id === `${BUCKET.pk}|${BUCKET.sk}`)).toBe(true);
  return contribution.get(`${BUCKET.pk}|${BUCKET.sk}`)?.counters ?? {};
}

const countedAfter = (observations: EvaluationObservation[]) =>
  countersOf(evaluationContribution(observeAll(undefined, ID, observations).facts, SHARDS));

/** Commits observations one at a time as separate deliveries would, summing the deltas the buckets receive. */
function bucketsAfterDeliveries(observations: readonly EvaluationObservation[]): EvaluationCounters {
  let facts: EvaluationFacts | undefined;
  let committed: EvaluationContribution = new Map();
  const deltas: EvaluationContribution[] = [];
  for (const observation of observations) {
    const result = observeAll(facts, ID, [observation]);
    if (!result.changed) continue;
    const after = evaluationContribution(result.facts, SHARDS);
    deltas.push(contributionDelta(after, committed));
    facts = result.facts;
    committed = after;
  }
  return countersOf(sumEvaluationContributions(deltas));
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

describe('evaluation contribution', () => {
  it('goes to the case bucket of the evaluation day in Shanghai, the same key the case counters use', () => {
    expect(BUCKET.pk).toBe(`STATS#330000#2026-11-20#${BUCKET.shard}`);
    const asCase = bucketOf({ ...dims } as CaseRecord, '2026-11-20', { shards: SHARDS } as never);
    expect(BUCKET).toEqual(asCase);
  });

  it('counts a vote, satisfied from level 3 (基本满意) up, and its flags', () => {
    expect(countedAfter([vote(5)])).toEqual({ evaluations: 1, satisfied: 1 });
    expect(countedAfter([vote(3)])).toEqual({ evaluations: 1, satisfied: 1 });
    expect(countedAfter([vote(2)])).toEqual({ evaluations: 1 });
    expect(countedAfter([vote(5, ['burst_identical_top'])])).toEqual({
      evaluations: 1,
      satisfied: 1,
      flagged: 1,
    });
  });

  it('counts a bad review, rectified once its ticket reached rectified (or revisited, which implies it)', () => {
    expect(countedAfter([vote(1), badReview(1)])).toEqual({ evaluations: 1, badReviews: 1 });
    expect(countedAfter([vote(2), badReview(), transition(1, 'verified')])).toEqual({
      evaluations: 1,
      badReviews: 1,
    });
    expect(countedAfter([badReview(), transition(2, 'rectified')])).toEqual({ badReviews: 1, rectified: 1 });
    expect(countedAfter([badReview(), transition(3, 'revisited')])).toEqual({ badReviews: 1, rectified: 1 });
  });

  it('takes a dismissed review out of every rate and counts it dismissed', () => {
    expect(
      countedAfter([vote(1, ['burst_identical_comment']), badReview(1), transition(2, 'dismissed')]),
    ).toEqual({ dismissed: 1 });
  });

  it('counts nothing while only transitions are known: they carry no evaluation day', () => {
    expect(
      evaluationContribution(observeAll(undefined, ID, [transition(2, 'dismissed')]).facts, SHARDS).size,
    ).toBe(0);
  });
});

describe('evaluation deltas', () => {
  it('a dismissal arriving before the vote: nothing, then the dismissed count only — never a vote', () => {
    let facts = observeAll(undefined, ID, [transition(1, 'appealed'), transition(2, 'dismissed')]).facts;
    const first = evaluationContribution(facts, SHARDS);
    expect(first.size).toBe(0);
    facts = observeAll(facts, ID, [vote(2)]).facts;
    const second = evaluationContribution(facts, SHARDS);
    expect(countersOf(contributionDelta(second, first))).toEqual({ dismissed: 1 });
    facts = observeAll(facts, ID, [badReview()]).facts;
    expect(contributionDelta(evaluationContribution(facts, SHARDS), second).size).toBe(0);
  });

  it('a dismissal after the vote subtracts it exactly once', () => {
    const counted = observeAll(undefined, ID, [vote(2, ['burst_identical_comment']), badReview()]).facts;
    const before = evaluationContribution(counted, SHARDS);
    const dismissed = observeAll(counted, ID, [transition(1, 'appealed'), transition(2, 'dismissed')]);
    const after = evaluationContribution(dismissed.facts, SHARDS);
    expect(countersOf(contributionDelta(after, before))).toEqual({
      evaluations: -1,
      flagged: -1,
      badReviews: -1,
      dismissed: 1,
    });
    // The same dismissal delivered again is a duplicate: no change, no delta.
    const again = observeAll(dismissed.facts, ID, [transition(2, 'dismissed')]);
    expect(again.changed).toBe(false);
    expect(contributionDelta(evaluationContribution(again.facts, SHARDS), after).size).toBe(0);
  });

  it('duplicates change nothing; a vote announced again with a new flag only adds `flagged`', () => {
    const facts = observeAll(undefined, ID, [vote(5), badReview(), transition(1, 'verified')]).facts;
    expect(observeAll(facts, ID, [vote(5), badReview(), transition(1, 'verified')]).changed).toBe(false);
    const flaggedLater = observeAll(facts, ID, [vote(5, ['burst_identical_top'])]);
    expect(flaggedLater.changed).toBe(true);
    expect(flaggedLater.facts.vote?.flags).toEqual(['burst_identical_top']);
    const delta = contributionDelta(
      evaluationContribution(flaggedLater.facts, SHARDS),
      evaluationContribution(facts, SHARDS),
    );
    expect(countersOf(delta)).toEqual({ flagged: 1 });
  });

  it('whatever the order and however often each event arrives, the buckets end with the final contribution', () => {
    const random = seededRandom(20261120);
    const histories: EvaluationObservation[][] = [
      [vote(5, ['burst_identical_top']), vote(5, ['burst_identical_comment'])],
      [
        vote(2),
        badReview(),
        transition(1, 'verified'),
        transition(2, 'rectified'),
        transition(3, 'revisited'),
      ],
      [vote(1), badReview(1), transition(1, 'appealed'), transition(2, 'dismissed')],
      [
        vote(2),
        badReview(),
        transition(1, 'appealed'),
        transition(2, 'verified'),
        transition(3, 'rectified'),
      ],
    ];
    for (const history of histories) {
      const final = countedAfter(history);
      for (let round = 0; round < 50; round += 1) {
        const deliveries = shuffled([...history, ...history.filter(() => random() < 0.5)], random);
        expect(bucketsAfterDeliveries(deliveries)).toEqual(final);
      }
    }
  });
});

describe('planEvaluationCommits', () => {
  const write = (evaluationId: string, counters: EvaluationCounters, regionCode = '330106') => {
    const bucket = evaluationBucket(
      { ...dims, caseId: `${regionCode}:${evaluationId}`, regionCode },
      '2026-11-20',
      1,
    );
    const delta: EvaluationContribution = new Map([[`${bucket.pk}|${bucket.sk}`, { bucket, counters }]]);
    return {
      evaluationId,
      expectedVersion: undefined,
      facts: { evaluationId, transitions: [] },
      contribution: delta,
      delta,
    };
  };

  it('merges the increments of a shared bucket into one update', () => {
    const [plan, ...rest] = planEvaluationCommits([
      write('a', { evaluations: 1, satisfied: 1 }),
      write('b', { evaluations: 1 }),
    ]);
    expect(rest).toEqual([]);
    expect(plan?.writes.map((w) => w.evaluationId)).toEqual(['a', 'b']);
    expect(plan?.buckets.map((b) => b.counters)).toEqual([{ evaluations: 2, satisfied: 1 }]);
  });

  it('splits transactions at the item limit: one marker and one bucket per write here', () => {
    const writes = Array.from({ length: 5 }, (_, i) => write(`e${i}`, { evaluations: 1 }, `33010${i}`));
    const plans = planEvaluationCommits(writes, 4);
    expect(plans.map((p) => p.writes.length)).toEqual([2, 2, 1]);
    expect(plans.every((p) => p.writes.length + p.buckets.length <= 4)).toBe(true);
  });
});
