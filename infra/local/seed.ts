/**
 * Reference data a developer expects in a fresh local hub: the demo identities on every start (so the
 * README's examples always work), a synthetic registry once, on the first start of a state folder, and the
 * synthetic item catalogue of all 32 regions on every start (the same seed writes the same items, so a restart
 * rewrites them unchanged, and a changed generator reaches an old state folder).
 * The seeders are the capabilities' own (the same code the operator CLI runs); this only decides when.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { seedDemoRegistry, seedSyntheticRegistry } from '../../functions/auth-verify/registry-seed';
import { generateCatalogue } from '../../functions/case-aggregate/catalogue-seed';
import { createCatalogueStore } from '../../functions/case-aggregate/catalogue-store';
import type { HubModel } from './model';
import { DEV_ID_HMAC_KEY } from './workers';

const PRIVATE_STACK_SUFFIX = '-private';
export const SYNTHETIC_PERSONS = 1_000;
export const SYNTHETIC_ENTERPRISES = 100;
/** `updatedBy` of the seeded catalogue items, so they are told apart from items a platform PUT. */
export const CATALOGUE_SEEDER = 'local-seed';

export interface LocalSeedOptions {
  model: HubModel;
  dynamodb: DynamoDBClient;
  stateDir: string;
  log: (entry: Record<string, unknown>) => void;
}

/** The private stack's output, whatever the stage is called. */
function privateOutput(model: HubModel, key: string): string | undefined {
  const stack = Object.keys(model.outputs).find((name) => name.endsWith(PRIVATE_STACK_SUFFIX));
  return stack ? model.outputs[stack]?.[key] : undefined;
}

export async function seedLocalData(options: LocalSeedOptions): Promise<void> {
  const doc = DynamoDBDocumentClient.from(options.dynamodb);
  await seedRegistry(options, doc);
  await seedCatalogue(options, doc);
}

async function seedRegistry(options: LocalSeedOptions, doc: DynamoDBDocumentClient): Promise<void> {
  const registryTable = privateOutput(options.model, 'RegistryTableName');
  if (!registryTable) {
    options.log({ level: 'INFO', message: 'no identity registry in the template: no identities seeded' });
    return;
  }
  const target = { doc, table: registryTable, key: DEV_ID_HMAC_KEY };
  await seedDemoRegistry(target);
  const marker = join(options.stateDir, 'seeded-registry.json');
  if (existsSync(marker)) return;
  await seedSyntheticRegistry({ ...target, persons: SYNTHETIC_PERSONS, enterprises: SYNTHETIC_ENTERPRISES });
  writeFileSync(
    marker,
    `${JSON.stringify({ persons: SYNTHETIC_PERSONS, enterprises: SYNTHETIC_ENTERPRISES, at: new Date().toISOString() })}\n`,
  );
  options.log({
    level: 'INFO',
    message: `seeded a synthetic registry of ${SYNTHETIC_PERSONS} persons and ${SYNTHETIC_ENTERPRISES} enterprises`,
  });
}

async function seedCatalogue(options: LocalSeedOptions, doc: DynamoDBDocumentClient): Promise<void> {
  const catalogueTable = privateOutput(options.model, 'CatalogueTableName');
  if (!catalogueTable) {
    options.log({ level: 'INFO', message: 'no item catalogue in the template: no items seeded' });
    return;
  }
  const items = generateCatalogue();
  await createCatalogueStore({ doc, table: catalogueTable }).putItems(items, {
    updatedAt: new Date().toISOString(),
    updatedBy: CATALOGUE_SEEDER,
  });
  options.log({ level: 'INFO', message: `seeded a synthetic item catalogue of ${items.length} items` });
}
