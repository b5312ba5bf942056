import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { SyntheticPerson } from '../../functions/auth-verify/registry-seed';
import type { RunningHub } from '../../infra/local/hub';
import { clientsWithScope } from '../e2e/support/dev-clients';
import { registryTableOf, seedHubRegistry } from '../e2e/support/registry';
import { postJson } from '../e2e/support/signed-fetch';
import { hubDynamo } from './support/dynamo';
import { type Measurement, measurePair, timedOperations } from './support/measure';
import { type Benchmark, figure, skipped } from './support/types';

/**
 * Real-name verifications per second through the local hub — signed POST /v1/identity/verifications: signature
 * and nonce, schema with check characters, HMACs, one GetItem on the registry, an IdentityVerified event — against
 * DynamoDB Local's raw GetItem rate on the same registry table, at the same concurrency. The ratio is the share
 * of the storage engine's read rate that reaches callers as verifications.
 */

const ROUNDS = 5;
const PERSONS = 500;
const HTTP_OPS = 500;
const RAW_OPS = 2_000;
const CONCURRENCY = 8;
const ROUTE = 'POST /v1/identity/verifications';

function httpVerifications(hub: RunningHub, persons: SyntheticPerson[]): Measurement {
  const verifiers = clientsWithScope('identity:verify');
  return {
    label: 'POST /v1/identity/verifications through the hub',
    unit: 'verifications',
    method: `${HTTP_OPS} signed requests per round over loopback, ${CONCURRENCY} in flight, ${persons.length} registered persons, spread over ${verifiers.length} clients`,
    round: () =>
      timedOperations(HTTP_OPS, CONCURRENCY, async (i) => {
        const client = verifiers[i % verifiers.length] as (typeof verifiers)[number];
        const person = persons[i % persons.length] as SyntheticPerson;
        const response = await postJson(hub.port, client, '/v1/identity/verifications', {
          subject: 'person',
          ...person,
        });
        const reply = (await response.json()) as { result?: string; type?: string };
        // Only a real match counts: a not_found would mean the registry or its key is not what was seeded.
        if (response.status !== 200 || reply.result !== 'match') {
          throw new Error(`verification answered ${response.status} ${reply.type ?? reply.result}`);
        }
      }),
  };
}

async function rawGetItem(dynamo: ReturnType<typeof hubDynamo>, table: string): Promise<Measurement> {
  const scanned = await dynamo.client.send(new ScanCommand({ TableName: table, Limit: PERSONS }));
  const keys = (scanned.Items ?? []).flatMap(({ pk, sk }) => (pk && sk ? [{ pk, sk }] : []));
  if (keys.length === 0) throw new Error('the registry table is empty after seeding');
  return {
    label: 'DynamoDB Local GetItem',
    unit: 'reads',
    method: `${RAW_OPS} GetItem calls per round on the registry table, ${CONCURRENCY} in flight, over ${keys.length} existing keys`,
    round: () =>
      timedOperations(RAW_OPS, CONCURRENCY, async (i) => {
        const reply = await dynamo.client.send(
          new GetItemCommand({ TableName: table, Key: keys[i % keys.length] as (typeof keys)[number] }),
        );
        if (!reply.Item) throw new Error('a scanned registry item was not found by its key');
      }),
  };
}

const benchmark: Benchmark = {
  name: 'verification',
  description:
    'Real-name verifications/s through the local hub (signed POST /v1/identity/verifications for persons ' +
    "seeded into the registry, every answer a match) vs raw GetItem/s on the same registry table in the hub's " +
    'DynamoDB Local, both with the same number of requests in flight; rounds alternate. No goal stated.',
  async run({ hub: sharedHub, progress }) {
    const hub = await sharedHub();
    const present = hub.model.routes.some((r) => `${r.method.toUpperCase()} ${r.resourcePath}` === ROUTE);
    if (!present) return skipped(`the synthesised template has no ${ROUTE} yet`);
    progress(`seeding ${PERSONS} synthetic persons into the registry`);
    const registry = await seedHubRegistry(hub, { persons: PERSONS, seed: 20_261_122 });
    const dynamo = hubDynamo(hub.endpoints.dynamodb);
    try {
      const [subject, baseline] = await measurePair(
        httpVerifications(hub, registry.persons),
        await rawGetItem(dynamo, registryTableOf(hub)),
        ROUNDS,
        progress,
      );
      return {
        status: 'ok',
        figures: [figure('verifications through the hub vs raw GetItem', subject, baseline)],
      };
    } finally {
      dynamo.client.destroy();
    }
  },
};

export default benchmark;
