import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  DEMO_REGISTRY,
  identitiesOf,
  type SyntheticRegistry,
  seedSyntheticRegistry,
  writeIdentities,
} from '../../../functions/auth-verify/registry-seed';
import type { RunningHub } from '../../../infra/local/hub';
import { LOCAL_REGION } from '../../../infra/local/model';
import { DEV_ID_HMAC_KEY } from '../../../infra/local/workers';

/** The identity registry table of a running hub, as its functions are told it (REGISTRY_TABLE). */
export function registryTableOf(hub: RunningHub): string {
  const table = hub.model.functions
    .map((f) => f.environment.REGISTRY_TABLE)
    .find((name) => name !== undefined);
  if (!table)
    throw new Error('no function of the hub has REGISTRY_TABLE: the identity registry is not deployed');
  return table;
}

/**
 * Writes the demo identities and `persons` synthetic people (registry-seed.ts, keyed with the local hub's dev
 * HMAC key) into the hub's registry, and returns whom it wrote, so callers know whom to verify or sign in.
 */
export async function seedHubRegistry(
  hub: RunningHub,
  options: { persons: number; seed?: number },
): Promise<SyntheticRegistry> {
  const client = new DynamoDBClient({
    endpoint: hub.endpoints.dynamodb,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  try {
    const target = {
      doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
      table: registryTableOf(hub),
      key: DEV_ID_HMAC_KEY,
    };
    await writeIdentities(target, identitiesOf(DEMO_REGISTRY));
    const seeded = await seedSyntheticRegistry({
      ...target,
      persons: options.persons,
      enterprises: 0,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    });
    return {
      persons: [...DEMO_REGISTRY.persons, ...seeded.persons],
      enterprises: [...DEMO_REGISTRY.enterprises],
    };
  } finally {
    client.destroy();
  }
}
