import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PERSONS } from '../../functions/auth-verify/registry-seed';
import { formatLicenceId } from '../../shared/identifiers';
import { seededRandom } from '../../shared/identifiers/generate';
import { encodeQuery } from '../../shared/signing';
import { buildCases, recordsOf } from './case-scenario';
import { type DevClient, devClient } from './support/dev-clients';
import { expectJson, expectProblem } from './support/problems';
import { postJson, sendSigned } from './support/signed-fetch';
import { startTestHub, type TestHub } from './support/test-hub';

/**
 * Issue 6's acceptance, end to end through the local hub: an issuer registers a licence and uploads its file with a
 * plain HTTP client through the presigned PUT; S3's "Object Created" reaches the digest recorder through the default
 * bus; a provincial platform retrieves the licence with the holder's token and downloads the same bytes through the
 * presigned GET; verification says authentic, and after revocation revoked, and retrieval says so. Refusals are 403
 * problems (no authorisation, another holder's token, another platform's case, no reason); a malformed identifier is
 * 422 before anything else; every successful retrieval is in the holder's use records; no ID number reaches a log.
 */
const [holder, stranger] = DEMO_PERSONS as unknown as [
  { idNumber: string; name: string },
  { idNumber: string; name: string },
];
const PDF = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n% 营业执照 e2e\n%%EOF\n');
const licenceId = formatLicenceId({
  typeCode: '11100000000013338W032',
  authorityCode: '11330000002593947X',
  serial: 'E2E0001',
  version: '001',
});

let testHub: TestHub;
const port = () => testHub.hub.port;
const issuer = () => devClient('issuer-330000-amr');
const zhejiang = () => devClient('region-330000');
const beijing = () => devClient('region-110000');
const app = () => devClient('app-citizen');

beforeAll(async () => {
  testHub = await startTestHub('licence', { maxVisibilityTimeoutSeconds: 2 });
}, 240_000);

afterAll(async () => {
  await testHub?.stop();
});

/** The person signs in at the hub for `platform` (the dev sign-in is the app's), and the platform redeems the ticket. */
async function tokenFor(person: { idNumber: string; name: string }, platform: DevClient): Promise<string> {
  const redirectUri = platform.redirectUris?.[0];
  const signIn = await postJson(port(), app(), '/v1/dev/sign-in', {
    clientId: platform.clientId,
    redirectUri,
    ...person,
  });
  const { ticket } = await expectJson<{ ticket: string }>(signIn, 200, [person.idNumber]);
  const validated = await postJson(port(), platform, '/v1/tickets/validate', { ticket, redirectUri });
  return (await expectJson<{ accessToken: string }>(validated, 200, [person.idNumber])).accessToken;
}

const get = (
  client: DevClient,
  path: string,
  query: Record<string, string>,
  headers: Record<string, string> = {},
) => sendSigned(port(), client, { method: 'GET', path, query: encodeQuery(query) }, { headers });
const licencePath = (id: string) => `/v1/licences/${encodeURIComponent(id)}`;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

interface LicenceView {
  licenceId: string;
  status: string;
  holder: { maskedId: string; maskedName: string };
  surface: Record<string, string>;
  file: { state: string; digests?: { sha256: string } };
  download?: { url: string; expiresAt: string };
}

async function pushCase(platform: DevClient, regionCode: string, seed: number): Promise<string> {
  const [scenario] = buildCases(seededRandom(seed), [regionCode], 1);
  if (!scenario) throw new Error('no case built');
  // Only the first status: an ended case no longer authorises licence use.
  const [first] = recordsOf(scenario);
  const record = { ...first, applicant: { type: 'person', idType: 'citizen_id', ...holder } };
  const response = await postJson(port(), platform, '/v1/cases:batch', { records: [record] });
  const reply = await expectJson<{ accepted: number }>(response, 202, [holder.idNumber]);
  expect(reply.accepted).toBe(1);
  return scenario.caseId;
}

