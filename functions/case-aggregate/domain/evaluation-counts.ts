import { type Day, shanghaiDay } from '../../../shared/calendar';
import { type BucketKey, bucketId, statisticsBucket } from './statistics';

/**
 * Evaluation statistics (好差评) counted into the same buckets as the cases, from the evaluation capability's events
 * only — never from its tables. Events arrive at least once and in any order (a dismissal may overtake the vote it
 * dismisses), so counting follows the case consumer's pattern: the facts known about one evaluation are kept on a
 * marker item, its contribution is a pure function of those facts, and every commit adds
 * contribution(after) − contribution(committed before). The committed contribution is stored on the marker, so a
 * later change of the shard count cannot make a subtraction miss its bucket.
 *
 * Definitions (README "Evaluation counters"):
 * - `evaluations`: votes (`isReview: false`) still counted; reviews are never counted.
 * - `satisfied`: counted votes at level ≥ 3 (非常满意, 满意, 基本满意) — 满意率 = satisfied / evaluations.
 * - `flagged`: counted votes carrying an abuse flag; counted like any other vote, reported for the assessors.
 * - `badReviews`: bad reviews opened (`BadReviewOpened`) and not dismissed.
 * - `rectified`: of those, tickets that reached `rectified` (a later `revisited` implies it) — 差评整改率 =
 *   rectified / badReviews. The revisit judges the citizen's satisfaction; the rectification is the department's act.
 * - `dismissed`: bad reviews dismissed on appeal; they leave `evaluations`, `satisfied`, `flagged`, `badReviews` and
 *   `rectified`.
 * Every counter of an evaluation sits in the bucket of its evaluation day (Asia/Shanghai): the rates of a period are
 * those of the evaluations given in it, whenever their rectification happened.
 */
export const EVALUATION_COUNTERS = [
  'evaluations',
  'satisfied',
  'flagged',
  'badReviews',
  'rectified',
  'dismissed',
] as const;
export type EvaluationCounter = (typeof EVALUATION_COUNTERS)[number];
export type EvaluationCounters = Partial<Record<EvaluationCounter, number>>;

/** The lowest level that counts as satisfied: 3 基本满意. */
export const SATISFIED_MIN_LEVEL = 3;

export type TicketStatus = 'open' | 'verified' | 'rectified' | 'revisited' | 'appealed' | 'dismissed';

/** Where an evaluation is counted: the case's region, department and item. */
export interface EvaluationDimensions {
  caseId: string;
  regionCode: string;
  departmentCode: string;
  itemCode: string;
}

export interface VoteFact extends EvaluationDimensions {
  level: number;
  evaluatedAt: string;
  /** Union of the abuse flags seen, sorted. */
  flags: string[];
}

export interface BadReviewFact extends EvaluationDimensions {
  level: number;
  evaluatedAt: string;
}

export interface TransitionFact {
  transitionId: string;
  to: TicketStatus;
}

/** Everything known about one evaluation; grows only, so applying is commutative and idempotent. */
export interface EvaluationFacts {
  evaluationId: string;
  vote?: VoteFact;
  badReview?: BadReviewFact;
  /** Every ticket transition seen, sorted by transition id. */
  transitions: TransitionFact[];
}

export type EvaluationObservation =
  | { kind: 'vote'; evaluationId: string; vote: VoteFact }
  | { kind: 'badReview'; evaluationId: string; badReview: BadReviewFact }
  | { kind: 'transition'; evaluationId: string; transition: TransitionFact };

export interface EvaluationBucketCounters {
  bucket: BucketKey;
  counters: EvaluationCounters;
}

/** Bucket id → counters. */
export type EvaluationContribution = Map<string, EvaluationBucketCounters>;

export const emptyFacts = (evaluationId: string): EvaluationFacts => ({ evaluationId, transitions: [] });

const byTransitionId = (a: TransitionFact, b: TransitionFact) =>
  a.transitionId < b.transitionId ? -1 : a.transitionId > b.transitionId ? 1 : 0;

/** Adds one observation; `changed` is false for a duplicate (same vote and flags, bad review, or transition id). */
export function observe(
  facts: EvaluationFacts,
  observation: EvaluationObservation,
): { facts: EvaluationFacts; changed: boolean } {
  switch (observation.kind) {
    case 'vote': {
      if (!facts.vote) return { facts: { ...facts, vote: withSortedFlags(observation.vote) }, changed: true };
      // A vote is announced again when a burst is found later: only its flags can grow.
      const flags = [...new Set([...facts.vote.flags, ...observation.vote.flags])].sort();
      if (flags.length === facts.vote.flags.length) return { facts, changed: false };
      return { facts: { ...facts, vote: { ...facts.vote, flags } }, changed: true };
    }
    case 'badReview':
      if (facts.badReview) return { facts, changed: false };
      return { facts: { ...facts, badReview: observation.badReview }, changed: true };
    case 'transition': {
      const { transition } = observation;
      if (facts.transitions.some((t) => t.transitionId === transition.transitionId))
        return { facts, changed: false };
      return {
        facts: { ...facts, transitions: [...facts.transitions, transition].sort(byTransitionId) },
        changed: true,
      };
    }
  }
}

