import { describe, expect, it } from 'vitest';
import { RateLimiter, TokenBucket } from '../../../infra/local/rate-limit';

const takeMany = (bucket: TokenBucket, count: number, nowMs: number) =>
  Array.from({ length: count }, () => bucket.take(nowMs).allowed).filter(Boolean).length;

describe('TokenBucket', () => {
  it('lets a whole burst through at once, then throttles', () => {
    const bucket = new TokenBucket({ rateLimit: 50, burstLimit: 100 }, 0);
    expect(takeMany(bucket, 100, 0)).toBe(100);
    expect(bucket.take(0)).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('refills at the steady rate, never above the burst', () => {
    const bucket = new TokenBucket({ rateLimit: 50, burstLimit: 100 }, 0);
    takeMany(bucket, 100, 0);
    // 200 ms at 50/s = 10 requests.
    expect(takeMany(bucket, 20, 200)).toBe(10);
    // A long quiet period fills the bucket to the burst, not beyond.
    expect(takeMany(bucket, 150, 60_000)).toBe(100);
  });

  it('says how long to wait when the rate is below one request per second', () => {
    const bucket = new TokenBucket({ rateLimit: 0.25, burstLimit: 1 }, 0);
    expect(bucket.take(0).allowed).toBe(true);
    expect(bucket.take(0)).toEqual({ allowed: false, retryAfterSeconds: 4 });
    expect(bucket.take(3000)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(bucket.take(4000).allowed).toBe(true);
  });

  it('is not drained by a clock that steps back', () => {
    const bucket = new TokenBucket({ rateLimit: 10, burstLimit: 2 }, 10_000);
    expect(takeMany(bucket, 1, 10_000)).toBe(1);
    expect(takeMany(bucket, 2, 5_000)).toBe(1);
  });
});

describe('RateLimiter', () => {
  it('keeps one bucket per client and plan', () => {
    const limiter = new RateLimiter();
    const limits = { rateLimit: 1, burstLimit: 1 };
    expect(limiter.take('plan-a', 'client-1', limits, 0).allowed).toBe(true);
    expect(limiter.take('plan-a', 'client-1', limits, 0).allowed).toBe(false);
    expect(limiter.take('plan-a', 'client-2', limits, 0).allowed).toBe(true);
    expect(limiter.take('plan-b', 'client-1', limits, 0).allowed).toBe(true);
  });
});
