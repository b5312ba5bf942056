import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteModel } from '../../infra/local/model';
import { seededRandom } from '../../shared/identifiers/generate';
import { canonicalQuery, canonicalRequest, MAX_CLOCK_SKEW_SECONDS } from '../../shared/signing';
import { buildCases, type CaseRecord, recordsOf, type ScenarioCase } from './case-scenario';
import { clientsWithoutScope, clientsWithScope, type DevClient, devClient } from './support/dev-clients';
import { expectJson, expectProblem } from './support/problems';
import { type RequestParts, sendParts, sendSigned, signParts } from './support/signed-fetch';
import { concretePath, startTestHub, type TestHub } from './support/test-hub';

/**
 * Attacks on request signatures and scopes through the whole local hub: every forged, altered, stale,
 * replayed or out-of-scope request must be refused with the documented problem — never served, never a
 * 5xx — and no answer may repeat the personal data the request carried.
 */

const ZHEJIANG = devClient('region-330000');
const GUANGDONG = devClient('region-440000');
const ISSUER = devClient('issuer-330000-amr');

/** The scope each signed route needs (contracts of issues 2 and 3); routes not listed are signature-checked only. */
const ROUTE_SCOPES: Record<string, string> = {
  'POST /v1/cases:batch': 'cases:write',
  'GET /v1/cases/{caseId}': 'cases:read',
  'POST /v1/tickets/validate': 'sso:validate',
  'POST /v1/tokens/introspect': 'tokens:introspect',
  'POST /v1/tokens/revoke': 'tokens:revoke',
  'POST /v1/dev/sign-in': 'sso:dev-sign-in',
  'POST /v1/identity/verifications': 'identity:verify',
};
/** Routes anyone may call unsigned. */
// Unsigned by design: the JWKS and the public cloud's published (non-personal) assessments.
const PUBLIC_ROUTES = new Set([
  'GET /.well-known/jwks.json',
  'GET /v1/public/assessments',
  'GET /v1/public/assessments/{period}',
]);

let testHub: TestHub;
let port: number;
let zhejiangCases: ScenarioCase[];
let guangdongCases: ScenarioCase[];
/** Every ID number and name the fixtures hold: no answer and no log line may contain one. */
let personalValues: string[];

const routeName = (route: RouteModel) => `${route.method.toUpperCase()} ${route.resourcePath}`;
const signedRoutes = () =>
  testHub.hub.model.routes.filter(
    (route) => !PUBLIC_ROUTES.has(routeName(route)) && route.method !== 'OPTIONS',
  );
const casePath = (c: ScenarioCase) => `/v1/cases/${encodeURIComponent(c.caseId)}`;
const first = <T>(items: readonly T[]): T => {
  const item = items[0];
  if (item === undefined) throw new Error('empty fixture');
  return item;
};
const batchOf = (records: CaseRecord[]): RequestParts => ({
  method: 'POST',
  path: '/v1/cases:batch',
  body: JSON.stringify({ records }),
});
const readCase = (client: DevClient, c: ScenarioCase, query?: string) =>
  sendSigned(port, client, { method: 'GET', path: casePath(c), ...(query ? { query } : {}) });

beforeAll(async () => {
  testHub = await startTestHub('attacks');
  port = testHub.hub.port;
  const random = seededRandom(20261122);
  zhejiangCases = buildCases(random, ['330000'], 3);
  guangdongCases = buildCases(random, ['440000'], 2);
  personalValues = [...zhejiangCases, ...guangdongCases].flatMap((c) => [
    c.base.applicant.idNumber,
    c.base.applicant.name,
  ]);
  for (const [client, cases] of [
    [ZHEJIANG, zhejiangCases],
    [GUANGDONG, guangdongCases],
  ] as const) {
    const response = await sendSigned(port, client, batchOf(cases.flatMap(recordsOf)));
    const reply = await expectJson<{ accepted: number }>(response, 202, personalValues);
    expect(reply.accepted).toBe(cases.flatMap(recordsOf).length);
  }
  await testHub.hub.drained({ timeoutMs: 60_000 });
}, 180_000);

afterAll(async () => {
  await testHub?.stop();
});

describe('the honest baseline', () => {
  it('serves a correctly signed read and write, so every refusal below is the attack’s doing', async () => {
    await expectJson(await readCase(ZHEJIANG, first(zhejiangCases)), 200, personalValues);
    const records = recordsOf(first(zhejiangCases));
    const reply = await expectJson<{ accepted: number }>(
      await sendSigned(port, ZHEJIANG, batchOf(records)),
      202,
      personalValues,
    );
    expect(reply.accepted).toBe(records.length);
  });
});

