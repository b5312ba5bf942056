import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { allRouteContracts } from '../../infra/openapi/routes';
import { routeKey } from '../../shared/contract';
import { examplePoolOf, mutated, validShaped } from '../support/fuzz-schema';

/**
 * The arbitraries the route fuzz is built from (test/support/fuzz-schema.ts), checked against the contracts' own zod
 * schemas, without a hub: valid-shaped values do reach past each schema (else the fuzz would only ever test the
 * validation layer), and mutants are mostly refused by it (else filtering them would spin) and cover every kind.
 */

const SAMPLES = 200;
/** The request travels as strings in the URL: path parameters and query values. */
const WIRE_PARTS = new Set(['params', 'query']);

/**
 * Parts whose cross-field rules a walk of JSON Schema almost never satisfies by chance (three calendar dates in
 * order plus a provincial jurisdiction); their validation is still fuzzed, their handlers are reached by e2e tests.
 */
const RARELY_VALID = new Set(['POST /v1/licences body']);

interface Part {
  name: string;
  schema: z.ZodType;
  wire: boolean;
  examples: ReturnType<typeof examplePoolOf>;
}

const parts: Part[] = allRouteContracts().flatMap((contract) =>
  (['params', 'query', 'body'] as const).flatMap((part) => {
    const schema = part === 'body' ? (contract.documentedBody ?? contract.body) : contract[part];
    return schema
      ? [
          {
            name: `${routeKey(contract)} ${part}`,
            schema,
            wire: WIRE_PARTS.has(part),
            examples: examplePoolOf(contract.requestExample),
          },
        ]
      : [];
  }),
);

const onTheWire = (part: Part, value: unknown): unknown =>
  part.wire && value !== null && typeof value === 'object'
    ? Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
      )
    : value;

describe('schema-driven arbitraries', () => {
  it('covers the contracts: every route has at least one part to fuzz or is a public document', () => {
    expect(parts.length).toBeGreaterThan(25);
  });

  it.each(parts.map((p) => [p.name, p]))('%s: valid-shaped values pass the schema', (name, part) => {
    const values = fc.sample(validShaped(part.schema, part.examples), { numRuns: SAMPLES, seed: 1 });
    const accepted = values.filter((v) => part.schema.safeParse(onTheWire(part, v)).success).length;
    if (RARELY_VALID.has(name)) expect(accepted).toBeLessThan(SAMPLES);
    else expect(accepted, `${accepted}/${SAMPLES} accepted`).toBeGreaterThan(0);
  });

  it.each(parts.map((p) => [p.name, p]))('%s: mutants are mostly refused by the schema', (_, part) => {
    const mutants = fc.sample(mutated(part.schema, part.examples, { wire: part.wire }), {
      numRuns: SAMPLES,
      seed: 2,
    });
    const refused = mutants.filter((m) => !part.schema.safeParse(onTheWire(part, m.value)).success).length;
    expect(refused, `${refused}/${SAMPLES} refused`).toBeGreaterThanOrEqual(SAMPLES * 0.4);
  });

  it('breaks values in every planned way across the contracts', () => {
    const kinds = new Set(
      parts.flatMap((part) =>
        fc
          .sample(mutated(part.schema, part.examples, { wire: part.wire }), { numRuns: 100, seed: 3 })
          .map((m) => m.kind),
      ),
    );
    expect([...kinds].sort()).toEqual(
      [
        'invalid-identifier',
        'missing-required',
        'not-in-enum',
        'number-out-of-range',
        'pattern-violated',
        'too-few-items',
        'too-long',
        'too-many-items',
        'too-short',
        'unicode-edge',
        'unknown-key',
        'very-long',
        'wrong-type',
      ].sort(),
    );
  });

  it('keeps strings that travel in a URL short enough for a request line', () => {
    for (const part of parts.filter((p) => p.wire)) {
      for (const { value } of fc.sample(mutated(part.schema, part.examples, { wire: true }), {
        numRuns: 100,
        seed: 4,
      })) {
        expect(JSON.stringify(value).length, part.name).toBeLessThan(10_000);
      }
    }
  });
});
