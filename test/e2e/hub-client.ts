import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHubClient } from '../../shared/client';

interface DevClient {
  clientId: string;
  accessKeyId: string;
  secret: string;
}

const registry = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../infra/local/clients.dev.json'), 'utf8'),
) as { clients: DevClient[] };

/** The typed client (shared/client) for one of the development clients, pointed at a hub (port or base URL). */
export function typedHubClient(port: number | string, clientId: string, retry?: { attempts: number }) {
  const client = registry.clients.find((c) => c.clientId === clientId);
  if (!client) throw new Error(`no dev client ${clientId}`);
  return createHubClient({
    baseUrl: typeof port === 'number' ? `http://127.0.0.1:${port}` : port,
    accessKeyId: client.accessKeyId,
    secret: client.secret,
    ...(retry ? { retry } : {}),
  });
}

/**
 * A signed HTTP client for one of the development clients, as a connected platform would call the hub: a thin
 * wrapper over the typed client's `send`. It never retries, so tests see every answer the hub gives (a 429 or
 * 503 included). A path may carry its query (`/v1/stats?from=…`): it is signed as the query it is.
 */
export function hubClient(port: number | string, clientId: string) {
  const typed = typedHubClient(port, clientId, { attempts: 1 });
  const call = (method: string, pathAndQuery: string, body?: unknown) => {
    const [path = '/', query] = pathAndQuery.split('?', 2);
    return typed.send({
      method,
      path,
      ...(query ? { query: Object.fromEntries(new URLSearchParams(query)) } : {}),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body: unknown) => call('POST', path, body),
  };
}
