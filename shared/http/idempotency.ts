import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { MiddlewareObj, Request } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { badRequest, conflict, type Problem, unprocessable } from '../problem';

/**
 * `Idempotency-Key` for POSTs, on Powertools idempotency. The key is the caller's access key plus
 * the header, so two clients can never collide; the raw body is the payload fingerprint, so reusing
 * a key for a different body is refused (422) rather than answered with the other body's result.
 * Only successful handler results are stored (a thrown Problem deletes the in-progress record).
 */

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
const KEY_PATTERN = /^[A-Za-z0-9._:-]{1,255}$/;

export type HttpRequest = Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>;

export interface IdempotencyOptions {
  operation: string;
  persistence: () => Promise<BasePersistenceLayer>;
  /** Called with a stored response about to be replayed, e.g. to stamp this request's correlation id. */
  onReplay: (request: HttpRequest, response: APIGatewayProxyResult) => APIGatewayProxyResult;
}

export function idempotencyKeyMiddleware(options: IdempotencyOptions): MiddlewareObj<APIGatewayProxyEvent> {
  let powertools: ReturnType<typeof makeHandlerIdempotent> | undefined;
  const inner = async () => {
    powertools ??= makeHandlerIdempotent({
      persistenceStore: await options.persistence(),
      keyPrefix: options.operation,
      config: new IdempotencyConfig({
        eventKeyJmesPath: '[headers."x-hub-key", headers."idempotency-key"]',
        payloadValidationJmesPath: 'body',
        expiresAfterSeconds: IDEMPOTENCY_TTL_SECONDS,
      }),
    });
    return powertools;
  };
  const active = new WeakSet<HttpRequest>();
  const isActive = (request: HttpRequest) => active.has(request);

  return {
    before: async (request: HttpRequest) => {
      const key = request.event.headers?.[IDEMPOTENCY_HEADER];
      if (request.event.httpMethod !== 'POST' || key === undefined) return;
      if (!KEY_PATTERN.test(key)) {
        throw badRequest('idempotency-key-malformed', 'Idempotency-Key must be 1–255 of [A-Za-z0-9._:-].');
      }
      active.add(request);
      try {
        const stored = (await (await inner()).before?.(request)) as APIGatewayProxyResult | undefined;
        return stored === undefined ? undefined : options.onReplay(request, stored);
      } catch (error) {
        // Nothing of ours is in progress: never let onError delete another request's record.
        active.delete(request);
        throw toProblem(error);
      }
    },
    after: async (request: HttpRequest) => {
      if (isActive(request)) await (await inner()).after?.(request);
    },
    onError: async (request: HttpRequest) => {
      if (isActive(request)) await (await inner()).onError?.(request);
    },
  };
}

function toProblem(error: unknown): Problem | unknown {
  const name = (error as Error | undefined)?.name;
  if (name === 'IdempotencyValidationError') {
    return unprocessable(
      'idempotency-key-reused',
      'This Idempotency-Key was already used with a different request body.',
    );
  }
  if (name === 'IdempotencyAlreadyInProgressError') {
    return conflict(
      'idempotency-request-in-progress',
      'A request with this Idempotency-Key is still being processed.',
    );
  }
  return error;
}
