import * as z from 'zod';
import { PERSONAL_DATA_FIELDS, PUBLIC_STORE_CONTENTS } from '../../infra/personal-data';
import { type AssessmentSnapshot, itemSnapshotKeysOf, renderCsv, snapshotKeysOf } from './snapshot';

/**
 * What the public cloud may receive from the private one (DESIGN §4: "private → public only published,
 * non-personal snapshots"): an assessment snapshot as the rollup renders it (snapshot.ts), checked here before it
 * leaves. Pure: the publisher (publish-snapshot.ts) and the public read routes (public-assessments.ts) use it.
 *
 * The shape is checked by zod; which fields may appear is not repeated here but taken from the declaration of the
 * public bucket's contents (infra/personal-data.ts `PUBLIC_STORE_CONTENTS['assessment-snapshots']`), the list the
 * infra tests hold against the personal-data list — so a field added to the snapshot must be declared there first.
 */

export const PERIOD_PATTERN = /^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$/;
export const periodSchema = z
  .string()
  .regex(PERIOD_PATTERN)
  .describe('A day `yyyy-mm-dd` or a month `yyyy-mm` (Asia/Shanghai).');

/** Where the published index of periods lives, in the public bucket (beside the snapshots). */
export const PUBLISHED_INDEX_KEY = 'assessments/index.json';

const renderedRateSchema = z
  .strictObject({ numerator: z.number(), denominator: z.number(), value: z.number() })
  .nullable();

const snapshotScopeSchema = z.looseObject({
  scope: z
    .string()
    .min(1)
    .describe('`nation`, `province#…`, `region#…`, `dept#…#…` or, in an item snapshot, `item#…#…#…`.'),
  level: z.string().min(1),
  counters: z.record(z.string(), z.number()).describe('Counts of the scope in the period.'),
  rates: z
    .record(z.string(), renderedRateSchema)
    .describe('Each rate with its exact numerator and denominator; null when the denominator is zero.'),
});

/** A published assessment snapshot. Loose objects: undeclared fields are refused by `refusalsOf`, by name. */
export const publishedSnapshotSchema = z
  .looseObject({
    period: periodSchema,
    periodType: z.enum(['day', 'month']),
    generatedAt: z.string().min(1),
    coverage: z.looseObject({ days: z.number().int().min(0), daysInPeriod: z.number().int().min(1) }),
    rounding: z.string(),
    notes: z.array(z.string()),
    scopes: z.array(snapshotScopeSchema),
  })
  .describe(
    'An assessment snapshot (考评快照) of a day or a month: rates and counts per scope, nothing personal.',
  );

export type PublishedSnapshot = z.infer<typeof publishedSnapshotSchema>;

export const publishedIndexSchema = z.strictObject({
  periods: z.array(periodSchema).describe('Every published period, newest first.'),
});
export type PublishedIndex = z.infer<typeof publishedIndexSchema>;

const DECLARED_FIELDS: ReadonlySet<string> = new Set(PUBLIC_STORE_CONTENTS['assessment-snapshots']);
const PERSONAL_FIELDS: ReadonlySet<string> = new Set(PERSONAL_DATA_FIELDS);

/** Why a snapshot may not be published; field names and zod paths only, never a value. */
export type Refusal =
  | { reason: 'not-json' }
  | { reason: 'schema'; paths: string[] }
  | { reason: 'personal-field'; fields: string[] }
  | { reason: 'undeclared-field'; fields: string[] }
  | { reason: 'wrong-period'; expected: string }
  | { reason: 'wrong-scope'; expected: string }
  | { reason: 'csv-differs' };

export type Judgement =
  | { publishable: true; snapshot: PublishedSnapshot }
  | { publishable: false; refusal: Refusal };

/** Every object key anywhere in a JSON value (counter and rate names included). */
function keysAnywhere(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) keysAnywhere(item, into);
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      into.add(key);
      keysAnywhere(item, into);
    }
  }
  return into;
}

