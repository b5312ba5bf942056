import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PERSONS } from '../../functions/auth-verify/registry-seed';
import {
  generateCreditCode,
  generateImplementationCode,
  seededRandom,
} from '../../shared/identifiers/generate';
import { encodeQuery } from '../../shared/signing';
import { type DevClient, devClient } from './support/dev-clients';
import { signInThroughHub } from './support/sign-in';
import { postJson, sendSigned } from './support/signed-fetch';
import { startTestHub, type TestHub } from './support/test-hub';

/**
 * The user space's `GET /v1/me/cases` through the local hub: a registered person signs in through the citizen app,
 * a provincial platform pushes cases for them and for someone else, and the app — signing as itself and carrying
 * the person's token — lists only that person's cases, newest first, page by page.
 */

const [SOMEONE, PERSON] = DEMO_PERSONS as [
  { idNumber: string; name: string },
  { idNumber: string; name: string },
];
const PERSON_CASES = 5;
let testHub: TestHub;
let port: number;
let token: string;

const app = () => devClient('app-citizen');
const platform = () => devClient('region-330000');

const random = seededRandom(4_2026);
const DEPARTMENT = generateCreditCode(random, { divisionCode: '330106' });
const ITEM = generateImplementationCode(random, DEPARTMENT);

/** A case submitted on 2026-11-0{day} at 09:00 in Shanghai; one status each. */
const caseOf = (caseNumber: string, applicant: { idNumber: string; name: string }, day: number) => ({
  regionCode: '330106',
  caseNumber,
  itemCode: ITEM,
  itemName: '个体工商户登记',
  departmentCode: DEPARTMENT,
  applicant: { type: 'person', idType: 'citizen_id', ...applicant },
  channel: 'online',
  fullyOnline: true,
  promisedDays: 5,
  statutoryDays: 20,
  status: 'submitted',
  statusAt: `2026-11-0${day}T09:00:00+08:00`,
});

function listMine(client: DevClient, bearer: string | undefined, query: Record<string, string> = {}) {
  const encoded = encodeQuery(query);
  return sendSigned(
    port,
    client,
    { method: 'GET', path: '/v1/me/cases', ...(encoded ? { query: encoded } : {}) },
    { headers: bearer === undefined ? {} : { Authorization: `Bearer ${bearer}` } },
  );
}

interface MyCasesPage {
  items: { caseId: string; status: string; submittedAt: string; applicant: Record<string, unknown> }[];
  cursor?: string;
}

beforeAll(async () => {
  testHub = await startTestHub('me-cases', { maxVisibilityTimeoutSeconds: 2 });
  port = testHub.hub.port;
  ({ accessToken: token } = await signInThroughHub(port, app(), PERSON));
  const records = [
    ...Array.from({ length: PERSON_CASES }, (_, i) => caseOf(`ME-${i}`, PERSON, i + 1)),
    // The same person as applicant at a second status: still one case.
    { ...caseOf('ME-4', PERSON, 5), status: 'accepted', statusAt: '2026-11-05T10:00:00+08:00' },
    caseOf('OTHER-1', SOMEONE, 6),
    caseOf('OTHER-2', SOMEONE, 7),
  ];
  const response = await postJson(port, platform(), '/v1/cases:batch', { records });
  expect(response.status).toBe(202);
  expect(await response.json()).toMatchObject({ accepted: records.length, rejected: [] });
  await testHub.hub.drained();
}, 240_000);

afterAll(async () => {
  await testHub?.stop();
});

describe('GET /v1/me/cases through the local hub', () => {
  it('lists only the signed-in person’s cases, newest first, in pages of the asked size', async () => {
    const seen: MyCasesPage['items'] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const response = await listMine(app(), token, { limit: '2', ...(cursor ? { cursor } : {}) });
      expect(response.status).toBe(200);
      const page = (await response.json()) as MyCasesPage;
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items);
      cursor = page.cursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(seen.map((c) => c.caseId)).toEqual([4, 3, 2, 1, 0].map((i) => `330106:ME-${i}`));
    expect(pages).toBe(3);
    expect(seen[0]).toMatchObject({
      status: 'accepted',
      submittedAt: '2026-11-05T01:00:00.000Z',
      applicant: { maskedId: `${PERSON.idNumber.slice(0, 6)}********${PERSON.idNumber.slice(-4)}` },
    });
    const text = JSON.stringify(seen);
    expect(text).not.toContain(PERSON.idNumber);
    expect(text).not.toContain(PERSON.name);
  });

  it('gives the other applicant, signed in, their own two cases', async () => {
    const { accessToken } = await signInThroughHub(port, app(), SOMEONE);
    const page = (await (await listMine(app(), accessToken)).json()) as MyCasesPage;
    expect(page.items.map((c) => c.caseId)).toEqual(['330106:OTHER-2', '330106:OTHER-1']);
    expect(page.cursor).toBeUndefined();
  });

  it('refuses a missing token, a token issued to another platform, and a platform without me:read', async () => {
    const missing = await listMine(app(), undefined);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { type: string }).type).toBe(
      'urn:zwfw-hub:problem:bearer-token-missing',
    );

    // The same person signed in at the provincial platform: that token is the platform's, not the app's.
    const atPlatform = await signInAt(platform(), PERSON);
    const foreign = await listMine(app(), atPlatform);
    expect(foreign.status).toBe(401);
    expect(((await foreign.json()) as { type: string }).type).toBe(
      'urn:zwfw-hub:problem:bearer-token-invalid',
    );

    const noScope = await listMine(platform(), atPlatform);
    expect(noScope.status).toBe(403);
    expect(((await noScope.json()) as { type: string }).type).toBe('urn:zwfw-hub:problem:scope-missing');
  });

  it('answers 422 for a limit over 100 and for a cursor it did not hand out', async () => {
    const queries: Record<string, string>[] = [{ limit: '101' }, { cursor: 'definitely-not-a-cursor' }];
    for (const query of queries) {
      const response = await listMine(app(), token, query);
      expect(response.status).toBe(422);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    }
  });

  it('logged no ID number or name of either person', () => {
    const text = testHub.logs.join('\n');
    for (const person of [PERSON, SOMEONE]) {
      expect(text).not.toContain(person.idNumber);
      expect(text).not.toContain(person.name);
    }
  });
});

/**
 * A ticket for the platform issued through the dev sign-in (which only the citizen app may call), redeemed by the
 * platform itself: an access token whose audience is that platform.
 */
async function signInAt(target: DevClient, person: { idNumber: string; name: string }): Promise<string> {
  const redirectUri = target.redirectUris?.[0] as string;
  const signIn = await postJson(port, app(), '/v1/dev/sign-in', {
    clientId: target.clientId,
    redirectUri,
    ...person,
  });
  expect(signIn.status).toBe(200);
  const { ticket } = (await signIn.json()) as { ticket: string };
  const validated = await postJson(port, target, '/v1/tickets/validate', { ticket, redirectUri });
  expect(validated.status).toBe(200);
  return ((await validated.json()) as { accessToken: string }).accessToken;
}