describe('tampering after signing', () => {
  it('refuses a body other than the one signed, without echoing the personal data it carried', async () => {
    const signed = batchOf(recordsOf(first(zhejiangCases)));
    const headers = signParts(ZHEJIANG, signed);
    const other = first(recordsOf(zhejiangCases[1] as ScenarioCase));
    const tamperedBodies = [
      // Another applicant slipped in under the signature.
      batchOf([{ ...first(recordsOf(first(zhejiangCases))), applicant: other.applicant }]),
      // One more record appended.
      batchOf([...recordsOf(first(zhejiangCases)), other]),
      // Byte-level: trailing whitespace changes the digest though not the JSON.
      { ...signed, body: `${signed.body} ` },
    ];
    // The same headers every time: a refused signature does not use up its nonce.
    for (const tampered of tamperedBodies) {
      await expectProblem(await sendParts(port, tampered, headers), 401, 'signature-invalid', personalValues);
    }
    // Control: those very headers are valid for the body they signed.
    await expectJson(await sendParts(port, signed, headers), 202, personalValues);
  });

  it('refuses a real-name verification whose person was swapped after signing', async () => {
    const [asked, swapped] = zhejiangCases.map((c) => c.base.applicant) as [
      ScenarioCase['base']['applicant'],
      ScenarioCase['base']['applicant'],
    ];
    const body = (person: typeof asked) =>
      JSON.stringify({ subject: 'person', name: person.name, idNumber: person.idNumber });
    const signed: RequestParts = { method: 'POST', path: '/v1/identity/verifications', body: body(asked) };
    const headers = signParts(ZHEJIANG, signed);
    await expectProblem(
      await sendParts(port, { ...signed, body: body(swapped) }, headers),
      401,
      'signature-invalid',
      personalValues,
    );
    // Control: the signed question itself is answered (nobody is registered here: not_found, never an echo).
    await expectJson(await sendParts(port, signed, headers), 200, personalValues);
  });

  it('refuses a query value changed, added or removed after signing', async () => {
    const path = casePath(first(zhejiangCases));
    const idNumber = first(zhejiangCases).base.applicant.idNumber;
    const signed: RequestParts = { method: 'GET', path, query: `lang=en&view=full&q=${idNumber}` };
    const headers = signParts(ZHEJIANG, signed);
    for (const query of [
      `lang=en&view=summary&q=${idNumber}`,
      `lang=en&view=full&q=${idNumber}&admin=true`,
      `lang=en&q=${idNumber}`,
      `lang=en&view=full&view=summary&q=${idNumber}`,
    ]) {
      await expectProblem(
        await sendParts(port, { ...signed, query }, headers),
        401,
        'signature-invalid',
        personalValues,
      );
    }
    await expectJson(await sendParts(port, signed, headers), 200, personalValues);
  });

  it('refuses a path other than the one signed (another case of the same province)', async () => {
    const signed: RequestParts = { method: 'GET', path: casePath(first(zhejiangCases)) };
    const headers = signParts(ZHEJIANG, signed);
    await expectProblem(
      await sendParts(port, { ...signed, path: casePath(zhejiangCases[1] as ScenarioCase) }, headers),
      401,
      'signature-invalid',
      personalValues,
    );
  });
});

describe('query parameter order', () => {
  const inOrder = 'lang=en&tag=a&tag=b&view=full';
  const shuffled = 'view=full&tag=b&lang=en&tag=a';

  it('is irrelevant to the canonical form, which sorts by name then value', () => {
    expect(canonicalQuery(shuffled)).toBe(inOrder);
    const parts = { method: 'GET', path: '/v1/cases/330000%3AX', timestamp: '1', nonce: 'n'.repeat(16) };
    expect(canonicalRequest({ ...parts, query: shuffled })).toBe(
      canonicalRequest({ ...parts, query: inOrder }),
    );
    // The values still count: swapping a value between names is another request.
    expect(canonicalRequest({ ...parts, query: 'lang=full&tag=a&tag=b&view=en' })).not.toBe(
      canonicalRequest({ ...parts, query: inOrder }),
    );
  });

  it('still verifies through the hub when the parameters arrive in another order than signed, both ways', async () => {
    const path = casePath(first(zhejiangCases));
    for (const [signedQuery, sentQuery] of [
      [inOrder, shuffled],
      [shuffled, inOrder],
    ] as const) {
      const headers = signParts(ZHEJIANG, { method: 'GET', path, query: signedQuery });
      await expectJson(
        await sendParts(port, { method: 'GET', path, query: sentQuery }, headers),
        200,
        personalValues,
      );
    }
  });
});

