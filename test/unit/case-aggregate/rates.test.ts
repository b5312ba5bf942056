import { describe, expect, it } from 'vitest';
import { percent, quotient, ratesOf, renderRates } from '../../../functions/case-aggregate/domain/rates';
import { counters } from './rollup-fixtures';

describe('rates', () => {
  it('are exact fractions of the counters', () => {
    const rates = ratesOf(
      counters({
        received: 6,
        completed: 3,
        completedOnTime: 2,
        online: 3,
        fullyOnline: 2,
        processingCentihours: 3475,
      }),
    );
    expect(rates).toEqual({
      onTimeCompletionRate: { numerator: 2, denominator: 3 },
      fullyOnlineRate: { numerator: 2, denominator: 6 },
      onlineRate: { numerator: 3, denominator: 6 },
      averageProcessingHours: { numerator: 3475, denominator: 300 },
      satisfactionRate: null,
      rectificationRate: null,
    });
  });

  it('are null, not 0, when their denominator is 0', () => {
    const rates = ratesOf(counters({ completed: 1 }));
    expect(rates.fullyOnlineRate).toBeNull();
    expect(rates.onlineRate).toBeNull();
    expect(rates.onTimeCompletionRate).toEqual({ numerator: 0, denominator: 1 });
    expect(ratesOf(counters({ received: 4 })).onTimeCompletionRate).toBeNull();
    expect(ratesOf(counters({ received: 4 })).averageProcessingHours).toBeNull();
  });

  it('round half up only when rendered, in exact arithmetic', () => {
    expect(percent({ numerator: 2, denominator: 3 })).toBe(66.67);
    expect(percent({ numerator: 1, denominator: 3 })).toBe(33.33);
    // 201/20000 = 1.005 %: floating point (Math.round(1.005 * 100) / 100) would give 1.00.
    expect(percent({ numerator: 201, denominator: 20000 })).toBe(1.01);
    expect(Math.round((201 / 20000) * 100 * 100) / 100).toBe(1);
    expect(percent({ numerator: 0, denominator: 5 })).toBe(0);
    expect(percent({ numerator: 7, denominator: 7 })).toBe(100);
    expect(quotient({ numerator: 4475, denominator: 400 })).toBe(11.19);
    expect(percent(null)).toBeNull();
  });

  it('render the exact fraction beside the rounded value; average hours as hours over cases', () => {
    const rendered = renderRates(
      ratesOf(counters({ received: 6, completed: 3, completedOnTime: 2, processingCentihours: 3475 })),
    );
    expect(rendered.onTimeCompletionRate).toEqual({ numerator: 2, denominator: 3, value: 66.67 });
    expect(rendered.averageProcessingHours).toEqual({ numerator: 34.75, denominator: 3, value: 11.58 });
    expect(rendered.fullyOnlineRate).toEqual({ numerator: 0, denominator: 6, value: 0 });
  });

  it('satisfaction = satisfied / evaluations, rectification = rectified / bad reviews; null without any', () => {
    const rates = ratesOf(counters({ evaluations: 8, satisfied: 6, badReviews: 3, rectified: 2 }));
    expect(rates.satisfactionRate).toEqual({ numerator: 6, denominator: 8 });
    expect(rates.rectificationRate).toEqual({ numerator: 2, denominator: 3 });
    expect(renderRates(rates).rectificationRate).toEqual({ numerator: 2, denominator: 3, value: 66.67 });
    const none = ratesOf(counters({ received: 5, dismissed: 1 }));
    expect(none.satisfactionRate).toBeNull();
    expect(none.rectificationRate).toBeNull();
  });
});
