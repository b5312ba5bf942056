import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadIdHmacKey } from '../../shared/client-registry';
import { LOCAL_S3_CREDENTIALS } from '../local/engines/s3';
import { LOCAL_REGION } from '../local/model';
import { ENDPOINTS_FILE, OUTPUTS_FILE, readEndpoints, readOutputs } from '../local/outputs';
import { DEV_ID_HMAC_KEY } from '../local/workers';
import { CliError } from './errors';

/**
 * Where a registry command writes: the local hub's registry table and DynamoDB Local by default (from the
 * files `npm start` leaves in `.hub/`), or any table and endpoint given on the command line.
 */

/** The stack output naming the identity registry table (infra/constructs/auth-verification.ts). */
export const REGISTRY_TABLE_OUTPUT = 'RegistryTableName';

export interface TargetOptions {
  table?: string;
  endpoint?: string;
  stage: string;
  stateDir: string;
}

export interface RegistryTarget {
  table: string;
  /** Undefined: the SDK's own resolution (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL, else AWS). */
  endpoint?: string;
  /** A loopback endpoint: local credentials, and the dev HMAC key is acceptable. */
  local: boolean;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function isLoopback(endpoint: string): boolean {
  try {
    return LOOPBACK_HOSTS.has(new URL(endpoint).hostname);
  } catch {
    throw new CliError(`--endpoint is not a URL (e.g. http://127.0.0.1:8000).`);
  }
}

export const privateStackName = (stage: string) => `zwfw-${stage}-private`;

export function localHubFile(stateDir: string, file: string): string {
  const path = join(stateDir, file);
  if (!existsSync(path)) {
    throw new CliError(
      `No local hub state at ${path}: start the hub (npm start) once, or pass --table and --endpoint.`,
    );
  }
  return path;
}

export function resolveTarget(options: TargetOptions, cwd: string): RegistryTarget {
  const stateDir = isAbsolute(options.stateDir) ? options.stateDir : join(cwd, options.stateDir);
  const table = options.table ?? localRegistryTable(stateDir, options.stage);
  if (options.endpoint !== undefined) {
    return { table, endpoint: options.endpoint, local: isLoopback(options.endpoint) };
  }
  // An explicit table without an endpoint means a deployed table: never guess a local engine for it.
  if (options.table !== undefined) return { table, local: false };
  localHubFile(stateDir, ENDPOINTS_FILE);
  const endpoint = readEndpoints(stateDir).dynamodb;
  return { table, endpoint, local: isLoopback(endpoint) };
}

function localRegistryTable(stateDir: string, stage: string): string {
  localHubFile(stateDir, OUTPUTS_FILE);
  const stack = privateStackName(stage);
  const table = readOutputs(stateDir)[stack]?.[REGISTRY_TABLE_OUTPUT];
  if (!table) {
    throw new CliError(
      `${join(stateDir, OUTPUTS_FILE)} has no ${REGISTRY_TABLE_OUTPUT} output for stack ${stack}: restart the hub, or pass --table.`,
    );
  }
  return table;
}

export function documentClientFor(target: RegistryTarget): DynamoDBDocumentClient {
  const client = new DynamoDBClient(
    target.local
      ? // Local engines take any credentials; never send a developer's real ones to them.
        { endpoint: target.endpoint, region: LOCAL_REGION, credentials: LOCAL_S3_CREDENTIALS }
      : // Region and credentials from the usual AWS environment and profiles.
        { ...(target.endpoint ? { endpoint: target.endpoint } : {}) },
  );
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * The ID HMAC key: HUB_ID_HMAC_KEY, else the secret HUB_ID_HMAC_SECRET_ID, else — for a local target only —
 * the local hub's dev key. A deployed table hashed with the dev key would verify nobody, so that is refused.
 */
export async function resolveIdHmacKey(target: RegistryTarget, env: NodeJS.ProcessEnv): Promise<Uint8Array> {
  if (env.HUB_ID_HMAC_KEY || env.HUB_ID_HMAC_SECRET_ID) {
    try {
      return await loadIdHmacKey(env);
    } catch (error) {
      throw new CliError(`Cannot read the ID HMAC key: ${(error as Error).message}`);
    }
  }
  if (target.local) return Buffer.from(DEV_ID_HMAC_KEY, 'utf8');
  throw new CliError(
    'Set HUB_ID_HMAC_KEY or HUB_ID_HMAC_SECRET_ID: the dev key is used only against a local endpoint.',
  );
}
