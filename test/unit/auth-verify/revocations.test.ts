import { describe, expect, it } from 'vitest';
import {
  RevocationCache,
  type RevocationFeed,
  RevocationsUnavailableError,
  type RevokedToken,
  revocationBucketsBetween,
} from '../../../functions/auth-verify/domain/revocations';

const START = new Date('2026-11-21T02:00:00Z');
const HOUR_MS = 3_600_000;

/** A feed over an in-memory log of (revokedAt, token), recording every window it is asked for. */
function memoryFeed() {
  const log: { at: Date; token: RevokedToken }[] = [];
  const queries: { since: Date; until: Date }[] = [];
  let failing = false;
  const feed: RevocationFeed = {
    async revokedBetween(since, until) {
      queries.push({ since, until });
      if (failing) throw new Error('table unavailable');
      return log.filter((e) => e.at >= since && e.at <= until).map((e) => e.token);
    },
  };
  return {
    feed,
    queries,
    revoke: (at: Date, jti: string, expiresAt: number) => log.push({ at, token: { jti, expiresAt } }),
    fail: (value: boolean) => {
      failing = value;
    },
  };
}

function cacheWith(feed: RevocationFeed) {
  let now = START.getTime();
  const cache = new RevocationCache({
    feed,
    clock: () => new Date(now),
    refreshIntervalMs: 500,
    lookbackMs: HOUR_MS,
  });
  return {
    cache,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => new Date(now),
  };
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

describe('RevocationCache', () => {
  it('reads back a whole token lifetime when cold, then only the window since its watermark', async () => {
    const source = memoryFeed();
    const { cache, advance, now } = cacheWith(source.feed);
    source.revoke(new Date(START.getTime() - 30 * 60_000), 'revoked-half-an-hour-ago', seconds(START) + 1800);
    expect(await cache.isRevoked('revoked-half-an-hour-ago')).toBe(true);
    expect(source.queries[0]?.since).toEqual(new Date(START.getTime() - HOUR_MS));

    advance(500);
    expect(await cache.isRevoked('anything')).toBe(false);
    // The second window starts 5 s (the overlap) before the first query began, not an hour back.
    expect(source.queries[1]).toEqual({ since: new Date(START.getTime() - 5_000), until: now() });
  });

  it('queries at most once per interval, however many checks arrive', async () => {
    const source = memoryFeed();
    const { cache, advance } = cacheWith(source.feed);
    await Promise.all(Array.from({ length: 50 }, () => cache.isRevoked('a')));
    for (let i = 0; i < 10; i++) {
      advance(49);
      await cache.isRevoked('a');
    }
    expect(source.queries).toHaveLength(1);
    advance(10);
    await cache.isRevoked('a');
    expect(source.queries).toHaveLength(2);
    expect(cache.refreshCount).toBe(2);
  });

  it('sees another instance revocation at the first check one interval later', async () => {
    const source = memoryFeed();
    const { cache, advance, now } = cacheWith(source.feed);
    expect(await cache.isRevoked('jti-1')).toBe(false);
    advance(100);
    source.revoke(now(), 'jti-1', seconds(now()) + 600);
    advance(300);
    expect(await cache.isRevoked('jti-1')).toBe(false); // within the interval: served from memory
    advance(100);
    expect(await cache.isRevoked('jti-1')).toBe(true);
  });

  it('still finds a revocation that reached the index late, thanks to the overlap', async () => {
    const source = memoryFeed();
    const { cache, advance, now } = cacheWith(source.feed);
    await cache.isRevoked('x');
    advance(2_000);
    const stampedBefore = new Date(now().getTime() - 1_500); // stamped by a lagging clock, visible only now
    await cache.isRevoked('x');
    source.revoke(stampedBefore, 'late', seconds(now()) + 600);
    advance(500);
    expect(await cache.isRevoked('late')).toBe(true);
  });

  it('takes its own revocations at once', async () => {
    const source = memoryFeed();
    const { cache, now } = cacheWith(source.feed);
    await cache.isRevoked('warm-up');
    cache.add({ jti: 'mine', expiresAt: seconds(now()) + 60 });
    expect(await cache.isRevoked('mine')).toBe(true);
    expect(source.queries).toHaveLength(1);
  });

  it('forgets revocations of expired tokens, so memory stays bounded', async () => {
    const source = memoryFeed();
    const { cache, advance, now } = cacheWith(source.feed);
    for (let i = 0; i < 100; i++) source.revoke(now(), `jti-${i}`, seconds(now()) + 10 + i);
    await cache.isRevoked('x');
    expect(cache.size).toBe(100);
    advance(60_000);
    await cache.isRevoked('x');
    // jti-50 expires exactly now: a token is no longer valid at its exp, so its revocation is dropped too.
    expect(cache.size).toBe(49);
    expect(await cache.isRevoked('jti-50')).toBe(false);
    expect(await cache.isRevoked('jti-51')).toBe(true);
    cache.add({ jti: 'already-expired', expiresAt: seconds(now()) - 1 });
    expect(cache.size).toBe(49);
  });

  it('throws instead of answering from a cache it could not refresh, and retries one interval later', async () => {
    const source = memoryFeed();
    const { cache, advance } = cacheWith(source.feed);
    await cache.isRevoked('x');
    advance(500);
    source.fail(true);
    await expect(cache.isRevoked('x')).rejects.toBeInstanceOf(RevocationsUnavailableError);
    advance(100);
    await expect(cache.isRevoked('x')).rejects.toBeInstanceOf(RevocationsUnavailableError);
    expect(source.queries).toHaveLength(2); // the outage did not turn every check into a query
    source.fail(false);
    advance(400);
    expect(await cache.isRevoked('x')).toBe(false);
  });

  it('does not skip the window of a failed refresh', async () => {
    const source = memoryFeed();
    const { cache, advance, now } = cacheWith(source.feed);
    await cache.isRevoked('x');
    advance(500);
    source.revoke(now(), 'during-outage', seconds(now()) + 600);
    source.fail(true);
    await expect(cache.isRevoked('during-outage')).rejects.toThrow();
    source.fail(false);
    advance(10_000);
    expect(await cache.isRevoked('during-outage')).toBe(true);
  });
});

describe('revocationBucketsBetween', () => {
  it('names UTC hours, one in steady state and two across an hour boundary', () => {
    expect(
      revocationBucketsBetween(new Date('2026-11-21T02:10:00Z'), new Date('2026-11-21T02:10:05Z')),
    ).toEqual(['2026-11-21T02']);
    expect(
      revocationBucketsBetween(new Date('2026-11-21T02:59:58Z'), new Date('2026-11-21T03:00:01Z')),
    ).toEqual(['2026-11-21T02', '2026-11-21T03']);
    expect(
      revocationBucketsBetween(new Date('2026-11-20T23:30:00Z'), new Date('2026-11-21T01:00:00Z')),
    ).toEqual(['2026-11-20T23', '2026-11-21T00', '2026-11-21T01']);
  });
});
