/**
 * Reference data a developer expects in a fresh local hub: the demo identities on every start (so the
 * README's examples always work), and a synthetic registry once, on the first start of a state folder.
 * The seeders are the capabilities' own (the same code the operator CLI runs); this only decides when.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { seedDemoRegistry, seedSyntheticRegistry } from '../../functions/auth-verify/registry-seed';
import type { HubModel } from './model';
import { DEV_ID_HMAC_KEY } from './workers';

const PRIVATE_STACK_SUFFIX = '-private';
export const SYNTHETIC_PERSONS = 1_000;
export const SYNTHETIC_ENTERPRISES = 100;

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
  const registryTable = privateOutput(options.model, 'RegistryTableName');
  if (!registryTable) {
    options.log({ level: 'INFO', message: 'no identity registry in the template: nothing to seed' });
    return;
  }
  const doc = DynamoDBDocumentClient.from(options.dynamodb);
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
