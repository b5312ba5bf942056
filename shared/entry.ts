import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type AnyRouteContract, routeKey } from './contract';
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
 * `GET /v1/cases/{caseId}`) from handlers built lazily by `build`. The routes are the contracts' (shared/
 * contract.ts), by handler name: a route has no handler without a contract. A build failure is logged and
 * answered as a bare 500 problem: the caller learns nothing of the configuration.
 */
export function routedHandler<Name extends string>(options: {
  name: string;
  contracts: Record<Name, Pick<AnyRouteContract, 'method' | 'path'>>;
  build: () => Promise<Record<Name, RouteHandler>>;
}): RouteHandler {
  const handlers = once(options.build);
  const routes = new Map<string, Name>();
  for (const [name, contract] of Object.entries(options.contracts) as [Name, AnyRouteContract][]) {
    if (routes.has(routeKey(contract))) throw new Error(`${options.name}: ${routeKey(contract)} twice`);
    routes.set(routeKey(contract), name);
  }
  return async (event, context) => {
    const route = routes.get(`${event.httpMethod} ${event.resource}`);
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
