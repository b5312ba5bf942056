import fc from 'fast-check';
import { z } from 'zod';
import {
  citizenIdSchema,
  creditCodeSchema,
  implementationCodeSchema,
  licenceIdSchema,
  regionCodeSchema,
} from '../../shared/identifiers';
import {
  generateCitizenId,
  generateCreditCode,
  generateImplementationCode,
  generateLicenceId,
  seededRandom,
} from '../../shared/identifiers/generate';
import { PROVINCES } from '../../shared/regions';

/**
 * fast-check arbitraries derived from a route's zod schemas (issue 9): the schema is turned into JSON Schema with
 * zod 4's own `z.toJSONSchema` (no maintained zod-4 → fast-check library exists; zod-fast-check supports zod 3
 * only), and the JSON Schema is walked into
 * - `validShaped`: values of the declared shape — types, required keys, enums, patterns, lengths and ranges —
 *   with the identifiers whose validity JSON Schema cannot state (check characters) drawn from the project's own
 *   generators, and free strings seeded with the values of the contract's request example;
 * - `mutated`: such a value broken in one place — a field of the wrong type, a required key missing, an unknown
 *   key, a length or a number just past its bound or huge, an array past its size, an invalid identifier, a
 *   pattern or enum violated, unicode edge cases — the kind of input the route must refuse.
 */

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  default?: unknown;
  description?: string;
};

/** Per property name, values the contract's example gives it: plausible strings a schema cannot describe. */
export type ExamplePool = ReadonlyMap<string, readonly unknown[]>;

/** The input side of a schema as JSON Schema; refinements and overwrites are not representable and are dropped. */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as JsonSchema;
}

/** Leaf values of an example by the property name they sit under (array items under their array's name). */
export function examplePoolOf(...examples: unknown[]): ExamplePool {
  const pool = new Map<string, unknown[]>();
  const visit = (value: unknown, name: string | undefined) => {
    if (Array.isArray(value)) for (const item of value) visit(item, name);
    else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) visit(child, key);
    } else if (name !== undefined && value !== undefined) {
      pool.set(name, [...(pool.get(name) ?? []), value]);
    }
  };
  for (const example of examples) visit(example, undefined);
  return pool;
}

const fromSeed = (make: (random: () => number) => string) =>
  fc.integer({ min: 1, max: 0x7fffffff }).map((seed) => make(seededRandom(seed)));

/** Identifier schemas carry a fixed description (shared/identifiers), which JSON Schema keeps: valid ones by kind. */
const IDENTIFIERS = new Map<string | undefined, { kind: string; valid: fc.Arbitrary<string> }>([
  [citizenIdSchema.description, { kind: 'citizen-id', valid: fromSeed(generateCitizenId) }],
  [creditCodeSchema.description, { kind: 'credit-code', valid: fromSeed(generateCreditCode) }],
  [
    implementationCodeSchema.description,
    { kind: 'implementation-code', valid: fromSeed((r) => generateImplementationCode(r)) },
  ],
  [licenceIdSchema.description, { kind: 'licence-id', valid: fromSeed((r) => generateLicenceId(r)) }],
  [
    regionCodeSchema.description,
    {
      kind: 'region-code',
      valid: fc.oneof(
        fc.constantFrom(...PROVINCES.map((p) => p.code)),
        fromSeed((r) => generateCitizenId(r).slice(0, 6)),
      ),
    },
  ],
]);

export const identifierKindOf = (schema: JsonSchema): string | undefined =>
  IDENTIFIERS.get(schema.description)?.kind;

/** Strings that unconstrained fields often mean (dates, months, instants, codes): reach refinements JSON Schema hides. */
const PLAUSIBLE_STRINGS = [
  '2026-11-21',
  '2026-11',
  '2026',
  '2026-11-21T10:00:00+08:00',
  '2026-01-01T00:00:00Z',
  '2026-11-01',
  '2026-12-31',
  '330000',
  '110105',
  '330000:FUZZ-0001',
  'true',
  '1',
];

