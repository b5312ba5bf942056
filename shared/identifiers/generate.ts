import { PROVINCES } from '../regions';
import { citizenIdCheckCharacter, type Sex } from './citizen-id';
import { CREDIT_CODE_ALPHABET, creditCodeCheckCharacter } from './credit-code';
import { formatLicenceId } from './licence-id';

/** A source of numbers in [0, 1); seeded so that tests and seed data are reproducible. */
export type Random = () => number;

/** mulberry32: tiny, fast and good enough to spread test data; never use it for secrets. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface CitizenIdSpec {
  /** 6-digit address code; by default a made-up county of a random province. */
  regionCode?: string;
  /** Inclusive `yyyy-MM-dd` bounds. */
  bornFrom?: string;
  bornTo?: string;
  sex?: Sex;
}

export function generateCitizenId(random: Random, spec: CitizenIdSpec = {}): string {
  const address = spec.regionCode ?? randomCountyCode(random);
  const birth = randomDate(random, spec.bornFrom ?? '1950-01-01', spec.bornTo ?? '2005-12-31');
  const sex = spec.sex ?? (random() < 0.5 ? 'male' : 'female');
  // Sequence 000 is never issued; the parity of the sequence carries the sex.
  const sequence = (integer(random, 0, 498) + 1) * 2 - (sex === 'male' ? 1 : 0);
  const first17 = `${address}${birth.replaceAll('-', '')}${String(sequence).padStart(3, '0')}`;
  return `${first17}${citizenIdCheckCharacter(first17)}`;
}

export interface CreditCodeSpec {
  registrationDepartment?: string;
  category?: string;
  divisionCode?: string;
}

export function generateCreditCode(random: Random, spec: CreditCodeSpec = {}): string {
  const department = spec.registrationDepartment ?? pick(random, ['1', '5', '9', '9', '9', 'Y']);
  const category = spec.category ?? pick(random, ['1', '2', '3']);
  const division = spec.divisionCode ?? randomCountyCode(random);
  const first17 = `${department}${category}${division}${randomOrganisationCode(random)}`;
  return `${first17}${creditCodeCheckCharacter(first17)}`;
}

/** A government body's code: department 1 (staffing office), category 1 (organ). */
export function generateAuthorityCode(random: Random, divisionCode?: string): string {
  return generateCreditCode(random, { registrationDepartment: '1', category: '1', divisionCode });
}

export function generateImplementationCode(random: Random, implementerCode?: string): string {
  return `${implementerCode ?? generateAuthorityCode(random)}${digits(random, 13)}`;
}

export interface LicenceIdSpec {
  typeCode?: string;
  authorityCode?: string;
  serial?: string;
  version?: string;
}

export function generateLicenceId(random: Random, spec: LicenceIdSpec = {}): string {
  return formatLicenceId({
    typeCode: spec.typeCode ?? `${generateAuthorityCode(random, '100000')}${digits(random, 3)}`,
    authorityCode: spec.authorityCode ?? generateAuthorityCode(random),
    serial: spec.serial ?? characters(random, integer(random, 6, 20), '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'),
    version: spec.version ?? '001',
  });
}

// GB 11714 organisation code: 8 characters and a MOD 11 check, kept within the credit-code alphabet.
function randomOrganisationCode(random: Random): string {
  const body = characters(random, 8, CREDIT_CODE_ALPHABET);
  const weights = [3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((total, c, i) => total + Number.parseInt(c, 36) * (weights[i] ?? 0), 0);
  const check = 11 - (sum % 11);
  return `${body}${check === 10 ? 'X' : check === 11 ? '0' : String(check)}`;
}

function randomCountyCode(random: Random): string {
  const province = pick(random, PROVINCES).code.slice(0, 2);
  return `${province}${pad2(integer(random, 1, 20))}${pad2(integer(random, 1, 30))}`;
}

function randomDate(random: Random, from: string, to: string): string {
  const start = Date.parse(`${from}T00:00:00Z`);
  const days = Math.floor((Date.parse(`${to}T00:00:00Z`) - start) / 86_400_000);
  if (!(days >= 0)) throw new RangeError('bornFrom must be a date on or before bornTo');
  return new Date(start + integer(random, 0, days) * 86_400_000).toISOString().slice(0, 10);
}

function integer(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

function pick<T>(random: Random, items: readonly T[]): T {
  const item = items[integer(random, 0, items.length - 1)];
  if (item === undefined) throw new RangeError('cannot pick from an empty list');
  return item;
}

function characters(random: Random, length: number, alphabet: string): string {
  return Array.from({ length }, () => pick(random, [...alphabet])).join('');
}

function digits(random: Random, length: number): string {
  return characters(random, length, '0123456789');
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
