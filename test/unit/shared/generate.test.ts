import { describe, expect, it } from 'vitest';
import { validateCitizenId } from '../../../shared/identifiers/citizen-id';
import { validateCreditCode } from '../../../shared/identifiers/credit-code';
import {
  generateCitizenId,
  generateCreditCode,
  generateImplementationCode,
  generateLicenceId,
  seededRandom,
} from '../../../shared/identifiers/generate';
import { validateImplementationCode } from '../../../shared/identifiers/implementation-code';
import { validateLicenceId } from '../../../shared/identifiers/licence-id';

const sample = <T>(n: number, make: (i: number) => T) => Array.from({ length: n }, (_, i) => make(i));

describe('seededRandom', () => {
  it('repeats its sequence for a seed and stays within [0, 1)', () => {
    const [a, b, c] = [seededRandom(7), seededRandom(7), seededRandom(8)];
    const first = sample(1000, () => a());
    expect(sample(1000, () => b())).toEqual(first);
    expect(sample(1000, () => c())).not.toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(first).size).toBeGreaterThan(990);
  });
});

describe('generators', () => {
  it('make the same values from the same seed', () => {
    expect(generateCitizenId(seededRandom(1))).toBe(generateCitizenId(seededRandom(1)));
    expect(generateLicenceId(seededRandom(1))).toBe(generateLicenceId(seededRandom(1)));
  });

  it('honour the citizen ID spec', () => {
    const random = seededRandom(42);
    for (const _ of sample(200, () => 0)) {
      const id = generateCitizenId(random, {
        regionCode: '330106',
        bornFrom: '1990-02-27',
        bornTo: '1990-03-01',
        sex: 'female',
      });
      const parsed = validateCitizenId(id);
      expect(parsed).toMatchObject({ ok: true, addressCode: '330106', sex: 'female' });
      if (parsed.ok) expect(['1990-02-27', '1990-02-28', '1990-03-01']).toContain(parsed.birthDate);
    }
  });

  it('refuse an empty birth range', () => {
    expect(() =>
      generateCitizenId(seededRandom(1), { bornFrom: '2000-01-02', bornTo: '2000-01-01' }),
    ).toThrow();
  });

  it('honour the credit code, implementation code and licence specs', () => {
    const random = seededRandom(3);
    const credit = generateCreditCode(random, {
      registrationDepartment: '9',
      category: '2',
      divisionCode: '440305',
    });
    expect(validateCreditCode(credit)).toMatchObject({
      ok: true,
      registrationDepartment: '9',
      category: '2',
      divisionCode: '440305',
    });
    expect(validateImplementationCode(generateImplementationCode(random, credit))).toMatchObject({
      ok: true,
      implementerCode: credit,
    });
    expect(
      validateLicenceId(generateLicenceId(random, { authorityCode: credit, serial: 'A1', version: '002' })),
    ).toMatchObject({
      ok: true,
      authorityCode: credit,
      serial: 'A1',
      version: '002',
    });
  });

  it('give organisation codes a valid GB 11714 check character', () => {
    const random = seededRandom(11);
    const weights = [3, 7, 9, 10, 5, 8, 4, 2];
    for (const code of sample(200, () => generateCreditCode(random))) {
      const organisation = code.slice(8, 17);
      const sum = [...organisation.slice(0, 8)].reduce(
        (t, c, i) => t + Number.parseInt(c, 36) * (weights[i] ?? 0),
        0,
      );
      expect('0123456789X0'[11 - (sum % 11)]).toBe(organisation[8]);
    }
  });
});