describe('licence retrieval through the local hub', () => {
  let holderToken: string;
  let digest: string;
  let successfulRetrievals = 0;

  it('issue → upload with plain fetch → digest recorded → retrieval with a user token → same bytes → authentic', async () => {
    const issued = await postJson(port(), issuer(), '/v1/licences', {
      licenceId,
      name: '营业执照',
      typeName: '营业执照',
      licenceNumber: '91330106MA2K111119',
      holder: { type: 'person', idType: 'citizen_id', ...holder },
      authorityName: '杭州市市场监督管理局',
      jurisdictionCode: '330106',
      issuedOn: '2026-01-05',
      validFrom: '2026-01-05',
      surface: { 名称: '杭州某某科技有限公司', 法定代表人: holder.name },
      file: { mediaType: 'application/pdf', size: PDF.length },
    });
    const created = await expectJson<{
      upload: { url: string; headers: Record<string, string> };
      qrPayload: string;
    }>(issued, 201, [holder.idNumber]);
    const put = await fetch(created.upload.url, {
      method: 'PUT',
      headers: created.upload.headers,
      body: PDF,
    });
    expect(put.status).toBe(200);
    await testHub.hub.drained();

    holderToken = await tokenFor(holder, zhejiang());
    const response = await get(
      zhejiang(),
      licencePath(licenceId),
      { reason: '办理企业变更登记' },
      bearer(holderToken),
    );
    const view = await expectJson<LicenceView>(response, 200, [holder.idNumber]);
    successfulRetrievals++;
    expect(view).toMatchObject({ licenceId, status: 'valid', holder: { maskedId: '110105********002X' } });
    expect(view.file.state).toBe('recorded');
    expect(view.surface.名称).toBe('杭州某某科技有限公司');
    const download = await fetch(view.download?.url ?? 'missing');
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(PDF);

    digest = view.file.digests?.sha256 ?? '';
    const verdict = await postJson(port(), zhejiang(), `${licencePath(licenceId)}/verification`, {
      digest: { algorithm: 'sha256', value: digest },
    });
    expect(await expectJson(verdict, 200)).toMatchObject({ result: 'authentic' });

    // The QR payload finds the same licence, audited as a fetch.
    const byQr = await get(
      zhejiang(),
      '/v1/licences:by-qr',
      { payload: created.qrPayload, reason: '扫码核验' },
      bearer(holderToken),
    );
    expect((await expectJson<LicenceView>(byQr, 200)).licenceId).toBe(licenceId);
    successfulRetrievals++;
  });

  it('a case of the calling platform with the holder as applicant authorises, for the list and the fetch', async () => {
    const caseId = await pushCase(zhejiang(), '330000', 6001);
    await testHub.hub.drained();
    const list = await get(zhejiang(), '/v1/licences', { holder: holder.idNumber, reason: '审批', caseId });
    const page = await expectJson<{ items: { licenceId: string }[] }>(list, 200, [holder.idNumber]);
    expect(page.items.map((item) => item.licenceId)).toEqual([licenceId]);
    successfulRetrievals++;
    const fetched = await get(zhejiang(), licencePath(licenceId), { reason: '审批', caseId });
    await expectJson(fetched, 200);
    successfulRetrievals++;
  });

  it("403 without an authorisation, with another holder's token, with another platform's case, without a reason", async () => {
    const path = licencePath(licenceId);
    await expectProblem(
      await get(zhejiang(), path, { reason: '审批' }),
      403,
      'licence-authorisation-missing',
    );
    const strangerToken = await tokenFor(stranger, zhejiang());
    await expectProblem(
      await get(zhejiang(), path, { reason: '审批' }, bearer(strangerToken)),
      403,
      'licence-use-refused',
    );
    const beijingCase = await pushCase(beijing(), '110000', 6002);
    await testHub.hub.drained();
    await expectProblem(
      await get(zhejiang(), path, { reason: '审批', caseId: beijingCase }),
      403,
      'licence-use-refused',
    );
    await expectProblem(await get(zhejiang(), path, {}, bearer(holderToken)), 403, 'use-reason-missing');
    await expectProblem(
      await get(
        zhejiang(),
        '/v1/licences',
        { holder: holder.idNumber, reason: '审批' },
        bearer(strangerToken),
      ),
      403,
      'licence-use-refused',
      [holder.idNumber],
    );
  });

  it('a malformed identifier (bad check character, wrong prefix) is 422 before any authorisation or lookup', async () => {
    const badCheck = `${licenceId.slice(0, -1)}${licenceId.endsWith('0') ? '1' : '0'}`;
    const wrongPrefix = licenceId.replace('1.2.156.3005.2.', '1.2.156.3005.7.');
    for (const id of [badCheck, wrongPrefix]) {
      // No reason, no authorisation: the identifier is judged first.
      const problem = await expectProblem(
        await get(zhejiang(), licencePath(id), {}),
        422,
        'validation-failed',
      );
      expect(problem.errors).toEqual([expect.objectContaining({ path: '/path/licenceId' })]);
    }
  });

  it("every successful retrieval is in the holder's use records", async () => {
    const appToken = await tokenFor(holder, app());
    const response = await get(app(), '/v1/me/licence-uses', { limit: '100' }, bearer(appToken));
    const uses = await expectJson<{ items: { operation: string; clientId: string; reason: string }[] }>(
      response,
      200,
    );
    const retrievals = uses.items.filter((use) => use.operation !== 'download_url');
    expect(retrievals).toHaveLength(successfulRetrievals);
    expect(new Set(retrievals.map((use) => use.clientId))).toEqual(new Set(['region-330000']));
    expect(uses.items.filter((use) => use.operation === 'download_url').length).toBeGreaterThanOrEqual(1);
    const own = await get(app(), '/v1/me/licences', {}, bearer(appToken));
    expect(
      (await expectJson<{ items: { licenceId: string }[] }>(own, 200)).items.map((l) => l.licenceId),
    ).toEqual([licenceId]);
  });

  it('after revocation, verification says revoked and retrieval says so, without a download URL', async () => {
    const revoked = await postJson(port(), issuer(), `${licencePath(licenceId)}/revocation`, {
      reason: '企业注销',
    });
    expect(await expectJson(revoked, 200)).toMatchObject({ status: 'revoked' });
    const verdict = await postJson(port(), zhejiang(), `${licencePath(licenceId)}/verification`, {
      digest: { algorithm: 'sha256', value: digest },
    });
    expect(await expectJson(verdict, 200)).toMatchObject({ result: 'revoked' });
    const view = await expectJson<LicenceView>(
      await get(zhejiang(), licencePath(licenceId), { reason: '复核' }, bearer(holderToken)),
      200,
    );
    expect(view.status).toBe('revoked');
    expect(view.download).toBeUndefined();
  });

  it('no ID number reached a log line: neither the gateway nor any function printed the holder query', () => {
    const logs = testHub.logs.join('\n');
    expect(logs).toContain('licences.list'); // the listing did run and log
    expect(logs).not.toContain(holder.idNumber);
    expect(logs).not.toContain(stranger.idNumber);
  });
});
