import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacIdentifier } from '../../../shared/pii';

const key = 'dev-key-for-tests';

describe('hmacIdentifier', () => {
  it('is the base64url HMAC-SHA256 of type and number', () => {
    const expected = createHmac('sha256', key).update('citizen_id:11010519491231002X').digest('base64url');
    expect(hmacIdentifier(key, 'citizen_id', '11010519491231002X')).toBe(expected);
    expect(expected).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('hashes the same person the same way however the number is spelt', () => {
    expect(hmacIdentifier(key, 'citizen_id', ' 11010519491231002x ')).toBe(
      hmacIdentifier(key, 'citizen_id', '11010519491231002X'),
    );
  });

  it('separates identifier types, keys and numbers', () => {
    const base = hmacIdentifier(key, 'citizen_id', '11010519491231002X');
    expect(hmacIdentifier(key, 'passport', '11010519491231002X')).not.toBe(base);
    expect(hmacIdentifier('another-key', 'citizen_id', '11010519491231002X')).not.toBe(base);
    expect(hmacIdentifier(key, 'citizen_id', '440524188001010014')).not.toBe(base);
  });

  it('accepts a binary key', () => {
    const bytes = new TextEncoder().encode(key);
    expect(hmacIdentifier(bytes, 'credit_code', 'x')).toBe(hmacIdentifier(key, 'credit_code', 'X'));
  });

  it('refuses an empty key rather than produce a guessable hash', () => {
    expect(() => hmacIdentifier('', 'citizen_id', '11010519491231002X')).toThrow();
  });
});
