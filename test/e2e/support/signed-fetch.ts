import { type SignatureHeaders, signRequest } from '../../../shared/signing';
import type { DevClient } from './dev-clients';

/**
 * Raw HTTP against the local hub with full control over what is signed and what is sent, so a test can
 * sign one request and send another (the point of an attack test), or sign honestly in one call.
 */

export interface RequestParts {
  method: string;
  /** Path as sent, percent-encoded, without the query. */
  path: string;
  /** Query string as sent, without `?` (RFC 3986-encoded, see shared/signing `encodeQuery`). */
  query?: string;
  /** Raw body text; omitted for none. */
  body?: string;
}

export interface SignOptions {
  /** Signs as if the clock read this; the hub refuses more than 300 s of skew. */
  now?: Date;
  nonce?: string;
  /** Signs with this secret instead of the client's own (a wrong or stolen key). */
  secret?: string;
}

/** The four signature headers for these request parts, as an honest client computes them. */
export function signParts(
  client: Pick<DevClient, 'accessKeyId' | 'secret'>,
  parts: RequestParts,
  options: SignOptions = {},
): SignatureHeaders {
  return signRequest({
    method: parts.method,
    path: parts.path,
    query: parts.query ?? '',
    body: parts.body ?? '',
    accessKeyId: client.accessKeyId,
    secret: options.secret ?? client.secret,
    ...(options.now ? { now: options.now } : {}),
    ...(options.nonce ? { nonce: options.nonce } : {}),
  });
}

/**
 * Where a request goes: a local hub's port, or an API's base URL (a LocalStack or AWS stage URL, test/e2e/support/
 * target.ts). A stage prefix in the URL is not signed: the hub checks the path with and without the stage.
 */
export type HubAddress = number | string;

export const baseUrlOf = (address: HubAddress): string =>
  typeof address === 'number' ? `http://127.0.0.1:${address}` : address.replace(/\/+$/, '');

/** Sends exactly these parts with exactly these headers (plus a JSON content type when there is a body). */
export function sendParts(
  address: HubAddress,
  parts: RequestParts,
  headers: Record<string, string>,
): Promise<Response> {
  const url = `${baseUrlOf(address)}${parts.path}${parts.query ? `?${parts.query}` : ''}`;
  return fetch(url, {
    method: parts.method,
    headers: {
      ...(parts.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(parts.body === undefined ? {} : { body: parts.body }),
  });
}

/** Signs the parts as the client and sends them. */
export function sendSigned(
  port: HubAddress,
  client: Pick<DevClient, 'accessKeyId' | 'secret'>,
  parts: RequestParts,
  options: SignOptions & { headers?: Record<string, string> } = {},
): Promise<Response> {
  return sendParts(port, parts, { ...options.headers, ...signParts(client, parts, options) });
}

/** Shorthand for a signed JSON POST. */
export const postJson = (
  port: HubAddress,
  client: Pick<DevClient, 'accessKeyId' | 'secret'>,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> =>
  sendSigned(port, client, { method: 'POST', path, body: JSON.stringify(body) }, { headers });
