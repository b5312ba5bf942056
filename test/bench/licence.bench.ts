import { randomUUID } from 'node:crypto';
import { DEMO_REGISTRY, type SyntheticPerson } from '../../functions/auth-verify/registry-seed';
import { usesOf } from '../../functions/licence-retrieve/domain/uses';
import { createLicenceStore } from '../../functions/licence-retrieve/store';
import type { RunningHub } from '../../infra/local/hub';
import { NonceStore } from '../../shared/nonce-store';
import { encodeQuery, NONCE_TTL_SECONDS } from '../../shared/signing';
import { type DevClient, devClient } from '../e2e/support/dev-clients';
import { seedHubRegistry } from '../e2e/support/registry';
import { postJson, sendSigned } from '../e2e/support/signed-fetch';
import { hubDynamo, hubTableOf, keysWithPrefix, rawGetItemMeasurement } from './support/dynamo';
import { BENCH_LICENCE_FILE, benchLicenceId, licenceIssueBody } from './support/licences';
import { type Measurement, measurePair, timedOperations } from './support/measure';
import { type Benchmark, figure, skipped } from './support/types';

/**
 * Licence retrievals per second through the local hub — signed GET /v1/licences/{id} with the holder's token and a
 * reason: signature and nonce, the licence read, the holder's authorisation, the use recorded and LicenceAccessed
 * announced before a presigned download URL is returned — against DynamoDB Local's raw GetItem rate on the same
 * licence items, and against the retrieval's own storage work done raw (the request nonce, the licence read and the
 * two use records, with the production store code), at the same concurrency. The licences belong to many holders
 * and are issued and their files uploaded through the hub first (POST /v1/licences, presigned PUT, the upload
 * consumer records the digest), as issuing departments do.
 *
 * Why the second baseline: a retrieval writes three items (the nonce, and the use records `fetch` and
 * `download_url`) where a verification writes one (the nonce), and DynamoDB Local applies writes one at a time
 * (a single SQLite file) at a small fraction of its read rate. Against GetItem alone the retrieval looks ten times
 * worse than verification; against its own writes it shows what the HTTP stack, the function and the events add.
 */

const ROUNDS = 5;
const LICENCES = 40;
/**
 * Licence holders, each with LICENCES / HOLDERS licences: uses spread over as many partitions as holders, as real
 * retrievals do (one holder for every retrieval would put every use record in one `USES#` partition).
 */
const HOLDERS = 20;
const HOLDER_SEED = 20_261_123;
const HTTP_OPS = 400;
const RAW_OPS = 2_000;
const RAW_STORAGE_OPS = 400;
const CONCURRENCY = 8;
const ROUTE = 'GET /v1/licences/{licenceId}';
const ISSUER = 'issuer-330000-amr';
/** Region platforms that retrieve, each with the holder's token issued to it (a token serves only its platform). */
const RETRIEVERS = ['region-330000', 'region-110000', 'region-440000', 'region-510000'];
const REASON = '办理企业变更登记';
const FILE = BENCH_LICENCE_FILE;
/** The access key the raw baseline's nonces are recorded under: no client of the hub has it. */
const RAW_ACCESS_KEY = 'bench-raw-storage';
const licenceIdOf = (i: number) => benchLicenceId(`BENCH${String(i).padStart(5, '0')}`);
const licencePath = (id: string) => `/v1/licences/${encodeURIComponent(id)}`;

async function expectStatus<T>(response: Response, status: number, what: string): Promise<T> {
  const body = (await response.json().catch(() => ({}))) as T & { type?: string };
  if (response.status !== status) throw new Error(`${what} answered ${response.status} ${body.type ?? ''}`);
  return body;
}