/** Applies observations in order; the result does not depend on the order (property of `observe`). */
export function observeAll(
  before: EvaluationFacts | undefined,
  evaluationId: string,
  observations: readonly EvaluationObservation[],
): { facts: EvaluationFacts; changed: boolean } {
  let facts = before ?? emptyFacts(evaluationId);
  let changed = false;
  for (const observation of observations) {
    const result = observe(facts, observation);
    facts = result.facts;
    changed ||= result.changed;
  }
  return { facts, changed };
}

const withSortedFlags = (vote: VoteFact): VoteFact => ({ ...vote, flags: [...new Set(vote.flags)].sort() });

/** The statistics bucket of a case's dimensions on a day: the same key the case counters use. */
export function evaluationBucket(dimensions: EvaluationDimensions, day: Day, shards: number): BucketKey {
  return statisticsBucket(dimensions, day, shards);
}

/**
 * What one evaluation adds to the statistics, given everything known about it. Nothing until its vote or bad review
 * is known (a transition alone carries no evaluation day); a dismissal takes it out of every rate.
 */
export function evaluationContribution(facts: EvaluationFacts, shards: number): EvaluationContribution {
  const anchor = facts.vote ?? facts.badReview;
  if (!anchor) return new Map();
  const reached = new Set(facts.transitions.map((t) => t.to));
  const counters: EvaluationCounters = {};
  if (reached.has('dismissed')) {
    counters.dismissed = 1;
  } else {
    if (facts.vote) {
      counters.evaluations = 1;
      counters.satisfied = facts.vote.level >= SATISFIED_MIN_LEVEL ? 1 : 0;
      counters.flagged = facts.vote.flags.length > 0 ? 1 : 0;
    }
    if (facts.badReview) {
      counters.badReviews = 1;
      counters.rectified = reached.has('rectified') || reached.has('revisited') ? 1 : 0;
    }
  }
  const bucket = evaluationBucket(anchor, shanghaiDay(anchor.evaluatedAt), shards);
  return withoutZeros(new Map([[bucketId(bucket), { bucket, counters }]]));
}

function addInto(total: EvaluationContribution, part: EvaluationContribution, sign: 1 | -1): void {
  for (const [id, { bucket, counters }] of part) {
    const existing = total.get(id) ?? { bucket, counters: {} };
    for (const [name, value] of Object.entries(counters) as [EvaluationCounter, number][]) {
      existing.counters[name] = (existing.counters[name] ?? 0) + sign * value;
    }
    total.set(id, existing);
  }
}

/** Counters to ADD so that buckets holding `before` hold `after`; zeros and empty buckets left out. */
export function contributionDelta(
  after: EvaluationContribution,
  before: EvaluationContribution,
): EvaluationContribution {
  const delta: EvaluationContribution = new Map();
  addInto(delta, after, 1);
  addInto(delta, before, -1);
  return withoutZeros(delta);
}

/** Sums contributions (of many evaluations, or the deltas of one transaction). */
export function sumEvaluationContributions(parts: Iterable<EvaluationContribution>): EvaluationContribution {
  const total: EvaluationContribution = new Map();
  for (const part of parts) addInto(total, part, 1);
  return withoutZeros(total);
}

function withoutZeros(contribution: EvaluationContribution): EvaluationContribution {
  const result: EvaluationContribution = new Map();
  for (const [id, { bucket, counters }] of contribution) {
    const nonZero = Object.entries(counters).filter(([, value]) => value !== 0);
    if (nonZero.length > 0) result.set(id, { bucket, counters: Object.fromEntries(nonZero) });
  }
  return result;
}

/** One evaluation's marker to write (conditioned on the version read) with the statistics it moves. */
export interface EvaluationWrite {
  evaluationId: string;
  /** undefined: the marker must not exist yet. */
  expectedVersion: number | undefined;
  facts: EvaluationFacts;
  /** The contribution after this write: stored on the marker for the next commit to subtract. */
  contribution: EvaluationContribution;
  delta: EvaluationContribution;
}

export interface EvaluationCommitPlan {
  writes: EvaluationWrite[];
  /** Deltas of every write merged, one entry per bucket. */
  buckets: EvaluationBucketCounters[];
}

/**
 * Packs marker writes into transactions of at most `maxItems` items (one Put per marker, one ADD per distinct
 * bucket). Evaluations of the same bucket merge their increments: fewer items and fewer hot-key conflicts.
 */
export function planEvaluationCommits(
  writes: readonly EvaluationWrite[],
  maxItems = 100,
): EvaluationCommitPlan[] {
  const plans: EvaluationCommitPlan[] = [];
  let pending: EvaluationWrite[] = [];
  let buckets = new Set<string>();
  const flush = () => {
    if (pending.length === 0) return;
    plans.push({
      writes: pending,
      buckets: [...sumEvaluationContributions(pending.map((w) => w.delta)).values()],
    });
    pending = [];
    buckets = new Set();
  };
  for (const write of writes) {
    const ids = [...write.delta.keys()];
    if (1 + ids.length > maxItems) throw new Error(`evaluation write needs more than ${maxItems} items`);
    const added = ids.filter((id) => !buckets.has(id)).length;
    if (pending.length + 1 + buckets.size + added > maxItems) flush();
    pending.push(write);
    for (const id of ids) buckets.add(id);
  }
  flush();
  return plans;
}