describe('time and nonces', () => {
  const path = () => casePath(first(zhejiangCases));
  const secondsFromNow = (seconds: number) => new Date(Date.now() + seconds * 1000);
  // Well clear of the boundary on either side, so the outcome does not depend on when the second ticks.
  const outside = MAX_CLOCK_SKEW_SECONDS + 30;
  const inside = MAX_CLOCK_SKEW_SECONDS - 60;

  it(`refuses a timestamp more than ${MAX_CLOCK_SKEW_SECONDS} s in the past or the future`, async () => {
    for (const seconds of [-outside, outside, -86_400, 0 - Math.floor(Date.now() / 1000)]) {
      const response = await sendSigned(
        port,
        ZHEJIANG,
        { method: 'GET', path: path() },
        { now: secondsFromNow(seconds) },
      );
      await expectProblem(response, 401, 'signature-stale', personalValues);
    }
  });

  it('accepts a timestamp within the allowed skew on either side', async () => {
    for (const seconds of [-inside, inside]) {
      const response = await sendSigned(
        port,
        ZHEJIANG,
        { method: 'GET', path: path() },
        { now: secondsFromNow(seconds) },
      );
      await expectJson(response, 200, personalValues);
    }
  });

  it('refuses the second delivery of the same signed request', async () => {
    const parts: RequestParts = { method: 'GET', path: path() };
    const headers = signParts(ZHEJIANG, parts);
    await expectJson(await sendParts(port, parts, headers), 200, personalValues);
    await expectProblem(await sendParts(port, parts, headers), 401, 'signature-replayed', personalValues);
  });

  it('refuses a replayed POST even with its Idempotency-Key, rather than serving the stored answer', async () => {
    const parts = batchOf(recordsOf(first(guangdongCases)));
    const headers = { ...signParts(GUANGDONG, parts), 'Idempotency-Key': `attack-${Date.now()}` };
    await expectJson(await sendParts(port, parts, headers), 202, personalValues);
    await expectProblem(await sendParts(port, parts, headers), 401, 'signature-replayed', personalValues);
  });

  it('refuses a used nonce on a different, correctly signed request', async () => {
    const firstParts: RequestParts = { method: 'GET', path: path() };
    const headers = signParts(ZHEJIANG, firstParts);
    await expectJson(await sendParts(port, firstParts, headers), 200, personalValues);
    const otherParts: RequestParts = { method: 'GET', path: casePath(zhejiangCases[1] as ScenarioCase) };
    const reused = signParts(ZHEJIANG, otherParts, { nonce: headers['X-Hub-Nonce'] });
    await expectProblem(await sendParts(port, otherParts, reused), 401, 'signature-replayed', personalValues);
  });

  it('does not let a forged request burn a nonce that its owner has not used yet', async () => {
    const parts: RequestParts = { method: 'GET', path: path() };
    const honest = signParts(ZHEJIANG, parts);
    const forged = signParts(ZHEJIANG, parts, { nonce: honest['X-Hub-Nonce'], secret: GUANGDONG.secret });
    await expectProblem(await sendParts(port, parts, forged), 401, 'signature-invalid', personalValues);
    await expectJson(await sendParts(port, parts, honest), 200, personalValues);
  });
});

