import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { citizenIdCheckCharacter, validateCitizenId } from '../../../shared/identifiers/citizen-id';
import { generateCitizenId, seededRandom } from '../../../shared/identifiers/generate';
import { adjacentTranspositions, substitutions } from './mutations';

const today = new Date('2026-06-01T12:00:00+08:00');
const validate = (input: unknown) => validateCitizenId(input, { today });

describe('validateCitizenId', () => {
  it('accepts the GB 11643 examples and parses them', () => {
    expect(validate('11010519491231002X')).toEqual({
      ok: true,
      value: '11010519491231002X',
      addressCode: '110105',
      provinceCode: '110000',
      birthDate: '1949-12-31',
      sex: 'female',
    });
    expect(validate('440524188001010014')).toMatchObject({ ok: true, birthDate: '1880-01-01', sex: 'male' });
  });

  it('normalises a lower-case x and surrounding blanks', () => {
    expect(validate(' 11010519491231002x ')).toMatchObject({ ok: true, value: '11010519491231002X' });
  });

  it.each([
    [42, 'invalid_type'],
    ['1101051949123100', 'invalid_length'],
    ['11010519491231002XX', 'invalid_length'],
    ['1101051949123100XX', 'invalid_characters'],
    ['11010519491231002Y', 'invalid_characters'],
    ['110105194912310021', 'check_character_mismatch'],
  ])('rejects %s as %s', (input, code) => {
    expect(validate(input)).toMatchObject({ ok: false, code });
  });

  it('rejects an address code outside the 32 provinces (71 Taiwan, 81 Hong Kong, 99)', () => {
    for (const prefix of ['710105', '810105', '990105']) {
      const first17 = `${prefix}19491231002`;
      expect(validate(`${first17}${citizenIdCheckCharacter(first17)}`)).toMatchObject({
        ok: false,
        code: 'unknown_province',
      });
    }
  });

  it.each(['19490230', '19491301', '19490001', '19490100', '20230229', '17991231'])(
    'rejects the impossible birth date %s',
    (date) => {
      const first17 = `110105${date}002`;
      expect(validate(`${first17}${citizenIdCheckCharacter(first17)}`)).toMatchObject({
        ok: false,
        code: 'invalid_birth_date',
      });
    },
  );

  it('accepts 29 February of a leap year', () => {
    const first17 = '11010520240229002';
    expect(validate(`${first17}${citizenIdCheckCharacter(first17)}`)).toMatchObject({ ok: true });
  });

  it('rejects a birth date after today in China time and accepts today itself', () => {
    const withDate = (date: string) => `110105${date}002${citizenIdCheckCharacter(`110105${date}002`)}`;
    // 2026-06-01T20:00Z is already 2 June in Beijing.
    const lateEvening = { today: new Date('2026-06-01T20:00:00Z') };
    expect(validateCitizenId(withDate('20260602'), lateEvening)).toMatchObject({ ok: true });
    expect(validateCitizenId(withDate('20260603'), lateEvening)).toMatchObject({
      ok: false,
      code: 'birth_date_in_future',
    });
  });

  it('never repeats the input in its reason', () => {
    const input = '110105194912310021';
    const result = validate(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).not.toContain(input);
  });

  const validIds = fc
    .record({ seed: fc.integer(), sex: fc.constantFrom('male' as const, 'female' as const) })
    .map(({ seed, sex }) => ({
      sex,
      id: generateCitizenId(seededRandom(seed), { sex, bornFrom: '1900-01-01', bornTo: '2026-06-01' }),
    }));

  it('accepts every generated ID with the requested sex', () => {
    fc.assert(
      fc.property(validIds, ({ id, sex }) => {
        expect(validate(id)).toMatchObject({ ok: true, value: id, sex });
      }),
    );
  });

  it('rejects every single-character substitution (MOD 11-2)', () => {
    fc.assert(
      fc.property(validIds, ({ id }) => {
        for (const mutated of substitutions(id)) expect(validate(mutated).ok).toBe(false);
      }),
    );
  });

  it('rejects every adjacent transposition (MOD 11-2)', () => {
    fc.assert(
      fc.property(validIds, ({ id }) => {
        for (const mutated of adjacentTranspositions(id)) expect(validate(mutated).ok).toBe(false);
      }),
    );
  });
});
