import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateImplementationCode, seededRandom } from '../../../shared/identifiers/generate';
import { validateImplementationCode } from '../../../shared/identifiers/implementation-code';
import { adjacentTranspositions, substitutions } from './mutations';

describe('validateImplementationCode', () => {
  it('accepts the DOMAIN.md example and splits it', () => {
    expect(validateImplementationCode('11440232MB2D06811W4000117051000')).toEqual({
      ok: true,
      value: '11440232MB2D06811W4000117051000',
      implementerCode: '11440232MB2D06811W',
      itemPart: '4000117051000',
    });
  });

  it.each([
    [31, 'invalid_type'],
    ['11440232MB2D06811W400011705100', 'invalid_length'],
    ['11440232MB2D06811W400011705100-', 'invalid_characters'],
    ['11440232MB2D06811X4000117051000', 'invalid_implementer_code'],
  ])('rejects %s as %s', (input, code) => {
    expect(validateImplementationCode(input)).toMatchObject({ ok: false, code });
  });

  it('passes the pilot-code setting on to the implementer code', () => {
    const pilot = '11440232MB2D06811X4000117051000';
    expect(validateImplementationCode(pilot, { allowPilotCodes: true })).toMatchObject({
      ok: true,
      warning: 'pilot_code_check_failed',
    });
  });

  const validCodes = fc.integer().map((seed) => generateImplementationCode(seededRandom(seed)));

  it('accepts every generated code', () => {
    fc.assert(
      fc.property(validCodes, (code) => {
        expect(validateImplementationCode(code)).toMatchObject({ ok: true });
      }),
    );
  });

  // Only the implementer's credit code carries a check character; the 13-character item part has
  // none, so typing errors there cannot be detected.
  it('rejects every substitution and adjacent transposition inside the implementer code', () => {
    fc.assert(
      fc.property(validCodes, (code) => {
        const [head, tail] = [code.slice(0, 18), code.slice(18)];
        for (const mutated of [...substitutions(head), ...adjacentTranspositions(head)]) {
          expect(validateImplementationCode(`${mutated}${tail}`).ok).toBe(false);
        }
      }),
    );
  });
});
