import { performance } from 'node:perf_hooks';
import type { Rate } from './types';

/**
 * Rates measured the same way for every figure: one warm-up round that is thrown away (JIT, connection
 * pools, DynamoDB Local's own warm-up), then a few rounds of a FIXED amount of work, and the median of the
 * rounds' rates. Fixed work per round rather than fixed time keeps the whole run bounded.
 */

export interface RoundResult {
  operations: number;
  seconds: number;
}

export interface Measurement {
  label: string;
  unit: string;
  /** Operations per round and how they are driven, for the report. */
  method: string;
  /** One round of work, timed by itself; `round` is 0 for the warm-up, then 1..rounds. */
  round: (round: number) => Promise<RoundResult>;
}

/**
 * Measures a subject and its baseline in alternating rounds (warm-up of each, then subject, baseline,
 * subject, baseline…), so that whatever else the machine does drifts over both alike and their ratio holds.
 */
export async function measurePair(
  subject: Measurement,
  baseline: Measurement,
  rounds: number,
  progress: (message: string) => void = () => {},
): Promise<[Rate, Rate]> {
  const rates = new Map<Measurement, number[]>([
    [subject, []],
    [baseline, []],
  ]);
  for (const measurement of [subject, baseline]) {
    progress(`${measurement.label}: warm-up`);
    await measurement.round(0);
  }
  for (let round = 1; round <= rounds; round++) {
    for (const measurement of [subject, baseline]) {
      const { operations, seconds } = await measurement.round(round);
      if (operations <= 0 || seconds <= 0)
        throw new Error(`${measurement.label}: round ${round} measured nothing`);
      const rate = operations / seconds;
      rates.get(measurement)?.push(rate);
      progress(`${measurement.label}: round ${round}/${rounds} ${formatRate(rate)} ${measurement.unit}/s`);
    }
  }
  const toRate = (m: Measurement): Rate => {
    const measured = rates.get(m) ?? [];
    return { label: m.label, unit: m.unit, method: m.method, perSecond: median(measured), rounds: measured };
  };
  return [toRate(subject), toRate(baseline)];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Times `work` and counts the operations it reports having done. */
export async function timed(work: () => Promise<number>): Promise<RoundResult> {
  const start = performance.now();
  const operations = await work();
  return { operations, seconds: (performance.now() - start) / 1000 };
}

/**
 * Runs `operation(i)` for i in 0..count-1 with at most `concurrency` in flight (a closed loop, as a pool of
 * platform servers would call), and times the whole. Every operation must succeed: a failure aborts the
 * round rather than being counted as throughput.
 */
export function timedOperations(
  count: number,
  concurrency: number,
  operation: (index: number) => Promise<unknown> | unknown,
): Promise<RoundResult> {
  return timed(async () => {
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const index = next++;
        await operation(index);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    return count;
  });
}

export function formatRate(perSecond: number): string {
  if (perSecond >= 100) return Math.round(perSecond).toLocaleString('en-US');
  return perSecond.toPrecision(3);
}