/** Unicode and encoding edge cases: NUL, lone surrogates, BOM, bidi override, combining marks, emoji, NFD, CJK. */
export const UNICODE_EDGES = [
  '\u0000',
  '\uD800',
  '\uDFFF',
  '\uFEFF',
  '\u202E\u0645\u0631\u062D\u0628\u0627',
  'e\u0301\u0301\u0301',
  '👨‍👩‍👧‍👦',
  '\u200B\u200C\u200D',
  '张三\u3000',
  '𠀀𪚥',
  ' ',
  '',
  '\n\r\t',
  '%00',
  '../../etc/passwd',
  "' OR '1'='1",
  '<script>alert(1)</script>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log-injection probe, meant literally
  '${jndi:ldap://127.0.0.1/a}',
];

const MAX_GENERATED_LENGTH = 48;
const MAX_GENERATED_ITEMS = 3;

interface Walk {
  root: JsonSchema;
  examples: ExamplePool;
  depth: number;
  wire?: boolean;
}

function resolve(schema: JsonSchema, walk: Walk): JsonSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace(/^#\/\$defs\//, '');
  const target = walk.root.$defs?.[name];
  if (!target) throw new Error(`fuzz: unresolvable $ref ${schema.$ref}`);
  return { ...target, ...schema, $ref: undefined };
}

const typesOf = (schema: JsonSchema): string[] =>
  schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];

/** Values of the schema's declared shape. */
export function validShaped(schema: z.ZodType, examples: ExamplePool = new Map()): fc.Arbitrary<unknown> {
  const root = jsonSchemaOf(schema);
  return arbitraryOf(root, { root, examples, depth: 0 }, undefined);
}

function arbitraryOf(raw: JsonSchema, walk: Walk, name: string | undefined): fc.Arbitrary<unknown> {
  const schema = resolve(raw, walk);
  const deeper = { ...walk, depth: walk.depth + 1 };
  if (walk.depth > 8) return fc.constant(null);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return fc.oneof(...union.map((branch) => arbitraryOf(branch, deeper, name)));
  if (schema.allOf) return arbitraryOf(mergeAll(schema.allOf.map((s) => resolve(s, walk))), deeper, name);
  const types = typesOf(schema);
  if (types.length > 1) {
    return fc.oneof(...types.map((type) => arbitraryOf({ ...schema, type }, walk, name)));
  }
  switch (types[0]) {
    case 'object':
      return objectArbitrary(schema, deeper);
    case 'array':
      return arrayArbitrary(schema, deeper, name);
    case 'string':
      return stringArbitrary(schema, walk, name);
    case 'integer':
      return fc.integer({ min: lowerBound(schema, -1_000_000), max: upperBound(schema, 1_000_000) });
    case 'number':
      return fc.double({
        min: lowerBound(schema, -1_000_000),
        max: upperBound(schema, 1_000_000),
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default: {
      // `{}`: anything (an envelope's records, or what zod cannot express); the example's values come first.
      const pool = name === undefined ? undefined : walk.examples.get(name);
      const any = fc.jsonValue({ maxDepth: 2 });
      return pool?.length ? fc.oneof(fc.constantFrom(...pool), any) : any;
    }
  }
}

function mergeAll(schemas: JsonSchema[]): JsonSchema {
  const merged: JsonSchema = { properties: {}, required: [] };
  for (const next of schemas) {
    Object.assign(merged, { ...next, properties: merged.properties, required: merged.required });
    Object.assign(merged.properties as object, next.properties);
    merged.required?.push(...(next.required ?? []));
  }
  return merged;
}

const lowerBound = (schema: JsonSchema, fallback: number) =>
  schema.minimum ?? (schema.exclusiveMinimum === undefined ? fallback : schema.exclusiveMinimum + 1);
const upperBound = (schema: JsonSchema, fallback: number) =>
  schema.maximum ?? (schema.exclusiveMaximum === undefined ? fallback : schema.exclusiveMaximum - 1);

function objectArbitrary(schema: JsonSchema, walk: Walk): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const names = Object.keys(properties);
  if (names.length === 0 && typeof schema.additionalProperties === 'object') {
    const value = arbitraryOf(schema.additionalProperties, walk, undefined);
    return fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), value, { maxKeys: 4 });
  }
  const model = Object.fromEntries(names.map((n) => [n, arbitraryOf(properties[n] as JsonSchema, walk, n)]));
  return fc.record(model, { requiredKeys: (schema.required ?? []).filter((n) => n in properties) });
}

