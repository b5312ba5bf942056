import { describe, expect, it } from 'vitest';
import {
  assuranceOfRegistryCheck,
  fromProvincialTrustLevel,
  meetsAssurance,
  PROVINCIAL_TRUST_LEVELS,
  provincialTrustLevelSchema,
} from '../../../functions/auth-verify/domain/assurance';

describe('assurance levels', () => {
  it('maps provincial trust levels 2–5 onto L1–L3', () => {
    expect(PROVINCIAL_TRUST_LEVELS.map((level) => [level, fromProvincialTrustLevel(level)])).toEqual([
      [2, 'L1'], // format check only: nothing verified
      [3, 'L2'], // two factors checked against the registry
      [4, 'L3'], // face
      [5, 'L3'], // digital certificate or counter
    ]);
  });

  it('knows no level outside the provincial scale', () => {
    for (const level of [0, 1, 6, 2.5, Number.NaN]) expect(fromProvincialTrustLevel(level)).toBeUndefined();
    expect(provincialTrustLevelSchema.safeParse(1).success).toBe(false);
    expect(provincialTrustLevelSchema.safeParse(6).success).toBe(false);
    expect(provincialTrustLevelSchema.parse(4)).toBe(4);
  });

  it('gives L2 to a registry match, L3 with a second factor, and L1 to anything else', () => {
    expect(assuranceOfRegistryCheck(true)).toBe('L2');
    expect(assuranceOfRegistryCheck(true, 'face')).toBe('L3');
    expect(assuranceOfRegistryCheck(true, 'e_id')).toBe('L3');
    // A second factor cannot stand in for the registry: the name and number did not match.
    expect(assuranceOfRegistryCheck(false, 'face')).toBe('L1');
    expect(assuranceOfRegistryCheck(false)).toBe('L1');
  });

  it('orders levels so a higher one meets a lower requirement', () => {
    expect(meetsAssurance('L3', 'L2')).toBe(true);
    expect(meetsAssurance('L2', 'L2')).toBe(true);
    expect(meetsAssurance('L1', 'L2')).toBe(false);
    expect(meetsAssurance('L2', 'L3')).toBe(false);
  });
});
