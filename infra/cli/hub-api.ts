import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHubClient, type HubClient } from '../../shared/client';
import { ENDPOINTS_FILE, readEndpoints } from '../local/outputs';
import { REPO_ROOT } from '../local/workers';
import type { CliIo } from './cli';
import { localStateDir } from './command-kit';
import { CliError } from './errors';

/**
 * How a command reaches the hub's API as a connected platform: the gateway URL (`--url`, HUB_URL, else the
 * local hub's endpoints.json) and the client's key and secret (HUB_ACCESS_KEY_ID + HUB_SECRET, else a
 * development client from infra/local/clients.dev.json by `--client`, accepted only for a loopback URL).
 */
export const HUB_API_OPTIONS = {
  url: { type: 'string' },
  client: { type: 'string' },
  'state-dir': { type: 'string' },
} as const;

export const HUB_API_HELP = `Target (default: the local hub started by npm start):
  --url URL          the hub's base URL (default: HUB_URL, else <state-dir>/endpoints.json)
  --client ID        a development client of infra/local/clients.dev.json (local hub only);
                     HUB_ACCESS_KEY_ID and HUB_SECRET sign as any other client
  --state-dir DIR    the local hub's state folder (default: HUB_STATE_DIR, else .hub in the repository)`;

export interface DevClient {
  clientId: string;
  accessKeyId: string;
  secret: string;
  kind: string;
  regionCode?: string;
  departmentCode?: string;
  scopes: string[];
}

export function devClients(): DevClient[] {
  const file = join(REPO_ROOT, 'infra', 'local', 'clients.dev.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { clients: DevClient[] }).clients;
}

export function resolveHubUrl(values: { url?: string; 'state-dir'?: string }, io: CliIo): string {
  const url = values.url ?? io.env.HUB_URL;
  if (url) {
    try {
      return new URL(url).toString().replace(/\/$/, '');
    } catch {
      throw new CliError(`--url is not a URL (e.g. http://127.0.0.1:3000).`);
    }
  }
  const stateDir = localStateDir(values, io);
  try {
    return readEndpoints(stateDir).gateway;
  } catch {
    throw new CliError(
      `No local hub at ${join(stateDir, ENDPOINTS_FILE)}: start it (npm start), or pass --url.`,
    );
  }
}

const isLoopback = (url: string) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);

export interface ClientCredentials {
  clientId: string;
  accessKeyId: string;
  secret: string;
}

export function credentialsFor(
  url: string,
  clientId: string | undefined,
  io: CliIo,
  fallbackClientId: string,
): ClientCredentials {
  if (io.env.HUB_ACCESS_KEY_ID && io.env.HUB_SECRET && clientId === undefined) {
    return {
      clientId: io.env.HUB_ACCESS_KEY_ID,
      accessKeyId: io.env.HUB_ACCESS_KEY_ID,
      secret: io.env.HUB_SECRET,
    };
  }
  if (!isLoopback(url)) {
    throw new CliError(
      'Set HUB_ACCESS_KEY_ID and HUB_SECRET: development clients sign for a local hub only.',
    );
  }
  const wanted = clientId ?? fallbackClientId;
  const client = devClients().find((c) => c.clientId === wanted);
  if (!client) throw new CliError(`No development client ${wanted} in infra/local/clients.dev.json.`);
  return client;
}

export function apiClient(url: string, credentials: ClientCredentials): HubClient {
  return createHubClient({ baseUrl: url, accessKeyId: credentials.accessKeyId, secret: credentials.secret });
}
