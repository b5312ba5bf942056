import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A development client as `infra/local/clients.dev.json` lists it, secret included (dev-only, public). */
export interface DevClient {
  clientId: string;
  accessKeyId: string;
  secret: string;
  kind: 'region' | 'ministry' | 'issuer' | 'app';
  regionCode?: string;
  scopes: string[];
  redirectUris?: string[];
}

const DEV_CLIENTS_FILE = join(import.meta.dirname, '../../../infra/local/clients.dev.json');

let cached: DevClient[] | undefined;

/** Every development client the local hub accepts, read once from the file the hub itself reads. */
export function devClients(): DevClient[] {
  cached ??= (JSON.parse(readFileSync(DEV_CLIENTS_FILE, 'utf8')) as { clients: DevClient[] }).clients;
  return cached;
}

export function devClient(clientId: string): DevClient {
  const client = devClients().find((c) => c.clientId === clientId);
  if (!client) throw new Error(`no dev client ${clientId} in ${DEV_CLIENTS_FILE}`);
  return client;
}

/** The provincial platforms, one per province: spreading load over them keeps each under its own rate limit. */
export const regionClients = (): DevClient[] => devClients().filter((c) => c.kind === 'region');

/** Clients holding a scope, and clients lacking it (the registry decides, so the tests follow it). */
export const clientsWithScope = (scope: string): DevClient[] =>
  devClients().filter((c) => c.scopes.includes(scope));
export const clientsWithoutScope = (scope: string): DevClient[] =>
  devClients().filter((c) => !c.scopes.includes(scope));