/** Registers a licence for its holder and uploads its file through the presigned PUT (201, then 200). */
async function issueAndUpload(hub: RunningHub, licenceId: string, holder: SyntheticPerson): Promise<void> {
  const issued = await postJson(
    hub.port,
    devClient(ISSUER),
    '/v1/licences',
    licenceIssueBody(licenceId, holder),
  );
  const created = await expectStatus<{ upload: { url: string; headers: Record<string, string> } }>(
    issued,
    201,
    'licence issue',
  );
  const put = await fetch(created.upload.url, { method: 'PUT', headers: created.upload.headers, body: FILE });
  if (put.status !== 200) throw new Error(`licence upload answered ${put.status}`);
}

/** The holder signs in for `platform` (the dev sign-in is the citizen app's) and the platform redeems the ticket. */
async function holderTokenFor(
  hub: RunningHub,
  platform: DevClient,
  holder: SyntheticPerson,
): Promise<string> {
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

/** A region platform that retrieves, with each holder's token issued to it (by holder index). */
interface Retriever {
  client: DevClient;
  tokens: readonly string[];
}

/** Licence i belongs to holder i % HOLDERS. */
const holderIndexOf = (licenceIndex: number) => licenceIndex % HOLDERS;

function httpRetrievals(
  hub: RunningHub,
  licenceIds: readonly string[],
  retrievers: readonly Retriever[],
): Measurement {
  return {
    label: 'GET /v1/licences/{licenceId} through the hub',
    unit: 'retrievals',
    method: `${HTTP_OPS} signed retrievals per round over loopback with the holder's token and a reason, ${CONCURRENCY} in flight, ${licenceIds.length} issued and uploaded licences of ${HOLDERS} holders, ${retrievers.length} region platforms`,
    round: () =>
      timedOperations(HTTP_OPS, CONCURRENCY, async (i) => {
        const { client, tokens } = retrievers[i % retrievers.length] as Retriever;
        const licenceIndex = i % licenceIds.length;
        const licenceId = licenceIds[licenceIndex] as string;
        const token = tokens[holderIndexOf(licenceIndex)] as string;
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

/**
 * The retrieval's own DynamoDB work without HTTP, signature, function or events, with the production code and in
 * the function's order: the request nonce (NonceStore, a conditional put), the licence read (strongly consistent)
 * and its two use records (one BatchWriteItem). Its uses go to partitions of subjects no holder has.
 */
function rawStorageWork(
  dynamo: ReturnType<typeof hubDynamo>,
  tables: { licences: string; nonces: string },
  licenceIds: readonly string[],
): Measurement {
  const store = createLicenceStore({ doc: dynamo.doc, table: tables.licences });
  const nonces = new NonceStore(dynamo.doc, tables.nonces);
  return {
    label: "a retrieval's DynamoDB work, raw",
    unit: 'retrievals',
    method: `${RAW_STORAGE_OPS} per round, ${CONCURRENCY} in flight, one after the other as the function does: the nonce put (conditional), GetItem of the licence (strongly consistent), BatchWriteItem of its two use records — the production NonceStore and licence store`,
    round: () =>
      timedOperations(RAW_STORAGE_OPS, CONCURRENCY, async (i) => {
        const licenceIndex = i % licenceIds.length;
        const nonce = await nonces.recordNonce(RAW_ACCESS_KEY, randomUUID(), NONCE_TTL_SECONDS);
        if (nonce !== 'recorded') throw new Error('a fresh nonce was taken for a replay');
        const licence = await store.getLicence(licenceIds[licenceIndex] as string);
        if (!licence) throw new Error('an issued licence was not found');
        const sub = `bench-raw-${holderIndexOf(licenceIndex)}`;
        await store.recordUses(
          usesOf({
            licences: [{ ...licence, holder: { ...licence.holder, sub } }],
            operations: ['fetch', 'download_url'],
            client: { clientId: RAW_ACCESS_KEY, name: 'raw storage baseline' },
            authorisation: { kind: 'holder_token', sub, jti: randomUUID() },
            reason: REASON,
            now: new Date(),
            correlationId: randomUUID(),
          }),
        );
      }),
  };
}

/** The holders: synthetic persons seeded into the registry (dev sign-in signs in only registry persons). */
async function seedHolders(hub: RunningHub): Promise<SyntheticPerson[]> {
  const registry = await seedHubRegistry(hub, { persons: HOLDERS, seed: HOLDER_SEED });
  const holders = registry.persons.slice(DEMO_REGISTRY.persons.length);
  if (holders.length !== HOLDERS) throw new Error(`seeded ${holders.length} holders, not ${HOLDERS}`);
  return holders;
}

const benchmark: Benchmark = {
  name: 'licence',
  description:
    'Licence retrievals/s through the local hub (signed GET /v1/licences/{id} with the holder’s token and a ' +
    'reason; every answer a valid licence with its recorded file and a presigned download URL, every use ' +
    'recorded and announced as LicenceAccessed) vs raw GetItem/s on the same licence items in the hub’s DynamoDB ' +
    'Local (strongly consistent, as the retrieval reads), and vs the retrieval’s own DynamoDB work done raw with the ' +
    'production store code (nonce put, licence read, BatchWriteItem of the two use records): DynamoDB Local ' +
    'applies writes one at a time, far below its read rate, and a retrieval writes three items where a ' +
    'verification writes one. The same number of requests in flight; rounds alternate. ' +
    `${LICENCES} licences of ${HOLDERS} holders are issued and uploaded through the hub first. No goal stated.`,
  async run({ hub: sharedHub, progress }) {
    const hub = await sharedHub();
    const present = hub.model.routes.some((r) => `${r.method.toUpperCase()} ${r.resourcePath}` === ROUTE);
    if (!present) return skipped(`the synthesised template has no ${ROUTE} yet`);
    progress(`issuing and uploading ${LICENCES} licences of ${HOLDERS} holders through the hub`);
    const holders = await seedHolders(hub);
    const licenceIds = Array.from({ length: LICENCES }, (_, i) => licenceIdOf(i));
    for (const [i, licenceId] of licenceIds.entries()) {
      await issueAndUpload(hub, licenceId, holders[holderIndexOf(i)] as SyntheticPerson);
    }
    await hub.drained();
    progress(`signing ${HOLDERS} holders in for ${RETRIEVERS.length} region platforms`);
    const retrievers: Retriever[] = [];
    for (const clientId of RETRIEVERS) {
      const client = devClient(clientId);
      const tokens = [];
      for (const holder of holders) tokens.push(await holderTokenFor(hub, client, holder));
      retrievers.push({ client, tokens });
    }
    const dynamo = hubDynamo(hub.endpoints.dynamodb);
    try {
      const table = hubTableOf(hub, 'LICENCES_TABLE');
      const keys = await keysWithPrefix(dynamo.client, table, 'LIC#', LICENCES);
      const retrievals = httpRetrievals(hub, licenceIds, retrievers);
      const [subject, baseline] = await measurePair(
        retrievals,
        rawGetItemMeasurement(dynamo.client, table, keys, {
          operations: RAW_OPS,
          concurrency: CONCURRENCY,
          what: 'licence items',
          consistentRead: true,
        }),
        ROUNDS,
        progress,
      );
      const [againSubject, storage] = await measurePair(
        retrievals,
        rawStorageWork(dynamo, { licences: table, nonces: hubTableOf(hub, 'NONCES_TABLE') }, licenceIds),
        ROUNDS,
        progress,
      );
      // Each retrieval left use records and events behind: drain them before the next benchmark measures.
      await hub.drained();
      return {
        status: 'ok',
        figures: [
          figure('licence retrievals through the hub vs raw GetItem', subject, baseline),
          figure(
            "licence retrievals through the hub vs the retrieval's DynamoDB work, raw",
            againSubject,
            storage,
            {
              notes: [
                'A retrieval writes three items (the request nonce and the use records fetch and download_url) and ' +
                  'reads one; DynamoDB Local applies writes one at a time, so its write rate, not the function, ' +
                  'bounds the retrieval locally. On AWS these writes are independent single-digit-millisecond calls.',
              ],
            },
          ),
        ],
      };
    } finally {
      dynamo.client.destroy();
    }
  },
};

export default benchmark;
