import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Problem } from '../../../shared/problem';
import {
  canonicalQuery,
  canonicalRequest,
  encodeQuery,
  encodeRfc3986,
  MAX_CLOCK_SKEW_SECONDS,
  signRequest,
  verifySignature,
} from '../../../shared/signing';

const secret = 'dev-only-region-330000-secret-do-not-use-in-production';
const body = '{"records":[{"regionCode":"330000"}]}';
const fixed = {
  method: 'post',
  path: '/v1/cases:batch',
  query: 'b=x%20y&a=3&a=1',
  timestamp: '1763700000',
  nonce: 'n0nce-0123456789AB',
  body,
};

// Computed outside this code base: `sha256sum` of the body and
// `openssl dgst -sha256 -hmac <secret> -binary | base64` of the canonical string below.
const BODY_SHA256 = 'f2055e6e4916b68ba64e27bf9641081f2eee382d8689b71c2d6ebe6de89cebb4';
const EXPECTED_SIGNATURE = 'pZMV2/mkuY4wgcTo37vF7BvfnWu146b5Yo3P7z7ovsk=';
const HAND_BUILT_CANONICAL = `POST\n/v1/cases:batch\na=1&a=3&b=x%20y\n1763700000\nn0nce-0123456789AB\n${BODY_SHA256}`;

const headersOf = (signed: Record<string, string>) =>
  Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toLowerCase(), v]));

describe('canonicalRequest', () => {
  it('matches the canonical string built by hand from DESIGN.md §3', () => {
    expect(canonicalRequest(fixed)).toBe(HAND_BUILT_CANONICAL);
  });

  it('uses the SHA-256 of the empty string and an empty query line when there is neither', () => {
    const canonical = canonicalRequest({
      method: 'GET',
      path: '/v1/cases/330000%3A1',
      timestamp: '1',
      nonce: 'n',
    });
    expect(canonical.split('\n')).toEqual([
      'GET',
      '/v1/cases/330000%3A1',
      '',
      '1',
      'n',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    ]);
  });
});

describe('signRequest', () => {
  it('produces the externally computed signature for the fixed example', () => {
    const headers = signRequest({
      method: 'POST',
      path: fixed.path,
      query: fixed.query,
      body,
      accessKeyId: 'AKDEVREGION330000',
      secret,
      now: new Date(1763700000 * 1000 + 999),
      nonce: fixed.nonce,
    });
    expect(headers).toEqual({
      'X-Hub-Key': 'AKDEVREGION330000',
      'X-Hub-Timestamp': '1763700000',
      'X-Hub-Nonce': fixed.nonce,
      'X-Hub-Signature': EXPECTED_SIGNATURE,
    });
    expect(createHmac('sha256', secret).update(HAND_BUILT_CANONICAL).digest('base64')).toBe(
      EXPECTED_SIGNATURE,
    );
  });

  it('signs a query given as parameters the same as the encoded string a client sends', () => {
    const params = { b: 'x y', a: ['3', '1'] };
    expect(encodeQuery(params)).toBe('b=x%20y&a=3&a=1');
    expect(canonicalQuery(params)).toBe(canonicalQuery(encodeQuery(params)));
  });

  it('generates nonces in the documented alphabet and length', () => {
    const nonce = signRequest({ method: 'GET', path: '/', accessKeyId: 'k', secret })['X-Hub-Nonce'];
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
  });
});

describe('canonicalQuery', () => {
  it('sorts by name then value and keeps percent-encoding as sent', () => {
    expect(canonicalQuery('z=1&a=%2F&a=%2A&m')).toBe('a=%2A&a=%2F&m=&z=1');
  });

  it('encodes decoded parameters with RFC 3986 rules', () => {
    expect(encodeRfc3986("a b!'()*/:~")).toBe('a%20b%21%27%28%29%2A%2F%3A~');
    expect(canonicalQuery({ holder: '110101********1234', type: undefined })).toBe(
      'holder=110101%2A%2A%2A%2A%2A%2A%2A%2A1234',
    );
  });

  it('does not depend on parameter order (property)', () => {
    const pair = fc.tuple(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }));
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 8 }), (pairs) => {
        const encoded = pairs.map(([n, v]) => `${encodeRfc3986(n)}=${encodeRfc3986(v)}`);
        expect(canonicalQuery(encoded.join('&'))).toBe(canonicalQuery([...encoded].reverse().join('&')));
      }),
    );
  });
});

