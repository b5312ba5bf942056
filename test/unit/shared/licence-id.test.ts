import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateLicenceId, seededRandom } from '../../../shared/identifiers/generate';
import {
  formatLicenceId,
  licenceCheckCharacter,
  mod3736CheckCharacter,
  validateLicenceId,
} from '../../../shared/identifiers/licence-id';
import { substitutions, transpositions } from './mutations';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function haveConsecutiveValues(a = '', b = ''): boolean {
  const [x, y] = [ALPHABET.indexOf(a), ALPHABET.indexOf(b)];
  return x >= 0 && y >= 0 && (Math.abs(x - y) === 1 || Math.abs(x - y) === 35);
}

const parts = {
  typeCode: '11100000000013338W032',
  authorityCode: '11330000002593947X',
  serial: '0000123456',
  version: '001',
};

describe('mod3736CheckCharacter', () => {
  it('matches the published ISO 7064 MOD 37,36 example of the GRid (A1-2425G-ABC1234002-M)', () => {
    expect(mod3736CheckCharacter('A12425GABC1234002')).toBe('M');
  });
});

describe('validateLicenceId', () => {
  const id = formatLicenceId(parts);

  it('accepts a formatted identifier and returns its parts', () => {
    expect(id).toBe(`1.2.156.3005.2.11100000000013338W032.11330000002593947X.0000123456.001.${id.at(-1)}`);
    expect(validateLicenceId(id)).toEqual({
      ok: true,
      value: id,
      ...parts,
      checkCharacter: licenceCheckCharacter(parts),
    });
  });

  it('normalises lower case', () => {
    expect(validateLicenceId(id.toLowerCase())).toMatchObject({ ok: true, value: id });
  });

  it.each([
    [undefined, 'invalid_type'],
    ['1.2.156.3005.1.11100000000013338W032.11330000002593947X.0000123456.001.0', 'invalid_structure'],
    ['1.2.156.3005.2.11100000000013338W032.11330000002593947X.0000123456.001', 'invalid_structure'],
    ['1.2.156.3005.2.11100000000013338W03.11330000002593947X.0000123456.001.0', 'invalid_type_code'],
    ['1.2.156.3005.2.11100000000013338W032.11330000002593947.0000123456.001.0', 'invalid_authority_code'],
    ['1.2.156.3005.2.11100000000013338W032.11330000002593947X..001.0', 'invalid_serial'],
    ['1.2.156.3005.2.11100000000013338W032.11330000002593947X.0000_23456.001.0', 'invalid_serial'],
    ['1.2.156.3005.2.11100000000013338W032.11330000002593947X.0000123456.01.0', 'invalid_version'],
    ['1.2.156.3005.2.11100000000013338W032.11330000002593947X.0000123456.001.00', 'check_character_mismatch'],
  ])('rejects %s as %s', (input, code) => {
    expect(validateLicenceId(input)).toMatchObject({ ok: false, code });
  });

  it('rejects a wrong check character', () => {
    const wrong = id.at(-1) === '0' ? '1' : '0';
    expect(validateLicenceId(`${id.slice(0, -1)}${wrong}`)).toMatchObject({
      ok: false,
      code: 'check_character_mismatch',
    });
  });

  const validIds = fc.integer().map((seed) => generateLicenceId(seededRandom(seed)));

  it('accepts every generated identifier', () => {
    fc.assert(
      fc.property(validIds, (value) => {
        expect(validateLicenceId(value)).toMatchObject({ ok: true, value });
      }),
    );
  });

  it('rejects every single-character substitution (MOD 37,36)', () => {
    fc.assert(
      fc.property(validIds, (value) => {
        for (const mutated of substitutions(value)) expect(validateLicenceId(mutated).ok).toBe(false);
      }),
      { numRuns: 50 },
    );
  });

  // A hybrid MOD 37,36 system guarantees substitutions but not transpositions: for each running
  // state exactly one pair of characters with consecutive values (mod 36) swaps undetected.
  it('rejects every adjacent transposition except some of characters with consecutive values', () => {
    fc.assert(
      fc.property(validIds, (value) => {
        for (const { i, value: mutated } of transpositions(value).filter((t) => t.distance === 1)) {
          if (!haveConsecutiveValues(value[i], value[i + 1]))
            expect(validateLicenceId(mutated).ok).toBe(false);
        }
      }),
    );
  });

  it('accepts, as the scheme allows, one such swap found by this suite', () => {
    const prefix = '1.2.156.3005.2.11100000U5NXTGME5L198.112207';
    const suffix = 'EPW34CWW4H.U43I9B0G9IF7EJL59.001.Q';
    expect(validateLicenceId(`${prefix}23${suffix}`).ok).toBe(true);
    expect(validateLicenceId(`${prefix}32${suffix}`).ok).toBe(true);
  });
});
