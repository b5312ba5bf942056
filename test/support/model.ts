import type { HubModel, RouteModel } from '../../infra/local/model';

/** A HubModel with no resources at all, plus whatever a test sets. */
export const emptyModel = (overrides: Partial<HubModel> = {}): HubModel => ({
  tables: [],
  queues: [],
  buckets: [],
  buses: [],
  rules: [],
  schedules: [],
  functions: [],
  eventSourceMappings: [],
  routes: [],
  outputs: {},
  ...overrides,
});

/** The private API's two case routes, as the gateway tests route them. */
export const privateCaseRoutes: RouteModel[] = [
  {
    apiKey: 'private/Api',
    method: 'POST',
    resourcePath: '/v1/cases:batch',
    functionKey: 'private/IngestFn',
  },
  {
    apiKey: 'private/Api',
    method: 'GET',
    resourcePath: '/v1/cases/{caseId}',
    functionKey: 'private/GetCaseFn',
  },
];