function arrayArbitrary(schema: JsonSchema, walk: Walk, name: string | undefined): fc.Arbitrary<unknown> {
  const minLength = schema.minItems ?? 0;
  const maxLength = Math.max(
    minLength,
    Math.min(schema.maxItems ?? MAX_GENERATED_ITEMS, MAX_GENERATED_ITEMS),
  );
  return fc.array(arbitraryOf(schema.items ?? {}, walk, name), { minLength, maxLength });
}

function stringArbitrary(schema: JsonSchema, walk: Walk, name: string | undefined): fc.Arbitrary<unknown> {
  const identifier = IDENTIFIERS.get(schema.description);
  if (identifier) return identifier.valid;
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.max(
    minLength,
    Math.min(schema.maxLength ?? MAX_GENERATED_LENGTH, MAX_GENERATED_LENGTH),
  );
  const fits = (s: string) =>
    s.length >= minLength && (schema.maxLength === undefined || s.length <= schema.maxLength);
  const formatted = formatArbitrary(schema);
  if (formatted) return formatted;
  if (schema.pattern) {
    return fc.stringMatching(new RegExp(schema.pattern)).filter(fits);
  }
  const pool = (name === undefined ? [] : (walk.examples.get(name) ?? [])).filter(
    (v): v is string => typeof v === 'string' && fits(v),
  );
  const plausible = PLAUSIBLE_STRINGS.filter(fits);
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ minLength, maxLength }) },
    { weight: 1, arbitrary: fc.string({ minLength, maxLength, unit: 'grapheme' }) },
    ...(pool.length ? [{ weight: 4, arbitrary: fc.constantFrom(...pool) }] : []),
    ...(plausible.length ? [{ weight: 4, arbitrary: fc.constantFrom(...plausible) }] : []),
  );
}

function formatArbitrary(schema: JsonSchema): fc.Arbitrary<string> | undefined {
  switch (schema.format) {
    case 'uuid':
      return fc.uuid();
    case 'date-time':
      return fc
        .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString());
    case 'date':
      return fc
        .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10));
    case 'email':
      return fc.emailAddress();
    case 'uri':
    case 'url':
      return fc.webUrl();
    case 'base64':
      return fc.base64String({ maxLength: 64 });
    default:
      return undefined;
  }
}

// ---- Mutations ------------------------------------------------------------------------------------------------

/** One way of breaking a value at one place, by name (the fuzz report counts them). */
export interface Mutant {
  kind: string;
  value: unknown;
}

type Path = (string | number)[];

interface Site {
  path: Path;
  schema: JsonSchema;
  /** The object holding the site, and whether the site's key is required there. */
  required: boolean;
}

/**
 * URLs are carried in the request line, which HTTP servers cap (API Gateway at 10 KiB, Node at 16 KiB of head): a
 * part that travels in the URL is broken within that, or the server refuses it before the hub sees it.
 */
export const MAX_WIRE_STRING = 3_000;

/**
 * Valid-shaped values broken in one place. The caller filters out those its zod schema still accepts. `wire`: the
 * value travels in the URL (path parameters, query), so its strings stay short enough for a request line.
 */
export function mutated(
  schema: z.ZodType,
  examples: ExamplePool = new Map(),
  options: { wire?: boolean } = {},
): fc.Arbitrary<Mutant> {
  const root = jsonSchemaOf(schema);
  const walk = { root, examples, depth: 0, wire: options.wire ?? false };
  return arbitraryOf(root, walk, undefined).chain((value) => {
    const sites = sitesOf(root, value, walk, [], true);
    return fc.constantFrom(...sites).chain((site) => mutationsAt(site, value, walk));
  });
}

