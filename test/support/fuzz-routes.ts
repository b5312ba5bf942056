import fc from 'fast-check';
import type { z } from 'zod';
import type { RouteModel } from '../../infra/local/model';
import type { AnyRouteContract } from '../../shared/contract';
import { PROBLEM_TYPE_PREFIX } from '../../shared/problem';
import { encodeQuery, signRequest } from '../../shared/signing';
import { type DevClient, devClients } from '../e2e/support/dev-clients';
import {
  type ExamplePool,
  examplePoolOf,
  jsonSchemaOf,
  type Mutant,
  mutated,
  UNICODE_EDGES,
  validShaped,
} from './fuzz-schema';

/**
 * Bad input at every route that has a contract (issue 9), driven by the route's own zod schemas (fuzz-schema.ts).
 * Each route meets two runs of signed requests, each request reaching the route's own parsing:
 * - explore: valid-shaped path parameters, query strings and bodies, odd media types, idempotency keys, tokens
 *   and callers without the scope — any answer but a 5xx, a problem for every 4xx, and a 2xx whose body matches
 *   the route's declared response schema for that status;
 * - refuse: the same broken in one place so that the route's zod schema refuses it (checked before sending),
 *   raw bytes (invalid UTF-8, deep nesting, duplicate keys, oversized and truncated bodies, wrong media type),
 *   batches whose every record is invalid, and a share that attacks the signature (stale, future, tampered,
 *   wrong key, unsigned, replayed) — every one refused (a batch: 2xx with no record accepted; an attack: 401),
 *   and the tables unchanged: item counts of every table but request bookkeeping, equal before and after.
 */

export type Phase = 'explore' | 'refuse';
type Expectation = 'any' | 'refusal' | 'unauthorized';
type Signing =
  | 'honest'
  | 'stale'
  | 'future'
  | 'tampered-body'
  | 'tampered-query'
  | 'wrong-secret'
  | 'unsigned'
  | 'malformed-nonce'
  | 'replayed';

export interface FuzzRequest {
  kind: string;
  caller: DevClient;
  method: string;
  path: string;
  query: string;
  body?: string | Uint8Array;
  headers: Record<string, string>;
  signing: Signing;
  expect: Expectation;
}

/** A person's access token, issued to the app that must present it (`signature+bearer` routes). */
export interface Bearer {
  token: string;
  client: DevClient;
}

export interface FuzzTarget {
  contract: AnyRouteContract;
  route: RouteModel;
}

export interface FuzzEnvironment {
  port: number;
  bearer: Bearer;
  /** Item count per table (request bookkeeping left out). */
  fingerprint(): Promise<Record<string, number>>;
  /** Resolves once every queue is empty and no invocation runs. */
  drained(): Promise<void>;
}

export interface FuzzSettings {
  /** Requests per route, split evenly between the two runs. */
  runsPerRoute: number;
  /** Requests in flight at once on loopback. */
  concurrency: number;
  seed: number;
  /** A time budget per route (the soak's): each run stops starting requests at half of it. */
  secondsPerRoute?: number;
}

export interface RouteFuzzResult {
  route: string;
  requests: number;
  seconds: number;
  statuses: Record<Phase, Record<string, number>>;
  /** Requests by kind (valid-shaped, body:wrong-type, raw:invalid-utf8, signature:stale, ...). */
  kinds: Record<string, number>;
  /** Tables whose item count changed during the refuse run, with the counts before and after. */
  stateChanges: Record<string, [number, number]>;
  latencyMs: { p50: number; p99: number; max: number };
  /** The first violations, without request bodies (they may hold personal data). */
  violations: string[];
  violationCount: number;
}

const MAX_VIOLATIONS_KEPT = 10;
/** The status recorded when no HTTP answer came back (connection reset, refused, timed out). */
const NETWORK_FAILURE = 599;
const CHUNK = 100;

// ---- What a route is sent ---------------------------------------------------------------------------------------

const hasScope = (scope: string | undefined) => (c: DevClient) =>
  scope === undefined || c.scopes.includes(scope);

