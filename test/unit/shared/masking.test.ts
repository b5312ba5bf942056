import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskIdNumber, maskName, maskPhone } from '../../../shared/masking';

const codePoints = (s: string) => [...s];

/** Positions where the masked value shows the original character. */
function shownPositions(original: string, masked: string): number[] {
  const [o, m] = [codePoints(original), codePoints(masked)];
  return m.flatMap((c, i) => (c !== '*' ? [i] : [])).filter((i) => o[i] === m[i]);
}

describe('maskIdNumber', () => {
  it('keeps the first 6 and the last 4 characters', () => {
    expect(maskIdNumber('11010519491231002X')).toBe('110105********002X');
    expect(maskIdNumber('110105491231002')).toBe('110105*****1002');
  });

  it('masks short numbers entirely', () => {
    expect(maskIdNumber('E12345678')).toBe('*********');
    expect(maskIdNumber('')).toBe('');
  });

  it('never shows more than the first 6 and last 4 characters, and hides at least 5', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((s) => s.trim()),
        (id) => {
          const masked = maskIdNumber(id);
          const length = codePoints(id).length;
          expect(codePoints(masked)).toHaveLength(length);
          const shown = shownPositions(id, masked);
          expect(shown.every((i) => i < 6 || i >= length - 4)).toBe(true);
          expect(length - shown.length).toBeGreaterThanOrEqual(Math.min(length, 5));
          expect(codePoints(masked).every((c, i) => c === '*' || c === codePoints(id)[i])).toBe(true);
        },
      ),
    );
  });
});

describe('maskName', () => {
  it.each([
    ['张三', '张*'],
    ['欧阳娜娜', '欧***'],
    ['王', '*'],
    ['John Smith', 'J*********'],
    ['𠀀𠀁', '𠀀*'],
    ['', ''],
  ])('masks %s as %s', (name, masked) => {
    expect(maskName(name)).toBe(masked);
  });

  it('shows at most the first character of any name, counted in code points', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 20 }).map((s) => s.trim()),
        (name) => {
          const masked = codePoints(maskName(name));
          const original = codePoints(name);
          expect(masked).toHaveLength(original.length);
          expect(masked.slice(1).every((c) => c === '*')).toBe(true);
          if (original.length === 1) expect(masked).toEqual(['*']);
        },
      ),
    );
  });
});

describe('maskPhone', () => {
  it('keeps the first 3 and the last 4 characters', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskPhone('+8613812345678')).toBe('+86*******5678');
  });

  it('masks short numbers entirely', () => {
    expect(maskPhone('12345678')).toBe('********');
  });

  it('never shows more than the first 3 and last 4 characters, and hides at least 4', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme-ascii', maxLength: 30 }).map((s) => s.trim()),
        (phone) => {
          const masked = maskPhone(phone);
          const length = codePoints(phone).length;
          expect(codePoints(masked)).toHaveLength(length);
          const shown = shownPositions(phone, masked);
          expect(shown.every((i) => i < 3 || i >= length - 4)).toBe(true);
          expect(length - shown.length).toBeGreaterThanOrEqual(Math.min(length, 4));
        },
      ),
    );
  });
});
