import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CASE_ROUTES } from '../../../functions/case-aggregate/api';
import { STATS_ROUTES } from '../../../functions/case-aggregate/stats-api';
import { createHubClient, HubProblemError, retryAfterMs } from '../../../shared/client';
import { verifySignature } from '../../../shared/signing';

/** A real HTTP server that answers from a script and records what it received, signatures verified. */
interface Seen {
  method: string;
  url: string;
  idempotencyKey: string | undefined;
  signatureValid: boolean;
}

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

const SECRET = 'test-secret-of-the-client';

async function scriptedHub(answers: { status: number; headers?: Record<string, string>; body?: unknown }[]) {
  const seen: Seen[] = [];
  server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://localhost');
    let signatureValid = true;
    try {
      verifySignature({
        headers: req.headers as Record<string, string>,
        method: req.method ?? 'GET',
        paths: [url.pathname],
        query: Object.fromEntries(url.searchParams),
        body: Buffer.concat(chunks),
        now: new Date(),
        secretFor: () => SECRET,
      });
    } catch {
      signatureValid = false;
    }
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      idempotencyKey: req.headers['idempotency-key'] as string | undefined,
      signatureValid,
    });
    const answer = answers[Math.min(seen.length - 1, answers.length - 1)] ?? { status: 500 };
    const problem = answer.status >= 400;
    res.writeHead(answer.status, {
      'content-type': problem ? 'application/problem+json' : 'application/json',
      ...answer.headers,
    });
    res.end(
      JSON.stringify(
        answer.body ?? (problem ? { type: 'urn:zwfw-hub:problem:x', title: 'x', status: answer.status } : {}),
      ),
    );
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const waits: number[] = [];
  const client = createHubClient({
    baseUrl: `http://127.0.0.1:${port}`,
    accessKeyId: 'ak-test',
    secret: SECRET,
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  return { client, seen, waits };
}

const reply = { batchId: '0b8e9d2c-3f41-4a77-9a55-0d6f0e6f5b11', accepted: 1, rejected: [] };

describe('the typed hub client', () => {
  it('signs each attempt and retries an idempotent POST on 503 with the same Idempotency-Key, after Retry-After', async () => {
    const { client, seen, waits } = await scriptedHub([
      { status: 503, headers: { 'retry-after': '2' } },
      { status: 202, body: reply },
    ]);
    const result = await client.call(CASE_ROUTES.ingest, { body: { records: [{}] } });
    expect(result.status).toBe(202);
    expect(result.body).toEqual(reply);
    expect(seen).toHaveLength(2);
    expect(seen.every((s) => s.signatureValid)).toBe(true);
    expect(seen[0]?.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[1]?.idempotencyKey).toBe(seen[0]?.idempotencyKey);
    expect(waits).toEqual([2000]);
  });

  it('retries an idempotent POST after a 502 or 504 (the work may have happened) with the same key', async () => {
    const { client, seen } = await scriptedHub([
      { status: 502 },
      { status: 504 },
      { status: 202, body: reply },
    ]);
    const result = await client.call(CASE_ROUTES.ingest, { body: { records: [{}] } });
    expect(result.status).toBe(202);
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.idempotencyKey)).size).toBe(1);
  });

  it('does not retry a POST without idempotency on 502', async () => {
    const { client, seen } = await scriptedHub([{ status: 502 }, { status: 202, body: reply }]);
    expect(
      (await client.send({ method: 'POST', path: '/v1/identity/verifications', body: '{}' })).status,
    ).toBe(502);
    expect(seen).toHaveLength(1);
  });

  it('builds path and query from the contract, encoded as the signature expects', async () => {
    const { client, seen } = await scriptedHub([{ status: 200, body: {} }]);
    await client.call(CASE_ROUTES.getCase, { params: { caseId: '330000:ABC 1' } });
    await client.call(STATS_ROUTES.stats, {
      query: { from: '2026-11-01', to: '2026-11-30', groupBy: 'province' },
    });
    expect(seen.map((s) => s.url)).toEqual([
      '/v1/cases/330000%3AABC%201',
      '/v1/stats?from=2026-11-01&to=2026-11-30&groupBy=province',
    ]);
    expect(seen.every((s) => s.signatureValid)).toBe(true);
  });

  it('does not retry a POST without idempotency on 503, and throws the problem', async () => {
    const { client, seen } = await scriptedHub([{ status: 503 }, { status: 202, body: reply }]);
    const sent = client.send({ method: 'POST', path: '/v1/identity/verifications', body: '{}' });
    expect((await sent).status).toBe(503);
    expect(seen).toHaveLength(1);
  });

  it('retries a 429 (refused before any function ran) and gives up after its attempts', async () => {
    const { client, seen, waits } = await scriptedHub([{ status: 429, headers: { 'retry-after': '1' } }]);
    const error = await client.call(CASE_ROUTES.getCase, { params: { caseId: '330000:1' } }).catch((e) => e);
    expect(error).toBeInstanceOf(HubProblemError);
    expect((error as HubProblemError).status).toBe(429);
    expect(seen).toHaveLength(4);
    expect(waits).toEqual([1000, 1000, 1000]);
  });

  it('reads Retry-After in seconds or as a date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});
