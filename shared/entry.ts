import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { logger } from './observability';
import { internalError, notFound, toProblemResponse } from './problem';

/**
 * What every entry point needs around its handlers: dependencies built on first use (so importing a module
 * in tests or during synth needs no environment), and one Lambda serving several routes of the REST API.
 */

/** Builds once and shares the result; a failed build (a secret not readable yet) is tried again next call. */
export function once<T>(build: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= build().catch((error: unknown) => {
      value = undefined;
      throw error;
    });
    return value;
  };
}

type RouteHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * A Lambda handler that picks the route's handler by `{METHOD} {resource}` (API Gateway's resource path, e.g.
 * `GET /v1/cases/{caseId}`) from handlers built lazily by `build`. A build failure is logged and answered as
 * a bare 500 problem: the caller learns nothing of the configuration.
 */
export function routedHandler<Name extends string>(options: {
  name: string;
  routes: Record<string, Name>;
  build: () => Promise<Record<Name, RouteHandler>>;
}): RouteHandler {
  const handlers = once(options.build);
  return async (event, context) => {
    const route = options.routes[`${event.httpMethod} ${event.resource}`];
    if (!route) return toProblemResponse(notFound('route-not-found', 'No such route.'));
    let built: Record<Name, RouteHandler>;
    try {
      built = await handlers();
    } catch (error) {
      logger.error(`${options.name} not configured`, error as Error);
      return toProblemResponse(internalError());
    }
    return built[route](event, context);
  };
}
