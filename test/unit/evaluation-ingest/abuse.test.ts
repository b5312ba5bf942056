import { describe, expect, it } from 'vitest';
import {
  burstKeysOf,
  commentFingerprint,
  completedBurst,
  isBurst,
  windowOf,
} from '../../../functions/evaluation-ingest/domain/abuse';

const settings = { windowSeconds: 600, threshold: 20 };
const vote = (level: number, comment?: string, receivedAt = '2026-11-20T03:04:05.000Z') => ({
  clientId: 'region-330000',
  level,
  receivedAt,
  ...(comment === undefined ? {} : { comment }),
});

describe('burst counters', () => {
  it('counts top ratings without a comment together, and any identical comment together', () => {
    expect(burstKeysOf(vote(5), settings).map((k) => [k.flag, k.fingerprint])).toEqual([
      ['burst_identical_top', 'none'],
    ]);
    const topWithComment = burstKeysOf(vote(5, '很好'), settings);
    expect(topWithComment.map((k) => k.flag)).toEqual(['burst_identical_top', 'burst_identical_comment']);
    expect(topWithComment[0]?.fingerprint).toBe(commentFingerprint('很好'));
    expect(burstKeysOf(vote(3, '很好'), settings).map((k) => k.flag)).toEqual(['burst_identical_comment']);
    expect(burstKeysOf(vote(4), settings)).toEqual([]);
  });

  it('treats spacing, case and full-width forms as the same comment, and never keeps the text', () => {
    expect(commentFingerprint('  Very   GOOD ')).toBe(commentFingerprint('very good'));
    expect(commentFingerprint('ＧＯＯＤ')).toBe(commentFingerprint('good'));
    expect(commentFingerprint('good')).not.toBe(commentFingerprint('bad'));
    expect(commentFingerprint('   ')).toBe('none');
    const [key] = burstKeysOf(vote(3, '张三 13800138000'), settings);
    expect(JSON.stringify(key)).not.toContain('13800138000');
  });

  it('puts votes of one window together and the next window apart, by the hub receive time', () => {
    expect(windowOf('2026-11-20T03:04:05.000Z', 600).start).toBe('2026-11-20T03:00:00.000Z');
    expect(windowOf('2026-11-20T03:09:59.999Z', 600).start).toBe('2026-11-20T03:00:00.000Z');
    expect(windowOf('2026-11-20T03:10:00.000Z', 600).start).toBe('2026-11-20T03:10:00.000Z');
    const [a] = burstKeysOf(vote(5, undefined, '2026-11-20T03:01:00Z'), settings);
    const [b] = burstKeysOf(vote(5, undefined, '2026-11-20T03:11:00Z'), settings);
    expect(a?.windowStart).not.toBe(b?.windowStart);
    // The counter outlives its window by a week, then expires.
    expect(a?.expiresAt).toBe(Date.parse('2026-11-20T03:10:00Z') / 1000 + 7 * 86400);
  });

  it('keeps counters per source', () => {
    const [a] = burstKeysOf(vote(5), settings);
    const [b] = burstKeysOf({ ...vote(5), clientId: 'region-440000' }, settings);
    expect(a?.source).not.toBe(b?.source);
  });

  it('flags from the threshold on, and lets only the vote that filled the set flag the ones before it', () => {
    expect(isBurst(19, settings)).toBe(false);
    expect(isBurst(20, settings)).toBe(true);
    expect(completedBurst(true, 20, settings)).toBe(true);
    expect(completedBurst(false, 20, settings)).toBe(false);
    expect(completedBurst(true, 19, settings)).toBe(false);
  });
});