function callersOf(contract: AnyRouteContract, bearer: Bearer) {
  if (contract.authentication === 'signature+bearer') {
    return {
      allowed: [bearer.client],
      refused: devClients()
        .filter((c) => c !== bearer.client)
        .slice(0, 3),
    };
  }
  const all = devClients();
  const allowed = all.filter(hasScope(contract.scope));
  // Spread over a few callers: each region client may only write its own region.
  return {
    allowed: allowed.length > 0 ? allowed.slice(0, 6) : all.slice(0, 1),
    refused: all.filter((c) => !hasScope(contract.scope)(c)).slice(0, 3),
  };
}

/**
 * Path parameters and query values as the wire carries them: strings, with lone surrogates replaced (a URL carries
 * UTF-8, in which they have no encoding; invalid UTF-8 in a URL is sent raw instead, see the query oddities).
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const asWireString = (value: unknown): string =>
  (typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value)).replace(
    LONE_SURROGATE,
    '\uFFFD',
  );

function wireRecord(value: unknown): Record<string, string> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asWireString(v)]));
}

function concretePath(route: RouteModel, params: Record<string, string>): string {
  return route.resourcePath.replace(/\{([^}+]+)\+?\}/g, (_, name: string) =>
    encodeURIComponent(params[name] ?? ''),
  );
}

const isBatch = (contract: AnyRouteContract): boolean =>
  contract.documentedBody !== undefined &&
  jsonSchemaOf(contract.documentedBody).properties?.records?.type === 'array';

interface Parts {
  params: fc.Arbitrary<Record<string, string>>;
  query: fc.Arbitrary<Record<string, string>>;
  body: fc.Arbitrary<string | undefined>;
}

function validParts(contract: AnyRouteContract, examples: ExamplePool): Parts {
  const wire = (schema: z.ZodType | undefined) =>
    schema ? validShaped(schema, examples).map((v) => wireRecord(v) ?? {}) : fc.constant({});
  const bodySchema = contract.documentedBody ?? contract.body;
  return {
    params: wire(contract.params),
    query: wire(contract.query),
    body: bodySchema
      ? validShaped(bodySchema, examples).map((v) => JSON.stringify(v))
      : fc.constant(undefined),
  };
}

const MEDIA_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/JSON',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/json; charset=latin1',
  'multipart/form-data; boundary=x',
];

function bearerHeader(contract: AnyRouteContract, bearer: Bearer): fc.Arbitrary<string | undefined> {
  const junk = fc.oneof(
    fc.constantFrom('', 'null', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', `${bearer.token}x`),
    fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
  );
  const valid = fc.constant(bearer.token);
  const none = fc.constant(undefined);
  switch (contract.authentication) {
    case 'signature+bearer':
      return fc.oneof(
        { weight: 8, arbitrary: valid },
        { weight: 1, arbitrary: none },
        { weight: 1, arbitrary: junk },
      );
    case 'signature+optional-bearer':
      return fc.oneof(
        { weight: 4, arbitrary: valid },
        { weight: 4, arbitrary: none },
        { weight: 1, arbitrary: junk },
      );
    default:
      return fc.oneof({ weight: 19, arbitrary: none }, { weight: 1, arbitrary: junk });
  }
}

function headersOf(
  contract: AnyRouteContract,
  bearer: Bearer,
  body: string | Uint8Array | undefined,
  mediaTypes: fc.Arbitrary<string>,
): fc.Arbitrary<Record<string, string>> {
  const idempotencyKey = contract.idempotent
    ? fc.option(fc.oneof(fc.uuid(), fc.constantFrom('', 'x', 'k'.repeat(300), '../../a')), { nil: undefined })
    : fc.constant(undefined);
  return fc
    .record({ auth: bearerHeader(contract, bearer), key: idempotencyKey, media: mediaTypes })
    .map(({ auth, key, media }) => ({
      ...(body === undefined ? {} : { 'content-type': media }),
      ...(auth === undefined ? {} : { authorization: `Bearer ${auth}` }),
      ...(key === undefined ? {} : { 'idempotency-key': key }),
    }));
}

function exploreRequests(
  target: FuzzTarget,
  bearer: Bearer,
  examples: ExamplePool,
): fc.Arbitrary<FuzzRequest> {
  const { contract, route } = target;
  const parts = validParts(contract, examples);
  const callers = callersOf(contract, bearer);
  const caller = fc.oneof(
    { weight: 9, arbitrary: fc.constantFrom(...callers.allowed) },
    ...(callers.refused.length ? [{ weight: 1, arbitrary: fc.constantFrom(...callers.refused) }] : []),
  );
  const media = fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/json') },
    { weight: 2, arbitrary: fc.constantFrom(...MEDIA_TYPES) },
  );
  // A raw query oddity now and then: bad percent-encoding, repeated or unknown parameters.
  const queryOddity = fc.option(
    fc.constantFrom('%ZZ=1', 'cursor=%ED%A0%80', 'a=%C3%28', 'limit=1&limit=2', '=&&=', 'x'.repeat(2000)),
    { freq: 10, nil: undefined },
  );
  return fc
    .record({ params: parts.params, query: parts.query, body: parts.body, caller, queryOddity })
    .chain(({ params, query, body, caller: who, queryOddity: odd }) =>
      headersOf(contract, bearer, body, media).map(
        (headers): FuzzRequest => ({
          kind: 'valid-shaped',
          caller: who,
          method: route.method,
          path: concretePath(route, params),
          query: [encodeQuery(query), odd].filter(Boolean).join('&'),
          ...(body === undefined ? {} : { body }),
          headers,
          signing: 'honest',
          expect: 'any',
        }),
      ),
    );
}

/** A part's mutants that its own zod schema refuses, as wire strings where the part travels as strings. */
function refusedMutants(schema: z.ZodType, examples: ExamplePool, wire: boolean): fc.Arbitrary<Mutant> {
  return mutated(schema, examples, { wire })
    .map((m) => (wire ? { ...m, value: wireRecord(m.value) } : m))
    .filter((m) => m.value !== undefined && !schema.safeParse(m.value).success);
}

