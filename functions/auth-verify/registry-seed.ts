import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  generateCitizenId,
  generateCreditCode,
  type Random,
  seededRandom,
} from '../../shared/identifiers/generate';
import { type RegistryIdentity, toRegistryRecord } from './domain/registry-record';
import { createRegistryStore } from './registry-store';

/**
 * A synthetic identity registry for the local hub, tests and benchmarks: valid generated numbers (right check
 * characters, real province codes, possible birth dates) and made-up names. Nothing here is a real person's
 * record, though a generated number may by chance be someone's: never load it into a shared environment.
 */

export interface SyntheticPerson {
  idNumber: string;
  name: string;
}

export interface SyntheticEnterprise {
  creditCode: string;
  legalRepresentative: string;
}

export interface SyntheticRegistry {
  persons: SyntheticPerson[];
  enterprises: SyntheticEnterprise[];
}

/**
 * Always seeded by the local hub, so developers can try verification and dev sign-in by hand. The first is
 * GB 11643's own example number; the third has a minority name with the middle dot, as the registry spells it.
 */
export const DEMO_PERSONS: readonly SyntheticPerson[] = [
  { idNumber: '11010519491231002X', name: '张三' },
  { idNumber: '330106198506123419', name: '李四' },
  { idNumber: '650102198801011232', name: '阿依古丽·买买提' },
];

export const DEMO_ENTERPRISES: readonly SyntheticEnterprise[] = [
  { creditCode: '91330106MA2K111119', legalRepresentative: '王五' },
];

export const DEMO_REGISTRY: SyntheticRegistry = {
  persons: [...DEMO_PERSONS],
  enterprises: [...DEMO_ENTERPRISES],
};

// Frequent surnames and given-name characters: enough variety that two seeded people rarely share a name.
const SURNAMES = [
  ...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈',
];
const GIVEN = [
  ...'伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰萍红建国文辉鹏飞宇浩然晓东雪梅志海燕春林',
];

function syntheticName(random: Random): string {
  const pick = (characters: string[]) => characters[Math.floor(random() * characters.length)] ?? '';
  const given = random() < 0.6 ? pick(GIVEN) + pick(GIVEN) : pick(GIVEN);
  return pick(SURNAMES) + given;
}

/** Draws values until `count` distinct ones: a repeated number would make one of its two people unverifiable. */
function distinct<T>(count: number, taken: Set<string>, keyOf: (value: T) => string, draw: () => T): T[] {
  const seen = new Set(taken);
  const values: T[] = [];
  while (values.length < count) {
    const value = draw();
    if (seen.has(keyOf(value))) continue;
    seen.add(keyOf(value));
    values.push(value);
  }
  return values;
}

export interface GenerateOptions {
  persons: number;
  enterprises: number;
  /** The same seed gives the same registry. */
  seed?: number;
}

export const DEFAULT_SEED = 20_190_530;

/** Pure: the synthetic identities for a seed (demo identities excluded). */
export function generateSyntheticRegistry(options: GenerateOptions): SyntheticRegistry {
  assertCount('persons', options.persons);
  assertCount('enterprises', options.enterprises);
  const random = seededRandom(options.seed ?? DEFAULT_SEED);
  // Demo numbers are never drawn again, so a seeded registry cannot overwrite a demo identity's name.
  const persons = distinct(
    options.persons,
    new Set(DEMO_PERSONS.map((p) => p.idNumber)),
    (p: SyntheticPerson) => p.idNumber,
    () => ({ idNumber: generateCitizenId(random), name: syntheticName(random) }),
  );
  const enterprises = distinct(
    options.enterprises,
    new Set(DEMO_ENTERPRISES.map((e) => e.creditCode)),
    (e: SyntheticEnterprise) => e.creditCode,
    () => ({ creditCode: generateCreditCode(random), legalRepresentative: syntheticName(random) }),
  );
  return { persons, enterprises };
}

function assertCount(what: string, count: number): void {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`${what} must be a whole number ≥ 0`);
}

export const identitiesOf = (registry: SyntheticRegistry): RegistryIdentity[] => [
  ...registry.persons.map((p): RegistryIdentity => ({ subject: 'person', ...p })),
  ...registry.enterprises.map((e): RegistryIdentity => ({ subject: 'enterprise', ...e })),
];

export interface SeedTarget {
  doc: DynamoDBDocumentClient;
  /** The identity registry table (REGISTRY_TABLE). */
  table: string;
  /** The ID HMAC key the hub's functions use (HUB_ID_HMAC_KEY / the dev key locally). */
  key: Uint8Array | string;
  /** Called with the running count of identities written. */
  onProgress?: (written: number) => void;
}

// Records per putRecords call: bounds memory of the HMAC'd records and paces progress reports.
const WRITE_SLICE = 1_000;

/** HMACs and writes identities to the registry; resolves with how many were written. */
export async function writeIdentities(
  target: SeedTarget,
  identities: readonly RegistryIdentity[],
): Promise<number> {
  const store = createRegistryStore({ doc: target.doc, table: target.table });
  let written = 0;
  for (let start = 0; start < identities.length; start += WRITE_SLICE) {
    const slice = identities.slice(start, start + WRITE_SLICE);
    await store.putRecords(slice.map((identity) => toRegistryRecord(identity, target.key)));
    written += slice.length;
    target.onProgress?.(written);
  }
  return written;
}

/** Generates a synthetic registry for the seed, writes it, and returns it so callers know whom to verify. */
export async function seedSyntheticRegistry(
  options: SeedTarget & GenerateOptions,
): Promise<SyntheticRegistry> {
  const registry = generateSyntheticRegistry(options);
  await writeIdentities(options, identitiesOf(registry));
  return registry;
}

/** Writes the fixed demo identities (idempotent: a re-run rewrites the same items). */
export async function seedDemoRegistry(target: SeedTarget): Promise<SyntheticRegistry> {
  await writeIdentities(target, identitiesOf(DEMO_REGISTRY));
  return DEMO_REGISTRY;
}
