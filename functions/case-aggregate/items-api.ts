import * as z from 'zod';
import { dynamoDbClients } from '../../shared/aws/dynamodb';
import { loadConfig, tableName } from '../../shared/config';
import { defineRoute } from '../../shared/contract';
import { routedHandler } from '../../shared/entry';
import { type HttpDependencyOverrides, httpHandler } from '../../shared/http';
import { implementationCodeSchema } from '../../shared/identifiers';
import { forbidden, notFound } from '../../shared/problem';
import { type CatalogueStore, createCatalogueStore, type StoredCatalogueItem } from './catalogue-store';
import { catalogueEntrySchema, catalogueFieldsOf, mayWriteItem, ownerOf } from './domain/catalogue';

/**
 * The item catalogue API: `PUT /v1/items/{code}` (scope items:write; the item's own province's platform or its
 * department's ministry) and `GET /v1/items/{code}` (scope cases:read). Signature, scope, JSON and validation are
 * the HTTP stack's; who may write is domain/catalogue.ts. PUT is idempotent by nature: the same body twice
 * leaves the same item.
 */
export interface ItemsApiDependencies {
  store: () => CatalogueStore;
  clock: () => Date;
  http?: HttpDependencyOverrides;
}

const codePathSchema = z.object({ code: implementationCodeSchema });

export const itemViewSchema = z.object({
  implementationCode: z.string(),
  name: z.string(),
  departmentCode: z.string(),
  regionCode: z.string(),
  promisedDays: z.number().int(),
  statutoryDays: z.number().int(),
  fullyOnlineCapable: z.boolean(),
  updatedAt: z.string(),
  updatedBy: z.string().describe('The client that wrote the item last.'),
});

/** The catalogue API's routes; `handler` below serves exactly these. */
export const ITEM_ROUTES = {
  putItem: defineRoute({
    operation: 'items.put',
    method: 'PUT',
    path: '/v1/items/{code}',
    tag: 'case aggregation',
    summary: 'Create or replace a catalogue item (事项) by its implementation code.',
    description: 'Idempotent by nature: the same body twice leaves the same item.',
    scope: 'items:write',
    authentication: 'signature',
    params: codePathSchema,
    body: catalogueEntrySchema,
    requestExample: {
      name: '个体工商户设立登记',
      departmentCode: '11330000002593947X',
      regionCode: '330000',
      promisedDays: 5,
      statutoryDays: 20,
      fullyOnlineCapable: true,
    },
    responses: {
      200: { description: 'The item was replaced.', schema: itemViewSchema },
      201: { description: 'The item was created.', schema: itemViewSchema },
    },
    problems: [
      {
        status: 403,
        slug: 'item-out-of-scope',
        when: "A provincial platform writes only its province's items, a ministry only its department's.",
      },
      {
        status: 403,
        slug: 'item-owned-elsewhere',
        when: 'The item belongs to another province or department.',
      },
    ],
  }),
  getItem: defineRoute({
    operation: 'items.get',
    method: 'GET',
    path: '/v1/items/{code}',
    tag: 'case aggregation',
    summary: 'Read a catalogue item by its implementation code.',
    scope: 'cases:read',
    authentication: 'signature',
    params: codePathSchema,
    responses: { 200: { description: 'The item.', schema: itemViewSchema } },
    problems: [{ status: 404, slug: 'item-not-found', when: 'No item with this code is in the catalogue.' }],
  }),
};

export function toItemView(item: StoredCatalogueItem) {
  return { ...catalogueFieldsOf(item), updatedAt: item.updatedAt, updatedBy: item.updatedBy };
}

export function createItemsApi(deps: ItemsApiDependencies) {
  const putItem = httpHandler(
    {
      contract: ITEM_ROUTES.putItem,
      handle: async ({ path, body, client, logger }) => {
        const owner = ownerOf(client);
        if (!owner || !mayWriteItem(client, body)) {
          throw forbidden(
            'item-out-of-scope',
            "A provincial platform writes its own province's items; a ministry its own department's.",
          );
        }
        const result = await deps
          .store()
          .putItem(
            { implementationCode: path.code, ...body },
            { updatedAt: deps.clock().toISOString(), updatedBy: client.clientId },
            owner,
          );
        if (result.outcome === 'not_owner') {
          throw forbidden('item-owned-elsewhere', 'This item belongs to another province or department.');
        }
        logger.info('catalogue item written', { implementationCode: path.code, outcome: result.outcome });
        return { status: result.outcome === 'created' ? 201 : 200, body: toItemView(result.item) };
      },
    },
    deps.http,
  );

  const getItem = httpHandler(
    {
      contract: ITEM_ROUTES.getItem,
      handle: async ({ path }) => {
        const item = await deps.store().getItem(path.code);
        if (!item)
          throw notFound('item-not-found', 'No item with this implementation code is in the catalogue.');
        return { status: 200, body: toItemView(item) };
      },
    },
    deps.http,
  );

  return { putItem, getItem };
}

const itemsEnv = z.object({ CATALOGUE_TABLE: tableName });

// Built on first use, so that importing the module (tests, synth) needs no environment.
async function buildApi(): Promise<ReturnType<typeof createItemsApi>> {
  const aws = dynamoDbClients();
  const config = loadConfig(itemsEnv);
  const store = createCatalogueStore({ doc: aws.documentClient, table: config.CATALOGUE_TABLE });
  return createItemsApi({ store: () => store, clock: () => new Date() });
}

export const handler = routedHandler({ name: 'items API', contracts: ITEM_ROUTES, build: buildApi });