/** Fields of the snapshot and of its scopes that the public bucket does not declare it keeps. */
function undeclaredFields(snapshot: PublishedSnapshot): string[] {
  const fields = new Set([
    ...Object.keys(snapshot),
    ...snapshot.scopes.flatMap((scope) => Object.keys(scope)),
  ]);
  return [...fields].filter((field) => !DECLARED_FIELDS.has(field)).sort();
}

/**
 * Judges the snapshot of `period` as read from the private bucket (JSON and CSV text): publishable only when the
 * JSON matches the schema, names no field of the personal-data list at any depth and no undeclared field, is the
 * period announced, and the CSV is exactly the rendering of that JSON (so it can carry nothing the JSON does not).
 */
export function judgeSnapshot(period: string, jsonText: string, csvText: string): Judgement {
  return judge(period, jsonText, csvText, () => undefined);
}

/**
 * Judges a province's item snapshot of `period` (snapshot.ts `itemSnapshotKeysOf`) by the same rules, and in
 * addition: every scope is an item scope of that province — a file named for one province never carries another's.
 */
export function judgeItemSnapshot(
  period: string,
  province: string,
  jsonText: string,
  csvText: string,
): Judgement {
  return judge(period, jsonText, csvText, (snapshot) =>
    snapshot.scopes.every((scope) => scope.level === 'item' && scope.province === province)
      ? undefined
      : { reason: 'wrong-scope', expected: `item scopes of province ${province}` },
  );
}

function judge(
  period: string,
  jsonText: string,
  csvText: string,
  scopeRefusal: (snapshot: PublishedSnapshot) => Refusal | undefined,
): Judgement {
  let raw: unknown;
  try {
    raw = JSON.parse(jsonText);
  } catch {
    return { publishable: false, refusal: { reason: 'not-json' } };
  }
  // Personal fields first: a snapshot carrying one is refused for that, whatever else is wrong with it.
  const personal = [...keysAnywhere(raw)].filter((key) => PERSONAL_FIELDS.has(key)).sort();
  if (personal.length > 0)
    return { publishable: false, refusal: { reason: 'personal-field', fields: personal } };
  const parsed = publishedSnapshotSchema.safeParse(raw);
  if (!parsed.success) {
    const paths = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)');
    return { publishable: false, refusal: { reason: 'schema', paths: [...new Set(paths)] } };
  }
  const undeclared = undeclaredFields(parsed.data);
  if (undeclared.length > 0) {
    return { publishable: false, refusal: { reason: 'undeclared-field', fields: undeclared } };
  }
  if (parsed.data.period !== period) {
    return { publishable: false, refusal: { reason: 'wrong-period', expected: period } };
  }
  const wrongScope = scopeRefusal(parsed.data);
  if (wrongScope) return { publishable: false, refusal: wrongScope };
  if (renderCsv(parsed.data as unknown as AssessmentSnapshot) !== csvText) {
    return { publishable: false, refusal: { reason: 'csv-differs' } };
  }
  return { publishable: true, snapshot: parsed.data };
}

/**
 * The provinces whose item snapshots belong to a period's snapshot: those it has a province scope of. The rollup
 * writes one item snapshot per province with cells (rollup.ts), and a province with cells has a province scope,
 * so this names each of them — at most 32 — without listing the bucket.
 */
export function provincesOf(snapshot: PublishedSnapshot): string[] {
  const provinces = snapshot.scopes
    .filter((scope) => scope.level === 'province' && typeof scope.province === 'string')
    .map((scope) => scope.province as string);
  return [...new Set(provinces)].sort();
}

/** The index with `period` added once: newest first (a month sorts after its own days, `2026-09` < `2026-09-01`). */
export function withPeriod(index: PublishedIndex, period: string): PublishedIndex {
  const periods = new Set([...index.periods, period]);
  return { periods: [...periods].sort((a, b) => b.localeCompare(a)) };
}

export const EMPTY_INDEX: PublishedIndex = { periods: [] };

/** The published copies of a period: the same keys in the public bucket as in the private one. */
export const publishedKeysOf = snapshotKeysOf;
/** The published copies of a province's item snapshot of a period: the same keys as in the private bucket. */
export const publishedItemKeysOf = itemSnapshotKeysOf;