function sitesOf(raw: JsonSchema, value: unknown, walk: Walk, path: Path, required: boolean): Site[] {
  const schema = resolve(raw, walk);
  const here: Site = { path, schema, required };
  const union = schema.anyOf ?? schema.oneOf;
  if (union) {
    const branch = union.map((b) => resolve(b, walk)).find((b) => matchesShape(b, value));
    return branch ? [here, ...sitesOf(branch, value, walk, path, required).slice(1)] : [here];
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && schema.properties) {
    const requiredKeys = new Set(schema.required ?? []);
    return [
      here,
      ...Object.entries(value as Record<string, unknown>).flatMap(([key, child]) => {
        const childSchema = schema.properties?.[key];
        return childSchema ? sitesOf(childSchema, child, walk, [...path, key], requiredKeys.has(key)) : [];
      }),
    ];
  }
  if (Array.isArray(value) && value.length > 0 && schema.items) {
    return [here, ...sitesOf(schema.items, value[0], walk, [...path, 0], true)];
  }
  return [here];
}

/** Whether a value fits a union branch well enough to walk it (its consts agree, its required keys are there). */
function matchesShape(branch: JsonSchema, value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return !branch.properties;
  const record = value as Record<string, unknown>;
  const constsAgree = Object.entries(branch.properties ?? {}).every(
    ([key, s]) => s.const === undefined || record[key] === s.const,
  );
  return constsAgree && (branch.required ?? []).every((key) => key in record);
}

function mutationsAt(site: Site, whole: unknown, walk: Walk): fc.Arbitrary<Mutant> {
  const { schema, path } = site;
  const replace = (kind: string) => (replacement: unknown) => ({
    kind,
    value: setAt(whole, path, replacement),
  });
  const options: fc.Arbitrary<Mutant>[] = [wrongTypeOf(schema).map(replace('wrong-type'))];
  if (path.length > 0 && site.required && typeof path.at(-1) === 'string') {
    options.push(fc.constant({ kind: 'missing-required', value: removeAt(whole, path) }));
  }
  const types = typesOf(schema);
  if (types.includes('object') || schema.properties) {
    options.push(
      fc
        .tuple(
          fc.oneof(fc.constantFrom('__proto__', 'constructor', 'extra', '', '$where'), fc.string()),
          fc.jsonValue({ maxDepth: 1 }),
        )
        .map(([key, extra]) => ({ kind: 'unknown-key', value: setAt(whole, [...path, key], extra) })),
    );
  }
  if (types.includes('array')) {
    const max = schema.maxItems;
    if (max !== undefined && max <= 1000) {
      options.push(
        arbitraryOf(schema.items ?? {}, walk, undefined).map((item) => ({
          kind: 'too-many-items',
          value: setAt(
            whole,
            path,
            Array.from({ length: max + 1 }, () => item),
          ),
        })),
      );
    }
    if ((schema.minItems ?? 0) > 0) options.push(fc.constant(replace('too-few-items')([])));
  }
  if (types.includes('string'))
    options.push(
      ...stringMutations(schema, walk.wire ?? false).map((a) =>
        a.map(({ kind, value }) => replace(kind)(value)),
      ),
    );
  if (types.includes('integer') || types.includes('number')) {
    options.push(numberMutations(schema).map(replace('number-out-of-range')));
  }
  if (schema.enum || schema.const !== undefined) {
    const allowed = schema.enum ?? [schema.const];
    options.push(
      fc
        .oneof(
          fc.constantFrom(
            ...allowed.filter((v): v is string => typeof v === 'string').map((v) => v.toUpperCase()),
          ),
          fc.string({ maxLength: 12 }),
        )
        .filter((v) => !allowed.includes(v))
        .map(replace('not-in-enum')),
    );
  }
  return fc.oneof(...options);
}

function wrongTypeOf(schema: JsonSchema): fc.Arbitrary<unknown> {
  const types = new Set(typesOf(schema));
  const candidates: fc.Arbitrary<unknown>[] = [];
  if (!types.has('string')) candidates.push(fc.constantFrom('1', 'true', '', '{}'));
  if (!types.has('number') && !types.has('integer')) candidates.push(fc.constantFrom(0, 1, -1, 1.5));
  if (!types.has('boolean')) candidates.push(fc.boolean());
  if (!types.has('null')) candidates.push(fc.constant(null));
  if (!types.has('object')) candidates.push(fc.constant({}));
  if (!types.has('array')) candidates.push(fc.constantFrom([], ['x']));
  return fc.oneof(...candidates);
}

