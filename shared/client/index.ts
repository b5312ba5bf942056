import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { AnyRouteContract, ContractResponse, RouteContract } from '../contract';
import { encodeQuery, signRequest } from '../signing';

/**
 * The typed client of the hub's API: signs every attempt (DESIGN §3), builds the path and query from a route's
 * contract, sends JSON, and retries only what is safe to send again —
 *   - 429 (the gateway refused it before any function ran) and, for a safe request, 502/503/504 (a function that
 *     failed, a throttled dependency, a timed-out integration: the work may or may not have happened, which the
 *     same Idempotency-Key makes harmless) and network failures;
 *   - a safe request is a GET/HEAD/PUT/DELETE, or a POST whose route honours `Idempotency-Key` (one is made
 *     up when the caller gives none, and the same key goes with every attempt);
 *   - the wait is the response's Retry-After (capped), else exponential backoff with jitter.
 * A problem response (4xx/5xx with application/problem+json) is thrown as a HubProblemError.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included (1: never retry). */
  attempts: number;
  baseDelayMs: number;
  /** No wait is longer, Retry-After included. */
  maxDelayMs: number;
}

/** Answers after which the work may or may not have happened: sent again only when that is harmless. */
const RETRYABLE_WHEN_SAFE = new Set([502, 503, 504]);

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 200, maxDelayMs: 10_000 };

export interface HubClientOptions {
  /** e.g. `http://127.0.0.1:3000`, or a stage's invoke URL with its stage path. */
  baseUrl: string;
  accessKeyId: string;
  secret: string;
  retry?: Partial<RetryPolicy>;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Signs as if the clock read this (tests). */
  clock?: () => Date;
}

/** A request as sent: the path percent-encoded, without the query. */
export interface RawRequest {
  method: string;
  path: string;
  query?: Record<string, string | readonly string[] | undefined>;
  /** Raw body text; a JSON content type is sent with it. */
  body?: string;
  headers?: Record<string, string>;
  /** Whether sending it twice is harmless; decides which failures are retried. */
  safeToRetry?: boolean;
}

type Input<S> = S extends z.ZodType ? z.input<S> : undefined;

export type CallOptions<C extends AnyRouteContract> = (C extends RouteContract<infer B, infer P, infer Q>
  ? (B extends z.ZodType ? { body: z.input<B> } : { body?: undefined }) &
      (P extends z.ZodType ? { params: Input<P> } : { params?: undefined }) &
      (Q extends z.ZodType ? { query?: Input<Q> } : { query?: undefined })
  : never) & {
  /** A person's hub access token, for routes that act for the person. */
  bearer?: string;
  /** For idempotent routes; a fresh one per call when omitted. */
  idempotencyKey?: string;
  headers?: Record<string, string>;
};

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export class HubProblemError extends Error {
  constructor(
    readonly status: number,
    readonly problem: ProblemDocument,
    readonly headers: Headers,
  ) {
    super(`${status} ${problem.type}${problem.detail ? `: ${problem.detail}` : ''}`);
    this.name = 'HubProblemError';
  }

  /** `validation-failed` for `urn:zwfw-hub:problem:validation-failed`. */
  get slug(): string {
    return this.problem.type.replace(/^urn:zwfw-hub:problem:/, '');
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

export interface HubClient {
  /** Calls a route by its contract; resolves with a declared status and its body, throws HubProblemError. */
  call<C extends AnyRouteContract>(
    contract: C,
    options: CallOptions<C>,
  ): Promise<ContractResponse<C['responses']>>;
  /** Signs and sends one request as given, with the same retry rules; resolves with whatever came back. */
  send(request: RawRequest): Promise<Response>;
}

export function createHubClient(options: HubClientOptions): HubClient {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const baseUrl = options.baseUrl.replace(/\/$/, '');
  const basePath = new URL(baseUrl).pathname.replace(/\/$/, '');

  async function attempt(request: RawRequest): Promise<Response> {
    const query = request.query ? encodeQuery(request.query) : '';
    // The signature covers the path as the gateway receives it, the stage prefix included.
    const signedPath = `${basePath}${request.path}`;
    const signature = signRequest({
      method: request.method,
      path: signedPath,
      query,
      body: request.body ?? '',
      accessKeyId: options.accessKeyId,
      secret: options.secret,
      ...(options.clock ? { now: options.clock() } : {}),
    });
    return doFetch(`${baseUrl}${request.path}${query ? `?${query}` : ''}`, {
      method: request.method,
      headers: {
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...request.headers,
        ...signature,
      },
      ...(request.body === undefined ? {} : { body: request.body }),
    });
  }

  async function send(request: RawRequest): Promise<Response> {
    const safe = request.safeToRetry ?? SAFE_METHODS.has(request.method.toUpperCase());
    for (let attemptNumber = 1; ; attemptNumber++) {
      const last = attemptNumber >= policy.attempts;
      let response: Response;
      try {
        response = await attempt(request);
      } catch (error) {
        // A network failure may have reached the hub: only a safe request goes again.
        if (last || !safe) throw error;
        await sleep(backoff(policy, attemptNumber));
        continue;
      }
      const retryable = response.status === 429 || (RETRYABLE_WHEN_SAFE.has(response.status) && safe);
      if (last || !retryable) return response;
      const wait = retryAfterMs(response.headers.get('retry-after')) ?? backoff(policy, attemptNumber);
      await response.body?.cancel();
      await sleep(Math.min(wait, policy.maxDelayMs));
    }
  }

  async function call<C extends AnyRouteContract>(contract: C, callOptions: CallOptions<C>) {
    const { body, params, query, bearer, idempotencyKey, headers } = callOptions as {
      body?: unknown;
      params?: Record<string, unknown>;
      query?: Record<string, unknown>;
      bearer?: string;
      idempotencyKey?: string;
      headers?: Record<string, string>;
    };
    const key = contract.idempotent ? (idempotencyKey ?? randomUUID()) : undefined;
    const response = await send({
      method: contract.method,
      path: pathOf(contract.path, params ?? {}),
      ...(query ? { query: queryOf(query) } : {}),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headers: {
        ...headers,
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...(key ? { 'idempotency-key': key } : {}),
      },
      safeToRetry: SAFE_METHODS.has(contract.method) || key !== undefined,
    });
    const text = await response.text();
    const parsed: unknown = text.length > 0 && isJson(response) ? JSON.parse(text) : undefined;
    if (!(response.status in contract.responses)) {
      const problem = isProblemDocument(parsed)
        ? parsed
        : { type: 'about:blank', title: response.statusText, status: response.status };
      throw new HubProblemError(response.status, problem, response.headers);
    }
    return { status: response.status, body: parsed, headers: response.headers } as ContractResponse<
      C['responses']
    >;
  }

  return { call, send };
}

/** `/v1/cases/{caseId}` with `{ caseId: '330000:1' }` → `/v1/cases/330000%3A1`. */
export function pathOf(template: string, params: Record<string, unknown>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`path parameter ${name} is missing`);
    return encodeURIComponent(String(value));
  });
}

function queryOf(query: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(query)
      .filter(([, value]) => value !== undefined && value !== null)
      .map(([name, value]) => [name, String(value)]),
  );
}

const isJson = (response: Response) => /[/+]json\b/.test(response.headers.get('content-type') ?? '');

function isProblemDocument(value: unknown): value is ProblemDocument {
  return typeof value === 'object' && value !== null && typeof (value as ProblemDocument).type === 'string';
}

/** Retry-After in seconds (RFC 9110 also allows a date: honoured too). */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function backoff(policy: RetryPolicy, attemptNumber: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attemptNumber - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