function refuseRequests(
  target: FuzzTarget,
  bearer: Bearer,
  examples: ExamplePool,
): fc.Arbitrary<FuzzRequest> | undefined {
  const { contract, route } = target;
  const valid = validParts(contract, examples);
  const callers = callersOf(contract, bearer);
  const caller = fc.constantFrom(...callers.allowed);
  const bodySchema = contract.documentedBody ?? contract.body;
  const brokenParts: fc.Arbitrary<{ kind: string; params?: unknown; query?: unknown; body?: string }>[] = [];
  if (contract.params) {
    brokenParts.push(
      refusedMutants(contract.params, examples, true).map((m) => ({
        kind: `params:${m.kind}`,
        params: m.value,
      })),
    );
  }
  if (contract.query) {
    brokenParts.push(
      refusedMutants(contract.query, examples, true).map((m) => ({
        kind: `query:${m.kind}`,
        query: m.value,
      })),
    );
  }
  if (contract.body && bodySchema) {
    if (isBatch(contract) && contract.documentedBody) {
      brokenParts.push(invalidBatch(contract.documentedBody, examples));
      brokenParts.push(
        refusedMutants(contract.body, examples, false).map((m) => ({
          kind: `envelope:${m.kind}`,
          body: JSON.stringify(m.value),
        })),
      );
    } else {
      brokenParts.push(
        refusedMutants(bodySchema, examples, false).map((m) => ({
          kind: `body:${m.kind}`,
          body: JSON.stringify(m.value),
        })),
      );
    }
  }
  const arms: { weight: number; arbitrary: fc.Arbitrary<FuzzRequest> }[] = [];
  const json = fc.constant('application/json');
  if (brokenParts.length > 0) {
    const schemaBroken = fc
      .record({
        broken: fc.oneof(...brokenParts),
        params: valid.params,
        query: valid.query,
        body: valid.body,
        caller,
      })
      .chain(({ broken, params, query, body, caller: who }) => {
        const sentBody = contract.body ? (broken.body ?? body) : undefined;
        return headersOf(contract, bearer, sentBody, json).map(
          (headers): FuzzRequest => ({
            kind: broken.kind,
            caller: who,
            method: route.method,
            path: concretePath(route, (broken.params as Record<string, string>) ?? params),
            query: encodeQuery((broken.query as Record<string, string>) ?? query),
            ...(sentBody === undefined ? {} : { body: sentBody }),
            headers,
            signing: 'honest',
            expect: 'refusal',
          }),
        );
      });
    arms.push({ weight: 7, arbitrary: schemaBroken });
  }
  if (contract.body) {
    arms.push({ weight: 2, arbitrary: rawBodies(target, bearer, valid, caller) });
  }
  if (contract.authentication !== 'public') {
    arms.push({ weight: 2, arbitrary: signatureAttacks(target, bearer, valid, caller) });
  }
  return arms.length > 0 ? fc.oneof(...arms) : undefined;
}

