import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { unauthorized } from './problem';

/**
 * Request signatures, exactly as DESIGN.md §3 specifies, so any client can implement them:
 *
 *   canonical = METHOD \n PATH \n QUERY \n TIMESTAMP \n NONCE \n hex(SHA-256(raw body))
 *   X-Hub-Signature = base64(HMAC-SHA256(secret, canonical))
 *
 * PATH is the path as sent, percent-encoded. QUERY is the query string's `name=value` pairs,
 * percent-encoded, sorted by name then value and joined by `&` (empty line when there is none).
 * API Gateway hands Lambda the query decoded, so the hub re-encodes it with RFC 3986 rules
 * (encodeURIComponent plus `!'()*`): clients must send query parameters encoded that way
 * (`encodeQuery` does it). A parameter without `=` counts as `name=`.
 */

export const SIGNATURE_HEADERS = {
  key: 'x-hub-key',
  timestamp: 'x-hub-timestamp',
  nonce: 'x-hub-nonce',
  signature: 'x-hub-signature',
} as const;

export const MAX_CLOCK_SKEW_SECONDS = 300;
/** A nonce must outlive every timestamp that could still be accepted with it (±skew), plus slack. */
export const NONCE_TTL_SECONDS = 2 * MAX_CLOCK_SKEW_SECONDS + 60;

const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
const ACCESS_KEY_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const TIMESTAMP_PATTERN = /^[0-9]{1,12}$/;
// base64 of a 32-byte HMAC-SHA256 digest: 43 characters and one padding `=`.
const SIGNATURE_PATTERN = /^[A-Za-z0-9+/]{43}=$/;

export type QueryInput =
  | string
  | Record<string, string | readonly string[] | null | undefined>
  | null
  | undefined;
export type BodyInput = string | Uint8Array | null | undefined;

export interface CanonicalRequestInput {
  method: string;
  path: string;
  query?: QueryInput;
  timestamp: string;
  nonce: string;
  body?: BodyInput;
}

