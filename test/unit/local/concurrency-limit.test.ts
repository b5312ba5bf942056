import { describe, expect, it } from 'vitest';
import { concurrencyLimit } from '../../../infra/local/targets';

/** Reserved concurrency, locally: asynchronous invocations of such a function wait their turn, in order. */
describe('the local reserved-concurrency limit', () => {
  it('never runs more than its limit at once, and runs the waiting in arrival order', async () => {
    const limit = concurrencyLimit(1);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const job = (id: number) =>
      limit(async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        order.push(id);
        running -= 1;
        return id;
      });
    expect(await Promise.all([1, 2, 3, 4, 5].map(job))).toEqual([1, 2, 3, 4, 5]);
    expect(peak).toBe(1);
    expect(order).toEqual([1, 2, 3, 4, 5]);
  });

  it('frees its slot when a run fails', async () => {
    const limit = concurrencyLimit(1);
    await expect(limit(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limit(async () => 'next')).toBe('next');
  });
});