const HUGE_BATCH_BYTES = 900_000;

/** 1–3 records, each refused by the documented record schema: the batch may answer 2xx, but takes none. */
function invalidBatch(documented: z.ZodType, examples: ExamplePool) {
  return fc
    .array(
      mutated(documented, examples)
        .map((m) => ({ kind: m.kind, record: (m.value as { records?: unknown[] } | null)?.records?.[0] }))
        .filter((m) => m.record !== undefined && !documented.safeParse({ records: [m.record] }).success),
      { minLength: 1, maxLength: 3 },
    )
    .chain((records) =>
      // Now and then a huge batch: the limit's worth of invalid records, as long as it stays under the body limit
      // (a bigger body is refused whole with 413 before any record is looked at; raw:oversized covers that).
      fc.option(fc.constant(500), { freq: 20, nil: undefined }).map((wanted) => {
        const huge =
          wanted &&
          JSON.stringify(records.map((r) => r.record)).length * wanted < HUGE_BATCH_BYTES * records.length
            ? wanted
            : undefined;
        const all = huge
          ? Array.from({ length: huge }, (_, i) => records[i % records.length]?.record)
          : records.map((r) => r.record);
        return {
          kind: huge ? 'records:huge-batch' : `records:${records[0]?.kind ?? 'invalid'}`,
          body: JSON.stringify({ records: all }),
        };
      }),
    );
}

const INVALID_UTF8 = [
  Uint8Array.of(0xc3, 0x28),
  Uint8Array.of(0xff, 0xfe),
  Uint8Array.of(0xed, 0xa0, 0x80),
  Uint8Array.of(0xe2, 0x82),
];

