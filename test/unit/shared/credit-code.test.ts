import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { creditCodeCheckCharacter, validateCreditCode } from '../../../shared/identifiers/credit-code';
import { generateCreditCode, seededRandom } from '../../../shared/identifiers/generate';
import { adjacentTranspositions, substitutions, transpositions } from './mutations';

const WORKED_EXAMPLE = '91350100M000100Y43';

describe('validateCreditCode', () => {
  it('computes the check character of the GB 32100 worked example', () => {
    expect(creditCodeCheckCharacter('91350100M000100Y4')).toBe('3');
  });

  it('accepts the worked example and parses its fields', () => {
    expect(validateCreditCode(WORKED_EXAMPLE)).toEqual({
      ok: true,
      value: WORKED_EXAMPLE,
      registrationDepartment: '9',
      category: '1',
      divisionCode: '350100',
      organisationCode: 'M000100Y4',
    });
  });

  it('accepts the department codes used in the design examples', () => {
    for (const code of ['11330000002593947X', '11100000000013338W', '11440232MB2D06811W']) {
      expect(validateCreditCode(code)).toMatchObject({ ok: true, value: code });
    }
  });

  it('normalises lower case and surrounding blanks', () => {
    expect(validateCreditCode(' 91350100m000100y43\t')).toMatchObject({ ok: true, value: WORKED_EXAMPLE });
  });

  it.each([
    [null, 'invalid_type'],
    ['91350100M000100Y4', 'invalid_length'],
    ['91350100M000100O43', 'invalid_characters'],
    ['91350100M000100I43', 'invalid_characters'],
    ['91350100M000100Y44', 'check_character_mismatch'],
  ])('rejects %s as %s', (input, code) => {
    expect(validateCreditCode(input)).toMatchObject({ ok: false, code });
  });

  it('accepts a failing check only as a flagged pilot code when allowed', () => {
    const pilot = '91350100M000100Y44';
    expect(validateCreditCode(pilot, { allowPilotCodes: true })).toMatchObject({
      ok: true,
      value: pilot,
      warning: 'pilot_code_check_failed',
    });
    expect(validateCreditCode(WORKED_EXAMPLE, { allowPilotCodes: true })).not.toHaveProperty('warning');
    expect(validateCreditCode('91350100M000100O43', { allowPilotCodes: true })).toMatchObject({ ok: false });
  });

  const validCodes = fc.integer().map((seed) => generateCreditCode(seededRandom(seed)));

  it('accepts every generated code', () => {
    fc.assert(
      fc.property(validCodes, (code) => {
        expect(validateCreditCode(code)).toMatchObject({ ok: true });
      }),
    );
  });

  // MOD 31 over a 31-character alphabet: every weight is a non-zero power of 3 mod 31, so a
  // substitution always changes the sum; 3 generates the whole group (order 30), so swapping
  // positions i and j is caught unless both carry the same weight, which only positions 1 and 18
  // (the check, implicit weight 1) do.
  it('rejects every single-character substitution', () => {
    fc.assert(
      fc.property(validCodes, (code) => {
        for (const mutated of substitutions(code)) expect(validateCreditCode(mutated).ok).toBe(false);
      }),
    );
  });

  it('rejects every adjacent transposition', () => {
    fc.assert(
      fc.property(validCodes, (code) => {
        for (const mutated of adjacentTranspositions(code))
          expect(validateCreditCode(mutated).ok).toBe(false);
      }),
    );
  });

  it('rejects every transposition except swapping the first and the check character', () => {
    fc.assert(
      fc.property(validCodes, (code) => {
        for (const { i, j, value } of transpositions(code)) {
          expect(validateCreditCode(value).ok).toBe(i === 0 && j === 17);
        }
      }),
    );
  });
});
