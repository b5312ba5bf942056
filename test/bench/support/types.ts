import type { RunningHub } from '../../../infra/local/hub';

/**
 * The contract between `npm run bench` (run.ts) and each `test/bench/*.bench.ts`. A benchmark never asserts a
 * timing: it reports RATIOS of a subject's rate to a baseline measured in the same run on the same machine,
 * with both raw rates beside them, because only a ratio means something across machines.
 */

export interface BenchContext {
  /** One progress line on stderr, prefixed with the benchmark's name. */
  progress(message: string): void;
  /** The local hub shared by every benchmark of the run, started on first use and stopped by the runner. */
  hub(): Promise<RunningHub>;
}

/** A median rate over rounds of the same measurement. */
export interface Rate {
  /** What was measured, e.g. `jose.jwtVerify in process`. */
  label: string;
  /** What one operation is, e.g. `tokens`, `changes`, `items`. */
  unit: string;
  /** Median over the rounds. */
  perSecond: number;
  /** Each round's rate, in the order measured. */
  rounds: number[];
  /** Operations per round and how they were driven (concurrency, batch size…). */
  method: string;
  /**
   * Set when the figure compares quantities rather than rates (read capacity per rollup, say): `perSecond` then
   * holds `unit`s per this, e.g. `rollup of 10 days`.
   */
  per?: string;
}

export interface Figure {
  name: string;
  subject: Rate;
  baseline: Rate;
  /** subject.perSecond / baseline.perSecond */
  ratio: number;
  /**
   * The ratio the design aims for, when it states one (a floor or a ceiling); `met` is informative only, never
   * a test. `of: 'subject'` when the design states its goal on the subject's own value (e.g. ≤ 6 WCU per change).
   */
  goal?: ({ atLeast: number } | { atMost: number }) & { of?: 'ratio' | 'subject'; met: boolean };
  notes?: string[];
}

/**
 * A figure this run could not measure: `skipped` when its subject does not exist yet, `failed` when measuring
 * it threw (the benchmark's other figures still stand).
 */
export interface UnmeasuredFigure {
  name: string;
  status: 'skipped' | 'failed';
  reason: string;
}

/**
 * Capacity one operation consumes, per operation, for the capacity model (`npm run hub -- capacity`, which reads
 * these from results.json by `operation`): totals and per logical table (nonces, registry, cases, statistics…).
 */
export interface OperationCapacityFigure {
  operation: string;
  wcu: number;
  rcu: number;
  tables: Record<string, { wcu: number; rcu: number }>;
  /** How it was measured (ReturnConsumedCapacity, or priced from item sizes for transactions) and over what. */
  basis: string;
}

/** A measured quantity the capacity model needs besides capacity (e.g. status changes per case). */
export interface QuantityFigure {
  name: string;
  value: number;
  basis: string;
}

export type BenchOutcome =
  | {
      status: 'ok';
      figures: Figure[];
      unmeasured?: UnmeasuredFigure[];
      notes?: string[];
      capacity?: OperationCapacityFigure[];
      quantities?: QuantityFigure[];
    }
  | { status: 'skipped'; reason: string };

export interface Benchmark {
  name: string;
  description: string;
  run(context: BenchContext): Promise<BenchOutcome>;
}

export const skipped = (reason: string): BenchOutcome => ({ status: 'skipped', reason });

/** A figure from two rates, with its goal evaluated. */
export function figure(
  name: string,
  subject: Rate,
  baseline: Rate,
  options: { goalAtLeast?: number; goalAtMost?: number; goalOf?: 'ratio' | 'subject'; notes?: string[] } = {},
): Figure {
  const ratio = subject.perSecond / baseline.perSecond;
  const of = options.goalOf ?? 'ratio';
  const judged = of === 'subject' ? subject.perSecond : ratio;
  const scope = of === 'subject' ? { of } : {};
  const goal =
    options.goalAtLeast !== undefined
      ? { atLeast: options.goalAtLeast, ...scope, met: judged >= options.goalAtLeast }
      : options.goalAtMost !== undefined
        ? { atMost: options.goalAtMost, ...scope, met: judged <= options.goalAtMost }
        : undefined;
  return {
    name,
    subject,
    baseline,
    ratio,
    ...(goal ? { goal } : {}),
    ...(options.notes ? { notes: options.notes } : {}),
  };
}
