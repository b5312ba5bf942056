import { z } from 'zod';
import { loadConfig, tableName } from '../../shared/config';
import { routedHandler } from '../../shared/entry';
import { type HttpDependencyOverrides, httpHandler } from '../../shared/http';
import { validationFailed } from '../../shared/problem';
import { type BearerVerifier, bearerVerifierFromEnvironment, personOf } from '../../shared/user-token';
import { toLicenceSummary } from './domain/licence';
import { toUseView } from './domain/uses';
import { createLicenceStore, type LicenceStore, ListCursorError } from './store';

/**
 * The holder's own view in the user space (用户空间), scope me:read, with the person's token (`Authorization: Bearer`)
 * issued to the calling app:
 *   GET /v1/me/licences?limit=&cursor=        the person's licences, newest first, masked holder data
 *   GET /v1/me/licence-uses?limit=&cursor=    who used them (用证记录): platform, licence, authorisation, reason, time
 */
export interface HolderApiDependencies {
  store: () => LicenceStore;
  verifyBearer: () => BearerVerifier;
  clock: () => Date;
  http?: HttpDependencyOverrides;
}

export const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 50;

export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: z.string().min(1).max(2048).optional(),
});

async function withCursorCheck<T>(list: () => Promise<T>): Promise<T> {
  try {
    return await list();
  } catch (error) {
    if (error instanceof ListCursorError) {
      throw validationFailed([{ path: '/query/cursor', message: error.message }]);
    }
    throw error;
  }
}

export function createHolderApi(deps: HolderApiDependencies) {
  const ownLicences = httpHandler(
    {
      operation: 'licences.listOwn',
      scope: 'me:read',
      query: pageQuerySchema,
      handle: async ({ query, client, event }) => {
        const person = await personOf(event, client, deps.verifyBearer());
        const page = await withCursorCheck(() => deps.store().listByHolder(person.sub, query));
        const now = deps.clock();
        return {
          status: 200,
          body: {
            items: page.items.map((licence) => toLicenceSummary(licence, now)),
            ...(page.cursor ? { cursor: page.cursor } : {}),
          },
        };
      },
    },
    deps.http,
  );

  const ownUses = httpHandler(
    {
      operation: 'licences.listOwnUses',
      scope: 'me:read',
      query: pageQuerySchema,
      handle: async ({ query, client, event }) => {
        const person = await personOf(event, client, deps.verifyBearer());
        const page = await withCursorCheck(() => deps.store().listUses(person.sub, query));
        return {
          status: 200,
          body: { items: page.items.map(toUseView), ...(page.cursor ? { cursor: page.cursor } : {}) },
        };
      },
    },
    deps.http,
  );

  return { ownLicences, ownUses };
}

// ---- The Lambda entry point --------------------------------------------------------------------------------

const holderEnv = z.object({ LICENCES_TABLE: tableName });

export const handler = routedHandler({
  name: 'licence holder API',
  routes: { 'GET /v1/me/licences': 'ownLicences', 'GET /v1/me/licence-uses': 'ownUses' },
  // Built on first use, so that importing the module (tests, synth) needs no environment.
  build: async () => {
    const aws = await import('../../shared/aws');
    const store = createLicenceStore({
      doc: aws.documentClient,
      table: loadConfig(holderEnv).LICENCES_TABLE,
    });
    const verifier = bearerVerifierFromEnvironment();
    return createHolderApi({ store: () => store, verifyBearer: () => verifier, clock: () => new Date() });
  },
});
