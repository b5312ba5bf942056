import { beforeAll, describe, expect, it } from 'vitest';
import { respond } from '../../../infra/local/gateway';
import type { HubModel } from '../../../infra/local/model';
import { loadHubModel } from '../../../infra/local/template';
import { openApiDocument } from '../../../infra/openapi/document';
import { sharedAssembly } from '../../e2e/support/assembly';

/**
 * The routes the local hub serves are the synthesised templates' API methods (what deploys); the OpenAPI
 * document is the route contracts'. Any route on one side only — a construct mounting a path no contract
 * declares, or a contract no construct mounts — fails here.
 */
let model: HubModel;

beforeAll(async () => {
  const { assemblyDir } = await sharedAssembly();
  model = loadHubModel(assemblyDir, { sqsEndpoint: 'http://127.0.0.1:9', warn: () => {} });
}, 300_000);

const noFunctions = {
  invoke: async () => {
    throw new Error('no function is invoked for the hub documents');
  },
  stop: async () => {},
};

function request(method: string, url: string) {
  return {
    method,
    url,
    rawHeaders: [],
    body: Buffer.alloc(0),
    sourceIp: '127.0.0.1',
    correlationId: 'openapi-test-0001',
    receivedAt: new Date(),
  };
}

describe('the routes the local hub serves and the OpenAPI document', () => {
  it('are the same set of methods and paths', () => {
    const served = new Set(model.routes.map((route) => `${route.method} ${route.resourcePath}`));
    const documented = new Set(
      Object.entries(openApiDocument().paths as Record<string, Record<string, unknown>>).flatMap(
        ([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    expect(served.size).toBeGreaterThan(20);
    expect(
      [...served].filter((route) => !documented.has(route)),
      'served without a contract',
    ).toEqual([]);
    expect(
      [...documented].filter((route) => !served.has(route)),
      'documented but not served',
    ).toEqual([]);
  });

  it('leaves unauthorised exactly the routes whose contract has no security (JWKS, published assessments)', () => {
    const open = model.routes
      .filter((route) => !route.authorizer)
      .map((r) => `${r.method} ${r.resourcePath}`);
    const paths = openApiDocument().paths as Record<string, Record<string, { security: unknown[] }>>;
    const publicOperations = Object.entries(paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.security.length === 0)
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(open.sort()).toEqual(publicOperations.sort());
  });

  it('is served by the gateway at GET /openapi.json', async () => {
    const response = await respond(request('GET', '/openapi.json'), {
      model,
      host: noFunctions,
      isReady: () => true,
      log: () => {},
    });
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body.toString('utf8'))).toEqual(openApiDocument());
    const post = await respond(request('POST', '/openapi.json'), {
      model,
      host: noFunctions,
      isReady: () => true,
    });
    expect(post.statusCode).toBe(405);
  });
});
