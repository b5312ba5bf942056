import { describe, expect, it } from 'vitest';
import { parseRegistryRow } from '../../../functions/auth-verify/domain/registry-record';
import {
  DEMO_ENTERPRISES,
  DEMO_PERSONS,
  generateSyntheticRegistry,
} from '../../../functions/auth-verify/registry-seed';

describe('synthetic registry', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = generateSyntheticRegistry({ persons: 50, enterprises: 5, seed: 7 });
    expect(generateSyntheticRegistry({ persons: 50, enterprises: 5, seed: 7 })).toEqual(a);
    expect(generateSyntheticRegistry({ persons: 50, enterprises: 5, seed: 8 })).not.toEqual(a);
  });

  it('generates the requested number of distinct, valid identities that never reuse a demo number', () => {
    const { persons, enterprises } = generateSyntheticRegistry({ persons: 2_000, enterprises: 300, seed: 1 });
    expect(persons).toHaveLength(2_000);
    expect(enterprises).toHaveLength(300);
    expect(new Set(persons.map((p) => p.idNumber)).size).toBe(2_000);
    expect(new Set(enterprises.map((e) => e.creditCode)).size).toBe(300);
    const demoNumbers = new Set([
      ...DEMO_PERSONS.map((p) => p.idNumber),
      ...DEMO_ENTERPRISES.map((e) => e.creditCode),
    ]);
    for (const p of persons) {
      expect(parseRegistryRow({ subject: 'person', id: p.idNumber, name: p.name }).ok).toBe(true);
      expect(demoNumbers.has(p.idNumber)).toBe(false);
    }
    for (const e of enterprises) {
      expect(
        parseRegistryRow({ subject: 'enterprise', id: e.creditCode, name: e.legalRepresentative }).ok,
      ).toBe(true);
    }
  });

  it('has valid demo identities', () => {
    expect(DEMO_PERSONS).toHaveLength(3);
    expect(DEMO_ENTERPRISES).toHaveLength(1);
    for (const p of DEMO_PERSONS)
      expect(parseRegistryRow({ subject: 'person', id: p.idNumber, name: p.name })).toMatchObject({
        ok: true,
      });
    for (const e of DEMO_ENTERPRISES) {
      expect(
        parseRegistryRow({ subject: 'enterprise', id: e.creditCode, name: e.legalRepresentative }),
      ).toMatchObject({ ok: true });
    }
  });

  it('refuses a negative or fractional count', () => {
    expect(() => generateSyntheticRegistry({ persons: -1, enterprises: 0 })).toThrow(RangeError);
    expect(() => generateSyntheticRegistry({ persons: 1.5, enterprises: 0 })).toThrow(RangeError);
  });
});