/** Bytes that are not a JSON value the schema takes, whatever the route. */
function rawBodies(
  target: FuzzTarget,
  bearer: Bearer,
  valid: Parts,
  caller: fc.Arbitrary<DevClient>,
): fc.Arbitrary<FuzzRequest> {
  const { contract, route } = target;
  const raw = fc.oneof(
    fc.tuple(valid.body, fc.constantFrom(...INVALID_UTF8)).map(([body, bad]) => ({
      kind: 'raw:invalid-utf8',
      body: spliceBytes(body ?? '{}', bad),
      media: 'application/json',
    })),
    fc.integer({ min: 1_000, max: 100_000 }).map((depth) => ({
      kind: 'raw:deep-nesting',
      body: `${'['.repeat(depth)}${']'.repeat(depth)}`,
      media: 'application/json',
    })),
    fc.integer({ min: 1_000, max: 20_000 }).map((depth) => ({
      kind: 'raw:deep-nesting',
      body: `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
      media: 'application/json',
    })),
    valid.body.map((body) => ({
      // The last of duplicate keys wins (JSON.parse): a valid record followed by a broken copy of its first key.
      kind: 'raw:duplicate-keys',
      body: duplicateFirstKey(body ?? '{}'),
      media: 'application/json',
    })),
    valid.body.map((body) => ({
      kind: 'raw:truncated',
      body: (body ?? '{}').slice(0, -1),
      media: 'application/json',
    })),
    fc.constantFrom('', 'null', '[]', '"x"', '1e999', 'NaN', '{"a":1}{"b":2}', "{'a':1}").map((body) => ({
      kind: 'raw:not-an-object',
      body,
      media: 'application/json',
    })),
    fc.constant({
      kind: 'raw:oversized',
      body: `{"x":"${'a'.repeat(1024 * 1024 + 16)}"}`,
      media: 'application/json',
    }),
    valid.body.map((body) => ({ kind: 'raw:wrong-media-type', body: body ?? '{}', media: 'text/plain' })),
  );
  return fc
    .record({ raw, params: valid.params, query: valid.query, caller })
    .chain(({ raw: r, params, query, caller: who }) =>
      headersOf(contract, bearer, r.body, fc.constant(r.media)).map(
        (headers): FuzzRequest => ({
          kind: r.kind,
          caller: who,
          method: route.method,
          path: concretePath(route, params),
          query: encodeQuery(query),
          body: r.body,
          headers,
          signing: 'honest',
          expect: 'refusal',
        }),
      ),
    );
}

/** The first key of a JSON object given again at the end, with a value of another type. */
function duplicateFirstKey(body: string): string {
  const parsed = JSON.parse(body) as unknown;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return '{"a":1,"a":2}';
  const [first] = Object.keys(parsed);
  if (first === undefined) return '{"a":1,"a":2}';
  const value = (parsed as Record<string, unknown>)[first];
  const other = typeof value === 'string' ? 12 : '12';
  return `${body.slice(0, -1)}${body.length > 2 ? ',' : ''}${JSON.stringify(first)}:${JSON.stringify(other)}}`;
}

/** The body's bytes with invalid UTF-8 put inside its first string (or at its end when it has none). */
function spliceBytes(body: string, bad: Uint8Array): Uint8Array {
  const bytes = Buffer.from(body, 'utf8');
  const quote = bytes.indexOf(0x22);
  const at = quote >= 0 ? quote + 1 : bytes.length;
  return Buffer.concat([bytes.subarray(0, at), bad, bytes.subarray(at)]);
}

function signatureAttacks(
  target: FuzzTarget,
  bearer: Bearer,
  valid: Parts,
  caller: fc.Arbitrary<DevClient>,
): fc.Arbitrary<FuzzRequest> {
  const { contract, route } = target;
  const attacks: Signing[] = ['stale', 'future', 'wrong-secret', 'unsigned', 'malformed-nonce'];
  attacks.push(contract.body ? 'tampered-body' : 'tampered-query');
  // A replay's first sending is honest: made by a caller without the scope, so that it is refused too.
  const { refused } = callersOf(contract, bearer);
  if (refused.length > 0) attacks.push('replayed');
  // An empty, `.` or `..` path parameter names no route (the URL is normalised, 404 before any signature check):
  // attacks aim at a route.
  const routedParams = valid.params.filter((params) =>
    Object.values(params).every((v) => v !== '' && v !== '.' && v !== '..'),
  );
  return fc
    .record({
      attack: fc.constantFrom(...attacks),
      params: routedParams,
      query: valid.query,
      body: valid.body,
      caller,
    })
    .chain(({ attack, params, query, body, caller: allowed }) => {
      const who = attack === 'replayed' ? (refused[0] as DevClient) : allowed;
      return headersOf(contract, bearer, body, fc.constant('application/json')).map(
        (headers): FuzzRequest => ({
          kind: `signature:${attack}`,
          caller: who,
          method: route.method,
          path: concretePath(route, params),
          query: encodeQuery(query),
          ...(contract.body && body !== undefined ? { body } : {}),
          headers,
          signing: attack,
          expect: 'unauthorized',
        }),
      );
    });
}

// ---- Sending and judging ------------------------------------------------------------------------------------------

const SKEW_PAST_ALLOWED_MS = 3_600_000;

function signatureHeaders(request: FuzzRequest): Record<string, string> {
  const parts = { method: request.method, path: request.path, query: request.query };
  const body = request.body ?? '';
  const sign = (overrides: {
    body?: string | Uint8Array;
    query?: string;
    now?: Date;
    secret?: string;
    nonce?: string;
  }) =>
    signRequest({
      ...parts,
      body,
      accessKeyId: request.caller.accessKeyId,
      secret: request.caller.secret,
      ...overrides,
    }) as unknown as Record<string, string>;
  switch (request.signing) {
    case 'honest':
    case 'replayed':
      return sign({});
    case 'stale':
      return sign({ now: new Date(Date.now() - SKEW_PAST_ALLOWED_MS) });
    case 'future':
      return sign({ now: new Date(Date.now() + SKEW_PAST_ALLOWED_MS) });
    case 'wrong-secret':
      return sign({ secret: `${request.caller.secret}x` });
    case 'unsigned':
      return {};
    case 'malformed-nonce':
      return sign({ nonce: 'short' });
    case 'tampered-body':
      return sign({ body: `${typeof body === 'string' ? body : ''} ` });
    case 'tampered-query':
      return sign({ query: request.query ? `${request.query}0` : 'limit=1' });
  }
}

async function send(port: number, request: FuzzRequest, headers: Record<string, string>): Promise<Response> {
  const url = `http://127.0.0.1:${port}${request.path}${request.query ? `?${request.query}` : ''}`;
  return fetch(url, {
    method: request.method,
    headers: { ...request.headers, ...headers },
    ...(request.body === undefined ? {} : { body: request.body }),
  });
}

export interface Answer {
  status: number;
  contentType: string;
  text: string;
}

async function exchange(port: number, request: FuzzRequest): Promise<Answer> {
  const headers = signatureHeaders(request);
  if (request.signing === 'replayed') {
    // The same signed request twice: the first is honest (and refused, it is broken), the second a replay.
    await (await send(port, request, headers)).arrayBuffer();
  }
  const response = await send(port, request, headers);
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    text: await response.text(),
  };
}

/** What is wrong with an answer, or nothing. */
export function judge(contract: AnyRouteContract, request: FuzzRequest, answer: Answer): string | undefined {
  const where = `${contract.method} ${contract.path} [${request.kind}]`;
  if (answer.status >= 500) {
    const cause = answer.status === NETWORK_FAILURE ? answer.text.slice(0, 200) : problemTypeOf(answer.text);
    return `${where}: ${answer.status} ${cause}`;
  }
  if (answer.status >= 400) {
    const problem = problemOf(answer);
    if (typeof problem === 'string') return `${where}: ${answer.status} ${problem}`;
    // A 429 is also a refusal: as in API Gateway, the usage plan throttles after the authorizer, which cannot see
    // the body, so a forged body from an exhausted client is throttled before its function can say 401.
    if (request.expect === 'unauthorized' && answer.status !== 401 && answer.status !== 429) {
      return `${where}: signature attack answered ${answer.status} ${problem.type}, not 401`;
    }
    return undefined;
  }
  if (request.expect === 'unauthorized') return `${where}: signature attack answered ${answer.status}`;
  const declared = contract.responses[answer.status];
  if (!declared) return `${where}: ${answer.status} is not a status the contract declares`;
  let body: unknown;
  if (declared.schema) {
    try {
      body = JSON.parse(answer.text);
    } catch {
      return `${where}: ${answer.status} body is not JSON`;
    }
    const parsed = declared.schema.safeParse(body);
    if (!parsed.success) {
      return `${where}: ${answer.status} body does not match its schema at ${parsed.error.issues.map((i) => i.path.join('/')).join(', ')}`;
    }
  }
  if (request.expect === 'refusal' && !acceptsNothing(body)) {
    return `${where}: refused input answered ${answer.status} and was taken`;
  }
  return undefined;
}

/** A batch reply that accepted no record (every record refused on its own). */
const acceptsNothing = (body: unknown): boolean =>
  typeof (body as { accepted?: unknown } | undefined)?.accepted === 'number' &&
  (body as { accepted: number }).accepted === 0;

function problemOf(answer: Answer): { type: string } | string {
  if (!/^application\/problem\+json/.test(answer.contentType))
    return `content type ${answer.contentType || 'none'}`;
  let problem: { type?: unknown; title?: unknown; status?: unknown };
  try {
    problem = JSON.parse(answer.text) as typeof problem;
  } catch {
    return 'problem body is not JSON';
  }
  if (typeof problem.type !== 'string' || !problem.type.startsWith(PROBLEM_TYPE_PREFIX))
    return `problem type ${String(problem.type)}`;
  if (problem.status !== answer.status) return `problem status ${String(problem.status)}`;
  if (typeof problem.title !== 'string') return 'problem without a title';
  return { type: problem.type };
}

const problemTypeOf = (text: string): string => {
  try {
    return String((JSON.parse(text) as { type?: unknown }).type);
  } catch {
    return 'no problem body';
  }
};

// ---- Running ------------------------------------------------------------------------------------------------------

/** Sends every request with at most `concurrency` in flight. */
async function pool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);

export async function fuzzRoute(
  target: FuzzTarget,
  env: FuzzEnvironment,
  settings: FuzzSettings,
): Promise<RouteFuzzResult> {
  const began = performance.now();
  const { contract } = target;
  const examples = examplePoolOf(contract.requestExample);
  const result: RouteFuzzResult = {
    route: `${contract.method} ${contract.path}`,
    requests: 0,
    seconds: 0,
    statuses: { explore: {}, refuse: {} },
    kinds: {},
    stateChanges: {},
    latencyMs: { p50: 0, p99: 0, max: 0 },
    violations: [],
    violationCount: 0,
  };
  const latencies: number[] = [];
  const runPhase = async (phase: Phase, arbitrary: fc.Arbitrary<FuzzRequest>, runs: number, seed: number) => {
    const deadline =
      settings.secondsPerRoute === undefined
        ? Number.POSITIVE_INFINITY
        : performance.now() + (settings.secondsPerRoute * 1000) / 2;
    for (let done = 0, chunk = 0; done < runs && performance.now() < deadline; done += CHUNK, chunk++) {
      const requests = fc.sample(arbitrary, { numRuns: Math.min(CHUNK, runs - done), seed: seed + chunk });
      await pool(requests, settings.concurrency, async (request) => {
        const sent = performance.now();
        let answer: Answer;
        try {
          answer = await exchange(env.port, request);
        } catch (error) {
          const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
          answer = {
            status: NETWORK_FAILURE,
            contentType: '',
            text: `network: ${(error as Error).message} ${cause?.code ?? ''} ${cause?.message ?? ''}`,
          };
        }
        latencies.push(performance.now() - sent);
        result.requests++;
        result.kinds[request.kind] = (result.kinds[request.kind] ?? 0) + 1;
        const statuses = result.statuses[phase];
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        const violation = judge(contract, request, answer);
        if (violation) {
          result.violationCount++;
          if (result.violations.length < MAX_VIOLATIONS_KEPT) result.violations.push(violation);
        }
      });
    }
  };

  const half = Math.max(1, Math.floor(settings.runsPerRoute / 2));
  await runPhase('explore', exploreRequests(target, env.bearer, examples), half, settings.seed);
  const refusals = refuseRequests(target, env.bearer, examples);
  if (refusals) {
    const settled = async () => {
      try {
        await env.drained();
        return await env.fingerprint();
      } catch (error) {
        // Without a settled hub the tables cannot be compared: that is a finding of its own, not a crash.
        result.violationCount++;
        result.violations.push(`${result.route}: hub did not settle: ${(error as Error).message}`);
        return undefined;
      }
    };
    const before = await settled();
    await runPhase('refuse', refusals, settings.runsPerRoute - half, settings.seed + 7919);
    const after = before && (await settled());
    for (const [table, count] of Object.entries(after ?? {})) {
      if (before?.[table] !== count) result.stateChanges[table] = [before?.[table] ?? 0, count];
    }
  }
  const sorted = latencies.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  result.latencyMs = {
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? 0),
  };
  result.seconds = round((performance.now() - began) / 1000);
  return result;
}

/** Served routes paired with their contracts; the served routes that have none are listed apart. */
export function fuzzTargets(
  routes: readonly RouteModel[],
  contracts: readonly AnyRouteContract[],
): { targets: FuzzTarget[]; withoutContract: string[] } {
  const byKey = new Map(contracts.map((c) => [`${c.method} ${c.path}`, c]));
  const targets: FuzzTarget[] = [];
  const withoutContract: string[] = [];
  const seen = new Set<string>();
  for (const route of routes) {
    const key = `${route.method} ${route.resourcePath}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const contract = byKey.get(key);
    if (contract) targets.push({ contract, route });
    else withoutContract.push(key);
  }
  return { targets, withoutContract };
}

export { UNICODE_EDGES };
