import type { RollupCounters } from './rollup';

/**
 * Assessment rates, kept as exact fractions of whole counters and rounded only when rendered, so that a
 * province's rate is never a rounded mean of rounded county rates. A zero denominator gives null
 * ("nothing to rate"), never 0: a region that completed no case did not complete 0 % on time.
 */
export interface Ratio {
  numerator: number;
  denominator: number;
}

export interface Rates {
  /** 按时办结率: completed on time / completed. */
  onTimeCompletionRate: Ratio | null;
  /** 全程网办率: fully online / received. */
  fullyOnlineRate: Ratio | null;
  /** 网上办理率: online (online or mobile channel) / received. */
  onlineRate: Ratio | null;
  /** Average processing time in hours: processing centihours / (100 × completed). */
  averageProcessingHours: Ratio | null;
  /** 满意率: counted votes at level ≥ 3 (基本满意 or better) / counted votes (dismissed bad reviews left out). */
  satisfactionRate: Ratio | null;
  /** 差评整改率: bad reviews whose ticket reached `rectified` / bad reviews (dismissed ones left out). */
  rectificationRate: Ratio | null;
}

export const RATES_NOTE =
  'satisfactionRate (满意率) = satisfied / evaluations: votes at level 3 (基本满意) or better among the counted votes; rectificationRate (差评整改率) = rectified / badReviews: bad reviews whose ticket reached rectified. Both count the evaluations given in the period, flagged ones included (see flagged); bad reviews dismissed on appeal leave both (see dismissed).';

export const RATE_DECIMALS = 2;

const ratio = (numerator: number, denominator: number): Ratio | null =>
  denominator === 0 ? null : { numerator, denominator };

/**
 * Average processing time divides by every completed case, as the assessment rules define it; a case completed
 * without a known acceptance adds no hours (statistics.ts), so the average is low when platforms omit
 * acceptances.
 */
export function ratesOf(counters: RollupCounters): Rates {
  return {
    onTimeCompletionRate: ratio(counters.completedOnTime, counters.completed),
    fullyOnlineRate: ratio(counters.fullyOnline, counters.received),
    onlineRate: ratio(counters.online, counters.received),
    averageProcessingHours: ratio(counters.processingCentihours, counters.completed * 100),
    satisfactionRate: ratio(counters.satisfied, counters.evaluations),
    rectificationRate: ratio(counters.rectified, counters.badReviews),
  };
}

/**
 * numerator / denominator × 10^decimals rounded half away from zero, in integer arithmetic (BigInt), so that
 * 0.125 renders as 0.13 whatever binary floating point would make of it.
 */
function scaledRound(numerator: number, denominator: number, scale: number): bigint {
  const n = BigInt(numerator) * 10n ** BigInt(scale);
  const d = BigInt(denominator);
  const negative = n < 0n !== d < 0n;
  const absN = n < 0n ? -n : n;
  const absD = d < 0n ? -d : d;
  const rounded = (2n * absN + absD) / (2n * absD);
  return negative ? -rounded : rounded;
}

const withDecimals = (scaled: bigint, decimals: number): number => Number(scaled) / 10 ** decimals;

/** A rate as a percentage with RATE_DECIMALS decimals, rounded half up: 2/3 → 66.67. */
export function percent(rate: Ratio | null, decimals = RATE_DECIMALS): number | null {
  if (rate === null) return null;
  return withDecimals(scaledRound(rate.numerator * 100, rate.denominator, decimals), decimals);
}

/** A plain quotient with RATE_DECIMALS decimals, rounded half up (average hours: 1234 / 300 → 4.11). */
export function quotient(rate: Ratio | null, decimals = RATE_DECIMALS): number | null {
  if (rate === null) return null;
  return withDecimals(scaledRound(rate.numerator, rate.denominator, decimals), decimals);
}

/** A rendered rate: the exact fraction and its rounded value (a percentage, or hours for the average). */
export interface RenderedRate {
  numerator: number;
  denominator: number;
  value: number;
}

export interface RenderedRates {
  onTimeCompletionRate: RenderedRate | null;
  fullyOnlineRate: RenderedRate | null;
  onlineRate: RenderedRate | null;
  averageProcessingHours: RenderedRate | null;
  satisfactionRate: RenderedRate | null;
  rectificationRate: RenderedRate | null;
}

const renderedPercent = (rate: Ratio | null): RenderedRate | null =>
  rate && { ...rate, value: percent(rate) as number };

export function renderRates(rates: Rates): RenderedRates {
  const average = rates.averageProcessingHours;
  return {
    onTimeCompletionRate: renderedPercent(rates.onTimeCompletionRate),
    fullyOnlineRate: renderedPercent(rates.fullyOnlineRate),
    onlineRate: renderedPercent(rates.onlineRate),
    // Rendered as total hours / completed cases, which is what a reader expects to see divided.
    averageProcessingHours: average && {
      numerator: average.numerator / 100,
      denominator: average.denominator / 100,
      value: quotient(average) as number,
    },
    satisfactionRate: renderedPercent(rates.satisfactionRate),
    rectificationRate: renderedPercent(rates.rectificationRate),
  };
}
