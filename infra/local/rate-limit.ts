/**
 * API Gateway's usage-plan throttling, locally: a token bucket per client (per API key) that holds at most
 * `burstLimit` requests and refills at `rateLimit` per second. A request takes one token or is throttled.
 * Time is passed in, so the arithmetic is tested without waiting.
 */

export interface ThrottleLimits {
  rateLimit: number;
  burstLimit: number;
}

export type TakeResult = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class TokenBucket {
  private tokens: number;
  private updatedAtMs: number;

  constructor(
    private readonly limits: ThrottleLimits,
    nowMs: number,
  ) {
    // A client that has been quiet may send a whole burst at once.
    this.tokens = limits.burstLimit;
    this.updatedAtMs = nowMs;
  }

  take(nowMs: number): TakeResult {
    this.refill(nowMs);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { allowed: true };
    }
    if (this.limits.rateLimit <= 0) return { allowed: false, retryAfterSeconds: 1 };
    const waitSeconds = (1 - this.tokens) / this.limits.rateLimit;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitSeconds)) };
  }

  private refill(nowMs: number): void {
    // A clock that steps back (tests, NTP) must not drain the bucket.
    const elapsedSeconds = Math.max(0, nowMs - this.updatedAtMs) / 1000;
    this.tokens = Math.min(this.limits.burstLimit, this.tokens + elapsedSeconds * this.limits.rateLimit);
    this.updatedAtMs = nowMs;
  }
}

/** One bucket per (plan, client key); a client that changes plan starts a fresh bucket, as in API Gateway. */
export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  take(planKey: string, clientKey: string, limits: ThrottleLimits, nowMs: number): TakeResult {
    const id = `${planKey}\n${clientKey}`;
    let bucket = this.buckets.get(id);
    if (!bucket) {
      bucket = new TokenBucket(limits, nowMs);
      this.buckets.set(id, bucket);
    }
    return bucket.take(nowMs);
  }
}