describe('verifySignature', () => {
  const now = new Date(1763700000 * 1000);
  const registry: Record<string, string> = { AKDEVREGION330000: secret };
  const signed = (overrides: Partial<Parameters<typeof signRequest>[0]> = {}) =>
    headersOf(
      signRequest({
        method: 'POST',
        path: '/v1/cases:batch',
        body,
        accessKeyId: 'AKDEVREGION330000',
        secret,
        now,
        ...overrides,
      }),
    );
  const verify = (
    headers: Record<string, string | undefined>,
    extra: Partial<Parameters<typeof verifySignature>[0]> = {},
  ) =>
    verifySignature({
      headers,
      method: 'POST',
      paths: ['/v1/cases:batch'],
      body,
      now,
      secretFor: (key) => registry[key],
      ...extra,
    });
  const slugOf = (run: () => unknown): string => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(Problem);
      expect((error as Problem).status).toBe(401);
      return (error as Problem).slug;
    }
    throw new Error('expected a 401 problem');
  };

  it('accepts a correctly signed request and returns who signed it', () => {
    const headers = signed();
    expect(verify(headers)).toEqual({
      accessKeyId: 'AKDEVREGION330000',
      nonce: headers['x-hub-nonce'],
      timestamp: 1763700000,
    });
  });

  it('accepts a request signed over any of the candidate paths (with or without the stage)', () => {
    const headers = signed({ path: '/dev/v1/cases:batch' });
    expect(verify(headers, { paths: ['/dev/v1/cases:batch', '/v1/cases:batch'] }).accessKeyId).toBe(
      'AKDEVREGION330000',
    );
  });

  it('refuses missing headers', () => {
    const { 'x-hub-nonce': _omitted, ...headers } = signed();
    expect(slugOf(() => verify(headers))).toBe('signature-missing');
  });

  it.each([
    ['x-hub-nonce', 'short'],
    ['x-hub-nonce', 'has spaces in it okay'],
    ['x-hub-timestamp', '17637e5'],
    ['x-hub-signature', 'not-base64'],
    ['x-hub-key', 'bad key'],
  ])('refuses a malformed %s', (header, value) => {
    expect(slugOf(() => verify({ ...signed(), [header]: value }))).toBe('signature-malformed');
  });

  it('refuses a timestamp more than 300 s away, either way, and accepts the boundary', () => {
    const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);
    expect(slugOf(() => verify(signed({ now: at(-MAX_CLOCK_SKEW_SECONDS - 1) })))).toBe('signature-stale');
    expect(slugOf(() => verify(signed({ now: at(MAX_CLOCK_SKEW_SECONDS + 1) })))).toBe('signature-stale');
    expect(verify(signed({ now: at(MAX_CLOCK_SKEW_SECONDS) })).accessKeyId).toBe('AKDEVREGION330000');
  });

  it('refuses an unknown key, a wrong secret, and any change to the signed parts', () => {
    expect(slugOf(() => verify(signed({ accessKeyId: 'AKUNKNOWN' })))).toBe('signature-invalid');
    expect(slugOf(() => verify(signed({ secret: `${secret}x` })))).toBe('signature-invalid');
    expect(slugOf(() => verify(signed(), { body: `${body} ` }))).toBe('signature-invalid');
    expect(slugOf(() => verify(signed(), { method: 'PUT' }))).toBe('signature-invalid');
    expect(slugOf(() => verify(signed(), { paths: ['/v1/cases'] }))).toBe('signature-invalid');
    expect(slugOf(() => verify(signed(), { query: { a: '1' } }))).toBe('signature-invalid');
    expect(slugOf(() => verify({ ...signed(), 'x-hub-nonce': 'another-nonce-0123456' }))).toBe(
      'signature-invalid',
    );
  });

  it('never puts the secret or the body in its problem', () => {
    const problem = (() => {
      try {
        verify(signed({ secret: `${secret}x` }));
      } catch (error) {
        return error as Problem;
      }
      throw new Error('expected a 401 problem');
    })();
    const text = JSON.stringify(problem.toJSON());
    expect(text).not.toContain(secret);
    expect(text).not.toContain('330000');
  });
});