function stringMutations(schema: JsonSchema, wire: boolean): fc.Arbitrary<Mutant>[] {
  const mutants: fc.Arbitrary<Mutant>[] = [
    fc.constantFrom(...UNICODE_EDGES).map((value) => ({ kind: 'unicode-edge', value })),
  ];
  const longest = wire ? MAX_WIRE_STRING : 70_000;
  if (schema.maxLength !== undefined && schema.maxLength < longest) {
    const length = schema.maxLength + 1;
    // Percent-encoded, a CJK character takes 9 bytes of a URL and an emoji 12.
    const characters = wire ? ['a'] : ['a', '字', '😀'];
    mutants.push(fc.constantFrom(...characters).map((c) => ({ kind: 'too-long', value: c.repeat(length) })));
  } else if (schema.maxLength === undefined) {
    mutants.push(fc.constant({ kind: 'very-long', value: 'x'.repeat(longest) }));
  }
  if ((schema.minLength ?? 0) > 0) {
    mutants.push(fc.constant({ kind: 'too-short', value: 'a'.repeat((schema.minLength ?? 1) - 1) }));
  }
  if (schema.pattern) {
    const pattern = new RegExp(schema.pattern);
    mutants.push(
      fc
        .oneof(
          fc.string({ maxLength: 20 }),
          fc.stringMatching(pattern).map((s) => `${s}\n`),
        )
        .filter((s) => !pattern.test(s))
        .map((value) => ({ kind: 'pattern-violated', value })),
    );
  }
  const identifier = IDENTIFIERS.get(schema.description);
  if (identifier) {
    mutants.push(
      fc
        .tuple(identifier.valid, fc.nat(), fc.constantFrom('flip', 'lower', 'short', 'long', 'space'))
        .map(([valid, at, how]) => ({ kind: 'invalid-identifier', value: breakIdentifier(valid, at, how) })),
    );
  }
  return mutants;
}

/** A valid identifier broken so that only its check (not its shape) can tell: a changed character, case, length. */
function breakIdentifier(valid: string, at: number, how: string): string {
  const i = at % valid.length;
  switch (how) {
    case 'flip': {
      const c = valid[i] as string;
      const replacement = /\d/.test(c) ? String((Number(c) + 1) % 10) : c === 'A' ? 'B' : 'A';
      return `${valid.slice(0, i)}${replacement}${valid.slice(i + 1)}`;
    }
    case 'lower':
      return valid.toLowerCase() === valid ? `${valid.slice(0, -1)}x` : valid.toLowerCase();
    case 'short':
      return valid.slice(0, -1);
    case 'long':
      return `${valid}0`;
    default:
      return ` ${valid}`;
  }
}

function numberMutations(schema: JsonSchema): fc.Arbitrary<unknown> {
  const edges: unknown[] = [1e308, -1e308, 2 ** 53 + 2, -(2 ** 53) - 2, 1e-320];
  if (schema.maximum !== undefined) edges.push(schema.maximum + 1);
  if (schema.minimum !== undefined) edges.push(schema.minimum - 1);
  if (typesOf(schema).includes('integer')) edges.push(0.5, (schema.minimum ?? 0) + 0.5);
  return fc.constantFrom(...edges);
}

function setAt(whole: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path as [string | number, ...Path];
  if (Array.isArray(whole)) {
    const copy = [...whole];
    copy[head as number] = setAt(copy[head as number], rest, replacement);
    return copy;
  }
  const record = whole !== null && typeof whole === 'object' ? (whole as Record<string, unknown>) : {};
  // defineProperty: a key named `__proto__` becomes an own property (as JSON.parse makes it), not a prototype.
  const copy = { ...record };
  Object.defineProperty(copy, head, {
    value: setAt(record[head as string], rest, replacement),
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return copy;
}

function removeAt(whole: unknown, path: Path): unknown {
  const parentPath = path.slice(0, -1);
  const key = path.at(-1) as string;
  const parent = parentPath.reduce<unknown>(
    (node, step) => (node as Record<string | number, unknown>)[step],
    whole,
  ) as Record<string, unknown>;
  const { [key]: _removed, ...rest } = parent;
  return setAt(whole, parentPath, rest);
}
