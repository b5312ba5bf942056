import { createHash } from 'node:crypto';
import type { EvaluationMessage } from './evaluation';
import { TOP_LEVEL } from './levels';

/**
 * Abuse flags (DOMAIN.md: "a re-push that hard-codes satisfaction 5"). Per source (the pushing client) and time
 * window, the hub counts votes that look alike: top ratings with the same comment or none
 * (`burst_identical_top`), and any votes with the same comment (`burst_identical_comment`). Once a count reaches
 * the threshold, every vote of the burst is flagged — those already stored as well — and counted with its flag;
 * nothing is dropped or left out of the statistics, so the decision stays with people reading the report.
 *
 * Counting is a set of evaluation ids per (source, kind, fingerprint, window), so a replayed or redelivered vote
 * adds nothing. Windows are tumbling buckets of the hub's receive time (which the source cannot choose); a burst
 * split by a bucket boundary is caught only once one bucket alone reaches the threshold.
 */
export const ABUSE_FLAGS = ['burst_identical_top', 'burst_identical_comment'] as const;
export type AbuseFlag = (typeof ABUSE_FLAGS)[number];

export interface AbuseSettings {
  windowSeconds: number;
  threshold: number;
}

export const DEFAULT_ABUSE_WINDOW_SECONDS = 600;
export const DEFAULT_ABUSE_BURST_THRESHOLD = 20;
/** The set of a burst holds at most `threshold` ids; this keeps the item far below DynamoDB's 400 KB. */
export const MAX_ABUSE_BURST_THRESHOLD = 1000;
/** Burst records outlive their window by a week: long enough to read back in the daily report. */
const BURST_RETENTION_SECONDS = 7 * 24 * 60 * 60;

/** One burst counter: the votes of one source that look alike within one window. */
export interface BurstKey {
  source: string;
  flag: AbuseFlag;
  /** Hash of the normalised comment, or `none`. Never the comment itself. */
  fingerprint: string;
  /** Start of the window, ISO. */
  windowStart: string;
  /** TTL of the counter item, Unix seconds. */
  expiresAt: number;
}

/** Case, width, spacing and full-width forms do not make two comments different. */
export function normaliseComment(comment: string): string {
  return comment.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

export const commentFingerprint = (comment: string | undefined): string => {
  const normalised = comment === undefined ? '' : normaliseComment(comment);
  if (normalised === '') return 'none';
  return createHash('sha256').update(normalised, 'utf8').digest('base64url').slice(0, 22);
};

export function windowOf(receivedAt: string, windowSeconds: number): { start: string; endSeconds: number } {
  const windowMs = windowSeconds * 1000;
  const startMs = Math.floor(Date.parse(receivedAt) / windowMs) * windowMs;
  return { start: new Date(startMs).toISOString(), endSeconds: (startMs + windowMs) / 1000 };
}

/** The counters a vote adds itself to. */
export function burstKeysOf(
  message: Pick<EvaluationMessage, 'clientId' | 'level' | 'comment' | 'receivedAt'>,
  settings: AbuseSettings,
): BurstKey[] {
  const window = windowOf(message.receivedAt, settings.windowSeconds);
  const fingerprint = commentFingerprint(message.comment);
  const key = (flag: AbuseFlag): BurstKey => ({
    source: message.clientId,
    flag,
    fingerprint,
    windowStart: window.start,
    expiresAt: window.endSeconds + BURST_RETENTION_SECONDS,
  });
  const keys: BurstKey[] = [];
  if (message.level === TOP_LEVEL) keys.push(key('burst_identical_top'));
  if (fingerprint !== 'none') keys.push(key('burst_identical_comment'));
  return keys;
}

/** A counter of `size` votes is a burst from the threshold on. */
export const isBurst = (size: number, settings: AbuseSettings): boolean => size >= settings.threshold;

/**
 * Whether this vote is the one that completed the burst, and so flags the votes before it. The set stops growing
 * at the threshold: a vote that was let in (`joined`) and left it at exactly the threshold is the last one in. A
 * member let in again on redelivery passes too, which only repeats the idempotent flagging.
 */
export const completedBurst = (joined: boolean, size: number, settings: AbuseSettings): boolean =>
  joined && size === settings.threshold;
