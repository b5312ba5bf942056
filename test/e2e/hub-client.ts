import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signRequest } from '../../shared/signing';

interface DevClient {
  clientId: string;
  accessKeyId: string;
  secret: string;
}

const registry = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../infra/local/clients.dev.json'), 'utf8'),
) as { clients: DevClient[] };

/** A signed HTTP client for one of the development clients, as a connected platform would call the hub. */
export function hubClient(port: number, clientId: string) {
  const client = registry.clients.find((c) => c.clientId === clientId);
  if (!client) throw new Error(`no dev client ${clientId}`);
  const call = (method: string, path: string, body?: unknown) => {
    const raw = body === undefined ? '' : JSON.stringify(body);
    const headers = signRequest({
      method,
      path,
      body: raw,
      accessKeyId: client.accessKeyId,
      secret: client.secret,
    });
    return fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: raw }),
    });
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body: unknown) => call('POST', path, body),
  };
}
