import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertJsonContentType,
  findStructuralFlaw,
  MAX_JSON_DEPTH,
  parseJsonBody,
  rawBodyBytes,
} from '../../../shared/http/json-body';
import { Problem } from '../../../shared/problem';

const problemOf = (run: () => unknown): Problem => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(Problem);
    return error as Problem;
  }
  throw new Error('expected a problem');
};
const utf8 = (text: string) => Buffer.from(text, 'utf8');
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('rawBodyBytes', () => {
  it('decodes base64 bodies and passes text bodies as UTF-8', () => {
    expect(
      rawBodyBytes({ body: Buffer.from('{"a":"é"}').toString('base64'), isBase64Encoded: true }).toString(),
    ).toBe('{"a":"é"}');
    expect(rawBodyBytes({ body: 'é' }).length).toBe(2);
    expect(rawBodyBytes({ body: null }).length).toBe(0);
  });

  it('refuses a body over the limit with 413, counting bytes not characters', () => {
    expect(rawBodyBytes({ body: 'x'.repeat(10) }, 10).length).toBe(10);
    expect(problemOf(() => rawBodyBytes({ body: 'x'.repeat(11) }, 10)).status).toBe(413);
    expect(problemOf(() => rawBodyBytes({ body: 'é'.repeat(6) }, 10)).slug).toBe('payload-too-large');
    const big = Buffer.alloc(11).toString('base64');
    expect(problemOf(() => rawBodyBytes({ body: big, isBase64Encoded: true }, 10)).status).toBe(413);
  });
});

describe('assertJsonContentType', () => {
  it.each([
    'application/json',
    'Application/JSON; charset=UTF-8',
    'application/problem+json',
    'application/json;charset="utf-8"',
  ])('accepts %s', (type) => {
    expect(() => assertJsonContentType(type)).not.toThrow();
  });

  it.each([
    undefined,
    '',
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/json; charset=gbk',
  ])('refuses %s with 415', (type) => {
    expect(problemOf(() => assertJsonContentType(type)).status).toBe(415);
  });
});

describe('parseJsonBody', () => {
  it('parses JSON', () => {
    expect(parseJsonBody(utf8('{"records":[{"a":1},{"a":2}],"b":{"a":3}}'))).toEqual({
      records: [{ a: 1 }, { a: 2 }],
      b: { a: 3 },
    });
  });

  it.each([
    ['empty body', Buffer.alloc(0)],
    ['not JSON', utf8('{"a":')],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])],
    ['a byte-order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8('{}')])],
    ['a duplicate member', utf8('{"a":1,"b":{"c":1},"a":2}')],
    ['a duplicate member spelled with an escape', utf8('{"ab":1,"\\u0061b":2}')],
    ['nesting beyond the limit', utf8(nested(MAX_JSON_DEPTH + 1))],
  ])('refuses %s with 400 malformed-json', (_name, bytes) => {
    const problem = problemOf(() => parseJsonBody(bytes));
    expect(problem.status).toBe(400);
    expect(problem.slug).toBe('malformed-json');
  });

  it('accepts nesting exactly at the limit', () => {
    expect(() => parseJsonBody(utf8(nested(MAX_JSON_DEPTH)))).not.toThrow();
  });

  it('never quotes the body in its detail', () => {
    const problem = problemOf(() => parseJsonBody(utf8('{"idNumber": 11010519491231002X}')));
    expect(JSON.stringify(problem.toJSON())).not.toContain('11010519491231002X');
  });
});

describe('findStructuralFlaw', () => {
  it('finds no flaw in any JSON without duplicate names (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        expect(findStructuralFlaw(JSON.stringify(value), 64)).toBeUndefined();
      }),
    );
  });

  it('ignores braces, commas and quotes inside strings, and equal names in different objects', () => {
    expect(findStructuralFlaw('{"a":"{\\"a\\":1,","b":[{"a":1},{"a":2}]}', 64)).toBeUndefined();
    expect(findStructuralFlaw('[{"a":1,"a":2}]', 64)).toBe('duplicate-member');
  });
});
