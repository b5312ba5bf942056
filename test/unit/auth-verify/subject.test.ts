import { describe, expect, it } from 'vitest';
import { personIdHmac } from '../../../functions/auth-verify/domain/registry-record';
import { SUBJECT_PATTERN, subjectOf } from '../../../functions/auth-verify/domain/subject';

const KEY = 'test-only-id-hmac-key-0123456789abcdef';
const ID_HMAC = personIdHmac(KEY, '11010519491231002X');

describe('subjectOf', () => {
  it('is u_ plus 22 base64url characters, stable for one person and key', () => {
    const sub = subjectOf(ID_HMAC, KEY);
    expect(sub).toMatch(SUBJECT_PATTERN);
    expect(subjectOf(ID_HMAC, Buffer.from(KEY))).toBe(sub);
  });

  it('differs between people and between keys, and reveals neither the idHmac nor the number', () => {
    const sub = subjectOf(ID_HMAC, KEY);
    expect(subjectOf(personIdHmac(KEY, '440524188001010014'), KEY)).not.toBe(sub);
    expect(subjectOf(ID_HMAC, `${KEY}-rotated`)).not.toBe(sub);
    expect(ID_HMAC).not.toContain(sub.slice(2));
    expect(sub).not.toContain('1101051949');
  });

  it('matches the contract formula: u_ + base64url(HMAC-SHA256(key, "sub:" + idHmac)).slice(0, 22)', async () => {
    const { createHmac } = await import('node:crypto');
    const expected = `u_${createHmac('sha256', KEY).update(`sub:${ID_HMAC}`).digest('base64url').slice(0, 22)}`;
    expect(subjectOf(ID_HMAC, KEY)).toBe(expected);
  });

  it('refuses an empty key or idHmac', () => {
    expect(() => subjectOf(ID_HMAC, '')).toThrow();
    expect(() => subjectOf('', KEY)).toThrow();
  });
});
