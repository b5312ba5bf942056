import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEMO_PERSONS } from '../../functions/auth-verify/registry-seed';
import type { RunningHub } from '../../infra/local/hub';
import { allRouteContracts } from '../../infra/openapi/routes';
import { devClient } from '../e2e/support/dev-clients';
import { signInThroughHub } from '../e2e/support/sign-in';
import { localAwsConfig } from './aws';
import {
  type FuzzEnvironment,
  type FuzzSettings,
  type FuzzTarget,
  fuzzRoute,
  fuzzTargets,
  type RouteFuzzResult,
} from './fuzz-routes';

/**
 * What the fuzzed hub's functions are told: an evaluation of an unknown case (every valid-shaped one) waits for its
 * case only a few seconds before it is rejected `case_unknown`, instead of the day it waits by default, so that
 * the queues drain between runs and the tables can be compared.
 */
export const FUZZ_FUNCTION_ENVIRONMENT = { CASE_WAIT_SECONDS: '3', CASE_RECHECK_SECONDS: '1' };

/** Tables that record every request by design (single-use nonces, idempotency records, rate windows). */
export const REQUEST_BOOKKEEPING = /nonce|idempot|ratelimit/i;

/** The settings `FUZZ_RUNS` (per route), `FUZZ_CONCURRENCY` and `FUZZ_SEED` choose, with their defaults. */
export function fuzzSettingsFromEnv(defaults: FuzzSettings, env = process.env): FuzzSettings {
  const number = (name: string, fallback: number, min: number, max: number) => {
    const value = env[name] === undefined ? fallback : Number(env[name]);
    if (!Number.isInteger(value) || value < min || value > max)
      throw new Error(`${name} must be ${min}–${max}`);
    return value;
  };
  return {
    runsPerRoute: number('FUZZ_RUNS', defaults.runsPerRoute, 2, 100_000),
    concurrency: number('FUZZ_CONCURRENCY', defaults.concurrency, 1, 64),
    seed: number('FUZZ_SEED', defaults.seed, 0, 2 ** 31 - 1),
  };
}

/** What the fuzz needs from a running hub: its port, a signed-in person's token, table counts and a drain. */
export async function fuzzEnvironment(hub: RunningHub): Promise<FuzzEnvironment & { close(): void }> {
  const app = devClient('app-citizen');
  const person = DEMO_PERSONS[0] as { idNumber: string; name: string };
  const { accessToken } = await signInThroughHub(hub.port, app, person);
  const dynamo = new DynamoDBClient(localAwsConfig(hub.endpoints.dynamodb));
  const tables = hub.model.tables.filter((t) => !REQUEST_BOOKKEEPING.test(t.key));
  return {
    port: hub.port,
    bearer: { token: accessToken, client: app },
    // DescribeTable's ItemCount is live in DynamoDB Local (AWS refreshes it every ~6 h).
    fingerprint: async () => {
      const counts: Record<string, number> = {};
      for (const table of tables) {
        const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: table.tableName }));
        counts[table.key] = Table?.ItemCount ?? -1;
      }
      return counts;
    },
    drained: () => hub.drained({ timeoutMs: 180_000 }),
    close: () => dynamo.destroy(),
  };
}

/** Every served route that has a contract, in the contracts' stable order, and those that have none. */
export function hubFuzzTargets(hub: RunningHub): { targets: FuzzTarget[]; withoutContract: string[] } {
  return fuzzTargets(hub.model.routes, allRouteContracts());
}

export interface FuzzSummary {
  settings: FuzzSettings;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  routes: RouteFuzzResult[];
  routesWithoutContract: string[];
  violations: number;
  routesWithStateChanges: string[];
}

/** Fuzzes every route with a contract, one route after another (so that a state change names its route). */
export async function fuzzEveryRoute(
  hub: RunningHub,
  settings: FuzzSettings,
  progress: (line: string) => void = () => undefined,
): Promise<FuzzSummary> {
  const began = performance.now();
  const env = await fuzzEnvironment(hub);
  const { targets, withoutContract } = hubFuzzTargets(hub);
  const routes: RouteFuzzResult[] = [];
  try {
    for (const target of targets) {
      const result = await fuzzRoute(target, env, settings);
      routes.push(result);
      progress(
        `${result.route}: ${result.requests} requests in ${result.seconds} s, ${result.violationCount} violations${
          result.violations[0] ? ` (first: ${result.violations[0]})` : ''
        }`,
      );
    }
  } finally {
    env.close();
  }
  const seconds = Math.round((performance.now() - began) / 100) / 10;
  const requests = routes.reduce((sum, r) => sum + r.requests, 0);
  return {
    settings,
    seconds,
    requests,
    requestsPerSecond: Math.round(requests / Math.max(seconds, 0.1)),
    routes,
    routesWithoutContract: withoutContract,
    violations: routes.reduce((sum, r) => sum + r.violationCount, 0),
    routesWithStateChanges: routes.filter((r) => Object.keys(r.stateChanges).length > 0).map((r) => r.route),
  };
}
