import * as z from 'zod';

/**
 * Identity assurance levels the hub reports (DESIGN.md §1.1), lowest first:
 * - L1: self-asserted — nobody checked the identity against a registry;
 * - L2: registry-verified — name and number matched the population or legal-person registry;
 * - L3: registry-verified and confirmed by a second factor (face or e-ID) the caller reports.
 */
export const ASSURANCE_LEVELS = ['L1', 'L2', 'L3'] as const;
export const assuranceLevelSchema = z
  .enum(ASSURANCE_LEVELS)
  .describe(
    'Identity assurance: L1 self-asserted, L2 registry-verified, L3 registry-verified plus face or e-ID.',
  );
export type AssuranceLevel = z.output<typeof assuranceLevelSchema>;

/** Second factors a caller may report having checked itself; the hub cannot check them. */
export const SECOND_FACTORS = ['face', 'e_id'] as const;
export const secondFactorSchema = z
  .enum(SECOND_FACTORS)
  .describe('A second factor the caller checked: face comparison or the electronic ID (e-ID).');
export type SecondFactor = z.output<typeof secondFactorSchema>;

/** True when `level` is at least `required` (e.g. a route asking for L2 accepts L2 and L3). */
export function meetsAssurance(level: AssuranceLevel, required: AssuranceLevel): boolean {
  return ASSURANCE_LEVELS.indexOf(level) >= ASSURANCE_LEVELS.indexOf(required);
}

/**
 * The level a registry check earns: L2 on a match, L3 when the caller also reports a second factor.
 * A mismatch or an unknown identity earns nothing beyond what the claimant asserted: L1.
 */
export function assuranceOfRegistryCheck(matched: boolean, secondFactor?: SecondFactor): AssuranceLevel {
  if (!matched) return 'L1';
  return secondFactor === undefined ? 'L2' : 'L3';
}

/**
 * Provincial trust levels (Guangdong's scale, DOMAIN.md "Identity assurance"):
 * 2 format check only; 3 two factors checked against the registry; 4 person, name and credential
 * consistent (face); 5 the same through a digital certificate or at a counter.
 */
export const PROVINCIAL_TRUST_LEVELS = [2, 3, 4, 5] as const;
export type ProvincialTrustLevel = (typeof PROVINCIAL_TRUST_LEVELS)[number];
export const provincialTrustLevelSchema = z
  .literal(PROVINCIAL_TRUST_LEVELS)
  .describe('Provincial identity trust level, 2 (format check only) to 5 (certificate or counter).');

// A format check proves nothing about who is there (L1); a registry check is L2; a face, a certificate
// or a counter clerk is the second factor of L3 — the hub has no level above it, so 4 and 5 meet there.
const FROM_PROVINCIAL: Readonly<Record<ProvincialTrustLevel, AssuranceLevel>> = {
  2: 'L1',
  3: 'L2',
  4: 'L3',
  5: 'L3',
};

/** The hub level of a provincial trust level, or undefined for a number outside the scale 2–5. */
export function fromProvincialTrustLevel(level: number): AssuranceLevel | undefined {
  return Object.hasOwn(FROM_PROVINCIAL, level) ? FROM_PROVINCIAL[level as ProvincialTrustLevel] : undefined;
}
