import { z } from 'zod';
import { loadConfig, tableName } from '../../shared/config';
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

export function toItemView(item: StoredCatalogueItem) {
  return { ...catalogueFieldsOf(item), updatedAt: item.updatedAt, updatedBy: item.updatedBy };
}

export function createItemsApi(deps: ItemsApiDependencies) {
  const putItem = httpHandler(
    {
      operation: 'items.put',
      scope: 'items:write',
      path: codePathSchema,
      body: catalogueEntrySchema,
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
      operation: 'items.get',
      scope: 'cases:read',
      path: codePathSchema,
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
  const aws = await import('../../shared/aws');
  const config = loadConfig(itemsEnv);
  const store = createCatalogueStore({ doc: aws.documentClient, table: config.CATALOGUE_TABLE });
  return createItemsApi({ store: () => store, clock: () => new Date() });
}

const ROUTES = {
  'PUT /v1/items/{code}': 'putItem',
  'GET /v1/items/{code}': 'getItem',
} as const;

export const handler = routedHandler({ name: 'items API', routes: ROUTES, build: buildApi });
