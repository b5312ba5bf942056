import * as z from 'zod';
import { licenceUseAuthorisationField, licenceUseOperationField } from '../../events/licence-accessed.v1';
import { dynamoDbClients } from '../../shared/aws/dynamodb';
import { loadConfig, tableName } from '../../shared/config';
import { defineRoute, pageOf } from '../../shared/contract';
import { routedHandler } from '../../shared/entry';
import { type HttpDependencyOverrides, httpHandler } from '../../shared/http';
import { pageBody, withCursorCheck } from '../../shared/page-cursor';
import { type BearerVerifier, bearerVerifierFromEnvironment, personOf } from '../../shared/user-token';
import { toLicenceSummary } from './domain/licence';
import { toUseView } from './domain/uses';
import { licenceSummarySchema } from './retrieval-api';
import { createLicenceStore, type LicenceStore } from './store';

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

const licenceUseSchema = z.object({
  useId: z.string(),
  licenceId: z.string(),
  licenceName: z.string(),
  operation: licenceUseOperationField,
  clientId: z.string(),
  clientName: z.string().optional(),
  authorisation: licenceUseAuthorisationField,
  reason: z.string().optional(),
  accessedAt: z.string(),
});

/** The holder routes (user space); `handler` below serves exactly these. */
export const HOLDER_ROUTES = {
  ownLicences: defineRoute({
    operation: 'licences.listOwn',
    method: 'GET',
    path: '/v1/me/licences',
    tag: 'user space',
    summary: "The signed-in person's own licences.",
    scope: 'me:read',
    authentication: 'signature+bearer',
    query: pageQuerySchema,
    responses: { 200: { description: 'A page of licence summaries.', schema: pageOf(licenceSummarySchema) } },
  }),
  ownUses: defineRoute({
    operation: 'licences.listOwnUses',
    method: 'GET',
    path: '/v1/me/licence-uses',
    tag: 'user space',
    summary: "Who used the signed-in person's licences, when and why (用证记录).",
    scope: 'me:read',
    authentication: 'signature+bearer',
    query: pageQuerySchema,
    responses: { 200: { description: 'A page of uses.', schema: pageOf(licenceUseSchema) } },
  }),
};

export function createHolderApi(deps: HolderApiDependencies) {
  const ownLicences = httpHandler(
    {
      contract: HOLDER_ROUTES.ownLicences,
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
      contract: HOLDER_ROUTES.ownUses,
      handle: async ({ query, client, event }) => {
        const person = await personOf(event, client, deps.verifyBearer());
        const page = await withCursorCheck(() => deps.store().listUses(person.sub, query));
        return {
          status: 200,
          body: pageBody(page.items.map(toUseView), page.cursor),
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
  contracts: HOLDER_ROUTES,
  // Built on first use, so that importing the module (tests, synth) needs no environment.
  build: async () => {
    const aws = dynamoDbClients();
    const store = createLicenceStore({
      doc: aws.documentClient,
      table: loadConfig(holderEnv).LICENCES_TABLE,
    });
    const verifier = bearerVerifierFromEnvironment();
    return createHolderApi({ store: () => store, verifyBearer: () => verifier, clock: () => new Date() });
  },
});