describe('missing and malformed signature headers', () => {
  const parts = (): RequestParts => ({ method: 'GET', path: casePath(first(zhejiangCases)) });
  const HEADER_NAMES = ['X-Hub-Key', 'X-Hub-Timestamp', 'X-Hub-Nonce', 'X-Hub-Signature'] as const;

  it('refuses a request lacking any one of the four headers, or all of them', async () => {
    for (const missing of HEADER_NAMES) {
      const { [missing]: _dropped, ...rest } = signParts(ZHEJIANG, parts());
      // Without X-Hub-Key the gateway refuses before any authorizer runs, in the words of an unknown key
      // (infra/gateway-responses.ts); with it, the function's signature check names what is missing.
      const slug = missing === 'X-Hub-Key' ? 'signature-invalid' : 'signature-missing';
      await expectProblem(await sendParts(port, parts(), rest), 401, slug, personalValues);
    }
    await expectProblem(await sendParts(port, parts(), {}), 401, 'signature-invalid', personalValues);
  });

  it('refuses headers outside their documented formats', async () => {
    const signedWithNonce = (nonce: string) => signParts(ZHEJIANG, parts(), { nonce });
    const valid = () => signParts(ZHEJIANG, parts());
    const malformed: Record<string, string>[] = [
      signedWithNonce('a'.repeat(15)),
      signedWithNonce('a'.repeat(65)),
      signedWithNonce('nonce.with.dots!'),
      signedWithNonce('nonce with spaces'),
      { ...valid(), 'X-Hub-Timestamp': String(Date.now()) }, // milliseconds: 13 digits
      { ...valid(), 'X-Hub-Timestamp': '17e8' },
      { ...valid(), 'X-Hub-Timestamp': '-1' },
      { ...valid(), 'X-Hub-Signature': 'not-base64' },
      { ...valid(), 'X-Hub-Signature': Buffer.alloc(31).toString('base64') }, // a digest too short
      { ...valid(), 'X-Hub-Signature': Buffer.alloc(32).toString('hex') }, // hex, not base64
    ];
    for (const headers of malformed) {
      await expectProblem(
        await sendParts(port, parts(), headers),
        401,
        'signature-malformed',
        personalValues,
      );
    }
  });
});

describe('keys and secrets', () => {
  const parts = (): RequestParts => ({ method: 'GET', path: casePath(first(zhejiangCases)) });

  it('refuses an unknown or malformed access key and a known key signed with another client’s secret alike', async () => {
    const unknown = { accessKeyId: 'AKDEVNOBODY', secret: 'an-invented-secret-of-at-least-32-characters' };
    const unknownKey = await expectProblem(
      await sendParts(port, parts(), signParts(unknown, parts())),
      401,
      'signature-invalid',
      personalValues,
    );
    const borrowedSecret = await expectProblem(
      await sendParts(port, parts(), signParts(ZHEJIANG, parts(), { secret: GUANGDONG.secret })),
      401,
      'signature-invalid',
      personalValues,
    );
    const malformedKey = await expectProblem(
      await sendParts(port, parts(), signParts({ ...unknown, accessKeyId: 'AK DEV WITH SPACES' }, parts())),
      401,
      'signature-invalid',
      personalValues,
    );
    // Identical answers, whichever layer refused: a caller cannot tell which access keys exist.
    const shape = ({ type, title, status, detail }: Record<string, unknown>) => ({
      type,
      title,
      status,
      detail,
    });
    expect(shape(unknownKey)).toEqual(shape(borrowedSecret));
    expect(shape(malformedKey)).toEqual(shape(borrowedSecret));
  });

  it('refuses a forged request right after an honest one with the same key (no cached approval)', async () => {
    await expectJson(await sendSigned(port, ZHEJIANG, parts()), 200, personalValues);
    await expectProblem(
      await sendParts(port, parts(), signParts(ZHEJIANG, parts(), { secret: GUANGDONG.secret })),
      401,
      'signature-invalid',
      personalValues,
    );
  });
});

describe('region scope', () => {
  it('forbids reading another province’s case, whether it exists or not', async () => {
    const existing = first(zhejiangCases);
    const missing = { ...existing, caseId: '330000:NEVER-RECEIVED-1' };
    const answers = [];
    for (const target of [existing, missing]) {
      answers.push(
        await expectProblem(await readCase(GUANGDONG, target), 403, 'case-out-of-scope', personalValues),
      );
    }
    // The refusal does not reveal whether the case exists.
    expect(answers[0]?.detail).toBe(answers[1]?.detail);
  });

  it('rejects each record of another province as out_of_scope and stores none of them', async () => {
    const target = zhejiangCases[2] as ScenarioCase;
    const before = await expectJson<{ status: string; timeline: unknown[] }>(
      await readCase(ZHEJIANG, target),
      200,
      personalValues,
    );
    // Guangdong writes Zhejiang's case, with a later status, alongside one record of its own.
    const foreign: CaseRecord = {
      ...first(recordsOf(target)),
      status: 'terminated',
      statusAt: '2026-10-01T09:00:00+08:00',
    };
    const own = first(recordsOf(guangdongCases[1] as ScenarioCase));
    const reply = await expectJson<{ accepted: number; rejected: { index: number; reason: string }[] }>(
      await sendSigned(port, GUANGDONG, batchOf([foreign, own, foreign])),
      202,
      personalValues,
    );
    expect(reply.accepted).toBe(1);
    expect(reply.rejected).toEqual([
      { index: 0, reason: 'out_of_scope' },
      { index: 2, reason: 'out_of_scope' },
    ]);
    await testHub.hub.drained({ timeoutMs: 60_000 });
    const after = await expectJson(await readCase(ZHEJIANG, target), 200, personalValues);
    expect(after).toEqual(before);
  });
});

