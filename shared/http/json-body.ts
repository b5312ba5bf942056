import { malformedJson, payloadTooLarge, unsupportedMediaType } from '../problem';

/**
 * Turning a raw API Gateway body into JSON, strictly:
 * - the media type must be application/json (or a `+json` type), charset UTF-8 if stated → else 415;
 * - the bytes must be valid UTF-8 (checkable only when API Gateway passes them base64-encoded);
 * - the text must be JSON, nested at most MAX_JSON_DEPTH deep, with no duplicate member names
 *   in an object. JSON.parse keeps the last duplicate silently while other parsers keep the
 *   first, so a duplicate could mean different things to different readers of the same
 *   signed body; we refuse it instead of picking one. → else 400 malformed-json.
 * Error details never quote the body (V8's SyntaxError messages do, so they are not passed on).
 */

export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_JSON_DEPTH = 64;

/** The raw body bytes, refusing anything over `maxBytes` before decoding more than needed. */
export function rawBodyBytes(
  event: { body?: string | null; isBase64Encoded?: boolean },
  maxBytes = MAX_BODY_BYTES,
): Buffer {
  const body = event.body ?? '';
  // Cheap upper bound first: base64 is 4 chars per 3 bytes, UTF-8 at least 1 byte per char.
  const lowerBoundBytes = event.isBase64Encoded ? Math.floor((body.length * 3) / 4) - 2 : body.length;
  if (lowerBoundBytes > maxBytes) throw tooLarge(maxBytes);
  const bytes = event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (bytes.length > maxBytes) throw tooLarge(maxBytes);
  return bytes;
}

const tooLarge = (maxBytes: number) =>
  payloadTooLarge('payload-too-large', `The request body exceeds ${maxBytes} bytes.`);

export function assertJsonContentType(contentType: string | undefined): void {
  const [mediaType = '', ...params] = (contentType ?? '').split(';').map((part) => part.trim().toLowerCase());
  const isJson = mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
  const charset = params
    .find((param) => param.startsWith('charset='))
    ?.slice('charset='.length)
    .replaceAll('"', '');
  if (!isJson || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    throw unsupportedMediaType(
      'unsupported-media-type',
      'The request body must be application/json in UTF-8.',
    );
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function parseJsonBody(bytes: Uint8Array, maxDepth = MAX_JSON_DEPTH): unknown {
  if (bytes.length === 0) throw malformedJson('A JSON body is required.');
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    throw malformedJson('The body is not valid UTF-8.');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformedJson('The body is not valid JSON.');
  }
  const flaw = findStructuralFlaw(text, maxDepth);
  if (flaw === 'too-deep') throw malformedJson(`The body nests deeper than ${maxDepth} levels.`);
  if (flaw === 'duplicate-member') throw malformedJson('An object in the body repeats a member name.');
  return value;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

/**
 * One pass over text already known to be valid JSON. A string is a member name exactly when it
 * follows `{` or a `,` inside an object; names are compared decoded (`"a"` equals `"\u0061"`).
 */
export function findStructuralFlaw(
  text: string,
  maxDepth: number,
): 'too-deep' | 'duplicate-member' | undefined {
  const containers: (Set<string> | null)[] = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = endOfString(text, i);
      if (expectName) {
        const names = containers[containers.length - 1];
        const name = JSON.parse(text.slice(i, end + 1)) as string;
        if (names?.has(name)) return 'duplicate-member';
        names?.add(name);
        expectName = false;
      }
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      containers.push(c === OPEN_OBJECT ? new Set() : null);
      if (containers.length > maxDepth) return 'too-deep';
      expectName = c === OPEN_OBJECT;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      containers.pop();
      expectName = false;
    } else if (c === COMMA) {
      expectName = containers[containers.length - 1] instanceof Set;
    }
  }
  return undefined;
}

function endOfString(text: string, openingQuote: number): number {
  let j = openingQuote + 1;
  while (j < text.length && text.charCodeAt(j) !== QUOTE) j += text.charCodeAt(j) === BACKSLASH ? 2 : 1;
  return j;
}
