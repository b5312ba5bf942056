import type { RunningHub } from '../../infra/local/hub';
import { encodeQuery } from '../../shared/signing';
import { type DevClient, devClient } from '../e2e/support/dev-clients';
import { postJson, sendSigned } from '../e2e/support/signed-fetch';
import { hubDynamo, hubTableOf, keysWithPrefix, rawGetItemMeasurement } from './support/dynamo';
import { BENCH_HOLDER, BENCH_LICENCE_FILE, benchLicenceId, licenceIssueBody } from './support/licences';
import { type Measurement, measurePair, timedOperations } from './support/measure';
import { type Benchmark, figure, skipped } from './support/types';

/**
 * Licence retrievals per second through the local hub — signed GET /v1/licences/{id} with the holder's token and a
 * reason: signature and nonce, the licence read, the holder's authorisation, the use recorded and LicenceAccessed
 * announced before a presigned download URL is returned — against DynamoDB Local's raw GetItem rate on the same
 * licence items, at the same concurrency. The licences are issued and their files uploaded through the hub first
 * (POST /v1/licences, presigned PUT, the upload consumer records the digest), as an issuing department does.
 */

const ROUNDS = 5;
const LICENCES = 40;
const HTTP_OPS = 400;
const RAW_OPS = 2_000;
const CONCURRENCY = 8;
const ROUTE = 'GET /v1/licences/{licenceId}';
const ISSUER = 'issuer-330000-amr';
/** Region platforms that retrieve, each with the holder's token issued to it (a token serves only its platform). */
const RETRIEVERS = ['region-330000', 'region-110000', 'region-440000', 'region-510000'];
const REASON = '办理企业变更登记';
const FILE = BENCH_LICENCE_FILE;
const holder = BENCH_HOLDER;
const licenceIdOf = (i: number) => benchLicenceId(`BENCH${String(i).padStart(5, '0')}`);
const licencePath = (id: string) => `/v1/licences/${encodeURIComponent(id)}`;

async function expectStatus<T>(response: Response, status: number, what: string): Promise<T> {
  const body = (await response.json().catch(() => ({}))) as T & { type?: string };
  if (response.status !== status) throw new Error(`${what} answered ${response.status} ${body.type ?? ''}`);
  return body;
}

/** Registers a licence for the holder and uploads its file through the presigned PUT (201, then 200). */
async function issueAndUpload(hub: RunningHub, licenceId: string): Promise<void> {
  const issued = await postJson(hub.port, devClient(ISSUER), '/v1/licences', licenceIssueBody(licenceId));
  const created = await expectStatus<{ upload: { url: string; headers: Record<string, string> } }>(
    issued,
    201,
    'licence issue',
  );
  const put = await fetch(created.upload.url, { method: 'PUT', headers: created.upload.headers, body: FILE });
  if (put.status !== 200) throw new Error(`licence upload answered ${put.status}`);
}

/** The holder signs in for `platform` (the dev sign-in is the citizen app's) and the platform redeems the ticket. */
async function holderTokenFor(hub: RunningHub, platform: DevClient): Promise<string> {
  const redirectUri = platform.redirectUris?.[0];
  const signIn = await postJson(hub.port, devClient('app-citizen'), '/v1/dev/sign-in', {
    clientId: platform.clientId,
    redirectUri,
    ...holder,
  });
  const { ticket } = await expectStatus<{ ticket: string }>(signIn, 200, 'dev sign-in');
  const validated = await postJson(hub.port, platform, '/v1/tickets/validate', { ticket, redirectUri });
  return (await expectStatus<{ accessToken: string }>(validated, 200, 'ticket validation')).accessToken;
}

function httpRetrievals(
  hub: RunningHub,
  licenceIds: readonly string[],
  retrievers: readonly { client: DevClient; token: string }[],
): Measurement {
  return {
    label: 'GET /v1/licences/{licenceId} through the hub',
    unit: 'retrievals',
    method: `${HTTP_OPS} signed retrievals per round over loopback with the holder's token and a reason, ${CONCURRENCY} in flight, ${licenceIds.length} issued and uploaded licences, ${retrievers.length} region platforms`,
    round: () =>
      timedOperations(HTTP_OPS, CONCURRENCY, async (i) => {
        const { client, token } = retrievers[i % retrievers.length] as (typeof retrievers)[number];
        const licenceId = licenceIds[i % licenceIds.length] as string;
        const response = await sendSigned(
          hub.port,
          client,
          { method: 'GET', path: licencePath(licenceId), query: encodeQuery({ reason: REASON }) },
          { headers: { Authorization: `Bearer ${token}` } },
        );
        const view = await expectStatus<{ status?: string; file?: { state?: string }; download?: unknown }>(
          response,
          200,
          'licence retrieval',
        );
        // Only a full answer counts: a valid licence with its recorded file and a download URL.
        if (view.status !== 'valid' || view.file?.state !== 'recorded' || !view.download) {
          throw new Error(
            `licence retrieval answered ${view.status} / ${view.file?.state} without a download`,
          );
        }
      }),
  };
}

const benchmark: Benchmark = {
  name: 'licence',
  description:
    'Licence retrievals/s through the local hub (signed GET /v1/licences/{id} with the holder’s token and a ' +
    'reason; every answer a valid licence with its recorded file and a presigned download URL, every use ' +
    'recorded and announced as LicenceAccessed) vs raw GetItem/s on the same licence items in the hub’s DynamoDB ' +
    'Local (strongly consistent, as the retrieval reads), the same number of requests in flight; rounds alternate. ' +
    'The licences are issued and uploaded through the hub first. No goal stated.',
  async run({ hub: sharedHub, progress }) {
    const hub = await sharedHub();
    const present = hub.model.routes.some((r) => `${r.method.toUpperCase()} ${r.resourcePath}` === ROUTE);
    if (!present) return skipped(`the synthesised template has no ${ROUTE} yet`);
    progress(`issuing and uploading ${LICENCES} licences through the hub`);
    const licenceIds = Array.from({ length: LICENCES }, (_, i) => licenceIdOf(i));
    for (const licenceId of licenceIds) await issueAndUpload(hub, licenceId);
    await hub.drained();
    const retrievers = [];
    for (const clientId of RETRIEVERS) {
      const client = devClient(clientId);
      retrievers.push({ client, token: await holderTokenFor(hub, client) });
    }
    const dynamo = hubDynamo(hub.endpoints.dynamodb);
    try {
      const table = hubTableOf(hub, 'LICENCES_TABLE');
      const keys = await keysWithPrefix(dynamo.client, table, 'LIC#', LICENCES);
      const [subject, baseline] = await measurePair(
        httpRetrievals(hub, licenceIds, retrievers),
        rawGetItemMeasurement(dynamo.client, table, keys, {
          operations: RAW_OPS,
          concurrency: CONCURRENCY,
          what: 'licence items',
          consistentRead: true,
        }),
        ROUNDS,
        progress,
      );
      // Each retrieval left a use record and an event behind: drain them before the next benchmark measures.
      await hub.drained();
      return {
        status: 'ok',
        figures: [figure('licence retrievals through the hub vs raw GetItem', subject, baseline)],
      };
    } finally {
      dynamo.client.destroy();
    }
  },
};

export default benchmark;