describe('every signed route', () => {
  it('lists the case routes at least (the attack surface is read from the synthesised template)', () => {
    const names = signedRoutes().map(routeName);
    expect(names).toEqual(expect.arrayContaining(['POST /v1/cases:batch', 'GET /v1/cases/{caseId}']));
  });

  it('refuses an unsigned, a key-only and a forged call on each route', async () => {
    for (const route of signedRoutes()) {
      const parts: RequestParts = {
        method: route.method.toUpperCase(),
        path: concretePath(route.resourcePath, { caseId: first(zhejiangCases).caseId }),
        ...(route.method.toUpperCase() === 'GET' ? {} : { body: '{}' }),
      };
      const attempts: [string, Record<string, string>, string][] = [
        ['unsigned', {}, 'signature-invalid'],
        // A registered key gets past the gateway's authorizer, which cannot see the body: the function refuses.
        ['key only', { 'X-Hub-Key': ZHEJIANG.accessKeyId }, 'signature-missing'],
        ['forged', signParts(ZHEJIANG, parts, { secret: GUANGDONG.secret }), 'signature-invalid'],
      ];
      for (const [attempt, headers, slug] of attempts) {
        await expectProblem(await sendParts(port, parts, headers), 401, slug).catch((error: Error) => {
          throw new Error(`${routeName(route)} ${attempt}: ${error.message}`);
        });
      }
    }
  });

  it('forbids clients lacking the route’s scope and lets those holding it past the check', async () => {
    const scoped = signedRoutes().filter((route) => ROUTE_SCOPES[routeName(route)] !== undefined);
    expect(scoped.length).toBeGreaterThanOrEqual(2);
    // The issuer holds licences:issue only: it must be refused everywhere here.
    expect(scoped.every((route) => !ISSUER.scopes.includes(ROUTE_SCOPES[routeName(route)] as string))).toBe(
      true,
    );
    for (const route of scoped) {
      const scope = ROUTE_SCOPES[routeName(route)] as string;
      const parts = (): RequestParts => ({
        method: route.method.toUpperCase(),
        path: concretePath(route.resourcePath, { caseId: first(zhejiangCases).caseId }),
        ...(route.method.toUpperCase() === 'GET' ? {} : { body: '{}' }),
      });
      for (const client of clientsWithoutScope(scope)) {
        await expectProblem(await sendSigned(port, client, parts()), 403, 'scope-missing').catch(
          (error: Error) => {
            throw new Error(`${routeName(route)} as ${client.clientId}: ${error.message}`);
          },
        );
      }
      // Past signature and scope, an empty body or someone else's case is the route's own business.
      const holder =
        clientsWithScope(scope).find((c) => c.clientId === ZHEJIANG.clientId) ?? clientsWithScope(scope)[0];
      if (!holder) throw new Error(`no dev client holds ${scope}`);
      const response = await sendSigned(port, holder, parts());
      await response.body?.cancel();
      const refusedOrFailed = response.status === 401 || response.status === 403 || response.status >= 500;
      expect(refusedOrFailed, `${routeName(route)} as ${holder.clientId}: ${response.status}`).toBe(false);
    }
  });
});

describe('the one public route', () => {
  it('serves the JWKS unsigned, with public key members only', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`);
    const jwks = await expectJson<{ keys: Record<string, unknown>[] }>(response, 200);
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', kid: expect.any(String) });
      // `d` is the private scalar: publishing it would let anyone mint tokens.
      expect(key).not.toHaveProperty('d');
    }
  });
});

describe('logs', () => {
  it('never hold an ID number or a name of the requests above in clear', () => {
    const text = testHub.logs.join('\n');
    expect(text.length).toBeGreaterThan(0);
    for (const value of personalValues) expect(text).not.toContain(value.length > 3 ? value : `"${value}"`);
  });
});