/** RFC 3986 percent-encoding of one query name or value. */
export const encodeRfc3986 = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The query string a client sends for these parameters (unsorted order is fine; the signature sorts). */
export function encodeQuery(params: Record<string, string | readonly string[] | null | undefined>): string {
  return queryPairs(params)
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function queryPairs(query: QueryInput): [string, string][] {
  if (!query) return [];
  if (typeof query === 'string') {
    return query
      .replace(/^\?/, '')
      .split('&')
      .filter((part) => part !== '')
      .map((part) => {
        const eq = part.indexOf('=');
        return eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
      });
  }
  return Object.entries(query).flatMap(([name, values]) => {
    if (values === null || values === undefined) return [];
    const list = typeof values === 'string' ? [values] : values;
    return list.map((value): [string, string] => [encodeRfc3986(name), encodeRfc3986(value)]);
  });
}

// Plain code-unit order: the encoded strings are ASCII, so this is byte order in every language.
const compareCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function canonicalQuery(query: QueryInput): string {
  return queryPairs(query)
    .sort(
      ([nameA, valueA], [nameB, valueB]) =>
        compareCodeUnits(nameA, nameB) || compareCodeUnits(valueA, valueB),
    )
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

export const sha256Hex = (body: BodyInput): string =>
  createHash('sha256')
    .update(body ?? '')
    .digest('hex');

export function canonicalRequest(input: CanonicalRequestInput): string {
  return [
    input.method.toUpperCase(),
    input.path,
    canonicalQuery(input.query),
    input.timestamp,
    input.nonce,
    sha256Hex(input.body),
  ].join('\n');
}

const hmac = (secret: string, canonical: string): Buffer =>
  createHmac('sha256', secret).update(canonical, 'utf8').digest();

export const newNonce = (): string => randomBytes(24).toString('base64url');

export interface SignRequestInput {
  method: string;
  path: string;
  query?: QueryInput;
  body?: BodyInput;
  accessKeyId: string;
  secret: string;
  now?: Date;
  nonce?: string;
}

export type SignatureHeaders = {
  'X-Hub-Key': string;
  'X-Hub-Timestamp': string;
  'X-Hub-Nonce': string;
  'X-Hub-Signature': string;
};

/** Headers that sign one request. Used by tests, the CLI and the typed client. */
export function signRequest(input: SignRequestInput): SignatureHeaders {
  const timestamp = String(Math.floor((input.now ?? new Date()).getTime() / 1000));
  const nonce = input.nonce ?? newNonce();
  const canonical = canonicalRequest({ ...input, timestamp, nonce });
  return {
    'X-Hub-Key': input.accessKeyId,
    'X-Hub-Timestamp': timestamp,
    'X-Hub-Nonce': nonce,
    'X-Hub-Signature': hmac(input.secret, canonical).toString('base64'),
  };
}

export interface VerifySignatureInput {
  /** Request headers with lower-case names. */
  headers: Record<string, string | undefined>;
  method: string;
  /**
   * The path as sent. Behind API Gateway the sent path may or may not carry the stage or a base path
   * (`requestContext.path` vs `path`), so every candidate is tried; all name the same resource.
   */
  paths: readonly string[];
  query?: QueryInput;
  body?: BodyInput;
  now?: Date;
  /** The secret of an access key, or undefined when the key is unknown. */
  secretFor: (accessKeyId: string) => string | undefined;
}

export interface VerifiedSignature {
  accessKeyId: string;
  nonce: string;
  timestamp: number;
}

// Used when the key is unknown, so that an unknown key costs the same work as a wrong signature.
const DECOY_SECRET = randomBytes(32).toString('hex');

/**
 * Checks headers, clock skew and the HMAC. Nonce replay is the caller's job (it needs the store):
 * record `nonce` only after this succeeds, or anyone could burn other clients' nonces.
 * Throws a 401 Problem: signature-missing | signature-malformed | signature-stale | signature-invalid.
 */
export function verifySignature(input: VerifySignatureInput): VerifiedSignature {
  const accessKeyId = input.headers[SIGNATURE_HEADERS.key];
  const timestampText = input.headers[SIGNATURE_HEADERS.timestamp];
  const nonce = input.headers[SIGNATURE_HEADERS.nonce];
  const signature = input.headers[SIGNATURE_HEADERS.signature];

  if (!accessKeyId || !timestampText || !nonce || !signature) {
    throw unauthorized(
      'signature-missing',
      'The request must carry X-Hub-Key, X-Hub-Timestamp, X-Hub-Nonce and X-Hub-Signature.',
    );
  }
  if (
    !ACCESS_KEY_PATTERN.test(accessKeyId) ||
    !TIMESTAMP_PATTERN.test(timestampText) ||
    !NONCE_PATTERN.test(nonce) ||
    !SIGNATURE_PATTERN.test(signature)
  ) {
    throw unauthorized(
      'signature-malformed',
      'One of the signature headers is not in its documented format.',
    );
  }

  const timestamp = Number(timestampText);
  const nowSeconds = Math.floor((input.now ?? new Date()).getTime() / 1000);
  if (Math.abs(nowSeconds - timestamp) > MAX_CLOCK_SKEW_SECONDS) {
    throw unauthorized(
      'signature-stale',
      `X-Hub-Timestamp is more than ${MAX_CLOCK_SKEW_SECONDS} s from the hub's clock.`,
    );
  }

  const secret = input.secretFor(accessKeyId);
  const provided = Buffer.from(signature, 'base64');
  let matches = false;
  for (const path of new Set(input.paths)) {
    const expected = hmac(
      secret ?? DECOY_SECRET,
      canonicalRequest({
        method: input.method,
        path,
        query: input.query,
        timestamp: timestampText,
        nonce,
        body: input.body,
      }),
    );
    // Evaluate every candidate: no early exit that would reveal which one matched.
    matches = timingSafeEqual(expected, provided) || matches;
  }
  if (!matches || secret === undefined) {
    throw unauthorized(
      'signature-invalid',
      'The signature does not match the request or the access key is unknown.',
    );
  }
  return { accessKeyId, nonce, timestamp };
}
