/**
 * Revoked access tokens, as each introspecting instance sees them.
 *
 * Introspection must notice a revocation made by any instance within a second, without a table read per call.
 * Each instance therefore keeps the set of revoked `jti`s of still-unexpired tokens in memory and refreshes it
 * lazily — on the first check after `refreshIntervalMs` — with one Query for the revocations recorded since its
 * watermark (the store keeps them in a time-bucketed index, see token-store.ts). The revoking instance adds its
 * own revocation at once. Checks made while a refresh runs share it.
 *
 * Freshness: a revocation recorded at r is in every cache that is asked at t ≥ r + refreshIntervalMs + (index
 * lag + query time), because the refresh that answers t started after r. With 500 ms that is well under 1 s.
 *
 * The watermark trails the start of the last successful query by `overlapMs`, so a revocation that reached the
 * index late (eventual consistency) or was stamped by an instance whose clock runs behind is still read once
 * more; adding it twice is harmless. A cold cache starts `lookbackMs` (the longest token lifetime) back: no
 * older revocation can concern a token that is still unexpired.
 *
 * Memory is bounded by the revocations of unexpired tokens: an entry is dropped once its token has expired.
 * A failed refresh is thrown (the caller answers 503) rather than answering from a cache of unknown age, and
 * until the next attempt is due every check throws too: an outage neither reads as "not revoked" nor turns
 * every request into a query.
 */

/** The revocation set could not be refreshed: whether a token is revoked is unknown. */
export class RevocationsUnavailableError extends Error {
  override readonly name = 'RevocationsUnavailableError';
}

export interface RevokedToken {
  jti: string;
  /** Expiry of the revoked token, Unix seconds: after it the entry is useless and dropped. */
  expiresAt: number;
}

/** Reads revocations recorded in [since, until]. */
export interface RevocationFeed {
  revokedBetween(since: Date, until: Date): Promise<RevokedToken[]>;
}

export interface RevocationCheck {
  isRevoked(jti: string): Promise<boolean>;
}

export interface RevocationCacheOptions {
  feed: RevocationFeed;
  clock?: () => Date;
  /** At most one refresh per interval (REVOCATION_REFRESH_MS, default 500). */
  refreshIntervalMs?: number;
  /** How far back a cold cache reads: the longest access-token lifetime (ACCESS_TOKEN_TTL_SECONDS). */
  lookbackMs: number;
  /** How much each query re-reads before the previous one's start (index lag, clock skew between instances). */
  overlapMs?: number;
}

export const DEFAULT_REVOCATION_REFRESH_MS = 500;
export const DEFAULT_REVOCATION_OVERLAP_MS = 5_000;

export class RevocationCache implements RevocationCheck {
  readonly #feed: RevocationFeed;
  readonly #clock: () => Date;
  readonly #refreshIntervalMs: number;
  readonly #overlapMs: number;
  readonly #lookbackMs: number;
  readonly #revoked = new Map<string, number>();
  #watermark: Date | undefined;
  #lastRefreshStartedAt: number | undefined;
  #lastRefreshFailed = false;
  #refreshing: Promise<void> | undefined;
  #refreshCount = 0;

  constructor(options: RevocationCacheOptions) {
    this.#feed = options.feed;
    this.#clock = options.clock ?? (() => new Date());
    this.#refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_REVOCATION_REFRESH_MS;
    this.#overlapMs = options.overlapMs ?? DEFAULT_REVOCATION_OVERLAP_MS;
    this.#lookbackMs = options.lookbackMs;
  }

  async isRevoked(jti: string): Promise<boolean> {
    if (this.#refreshDue()) await this.refresh();
    else if (this.#lastRefreshFailed) {
      throw new RevocationsUnavailableError('The last revocation refresh failed; the next is not due yet.');
    }
    const expiresAt = this.#revoked.get(jti);
    return expiresAt !== undefined && expiresAt > this.#nowSeconds();
  }

  /** Records a revocation made by this instance: effective here immediately, before any refresh. */
  add(token: RevokedToken): void {
    if (token.expiresAt > this.#nowSeconds()) this.#revoked.set(token.jti, token.expiresAt);
  }

  /** Reads what other instances revoked since the watermark. Concurrent callers share one query. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#runRefresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** Entries held: revocations of tokens not yet expired (as of the last refresh). */
  get size(): number {
    return this.#revoked.size;
  }

  /** Successful refreshes so far: lets tests and the benchmark show that checks do not each query. */
  get refreshCount(): number {
    return this.#refreshCount;
  }

  #refreshDue(): boolean {
    return (
      this.#lastRefreshStartedAt === undefined ||
      this.#clock().getTime() - this.#lastRefreshStartedAt >= this.#refreshIntervalMs
    );
  }

  async #runRefresh(): Promise<void> {
    const startedAt = this.#clock();
    const since = this.#watermark ?? new Date(startedAt.getTime() - this.#lookbackMs);
    this.#lastRefreshStartedAt = startedAt.getTime();
    let found: RevokedToken[];
    try {
      found = await this.#feed.revokedBetween(since, startedAt);
    } catch (error) {
      this.#lastRefreshFailed = true;
      throw new RevocationsUnavailableError('Reading revocations failed.', { cause: error });
    }
    this.#lastRefreshFailed = false;
    for (const token of found) this.add(token);
    this.#dropExpired();
    const next = new Date(startedAt.getTime() - this.#overlapMs);
    // Never move back: a cold cache's first window already covers everything before `next`.
    this.#watermark = next > since ? next : since;
    this.#refreshCount++;
  }

  #dropExpired(): void {
    const now = this.#nowSeconds();
    for (const [jti, expiresAt] of this.#revoked) if (expiresAt <= now) this.#revoked.delete(jti);
  }

  #nowSeconds(): number {
    return Math.floor(this.#clock().getTime() / 1000);
  }
}

/** Width of one partition of the revocation index: one hour of revocations, keyed `YYYY-MM-DDTHH` (UTC). */
export const REVOCATION_BUCKET_MS = 60 * 60 * 1000;

export const revocationBucketOf = (at: Date): string => at.toISOString().slice(0, 13);

/**
 * The buckets covering [since, until], oldest first: one in steady state (the window is ~overlap + interval
 * wide), two across an hour boundary, more only for a cold cache reading back a whole token lifetime.
 */
export function revocationBucketsBetween(since: Date, until: Date): string[] {
  const buckets: string[] = [];
  const first = Math.floor(since.getTime() / REVOCATION_BUCKET_MS);
  const last = Math.floor(until.getTime() / REVOCATION_BUCKET_MS);
  for (let hour = first; hour <= last; hour++) {
    buckets.push(revocationBucketOf(new Date(hour * REVOCATION_BUCKET_MS)));
  }
  return buckets;
}
