import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthorizer } from '../../../functions/auth-verify/authorizer';
import { type RunningGateway, startGateway } from '../../../infra/local/gateway';
import type { FunctionHost, HubModel } from '../../../infra/local/model';
import { loadHubModel } from '../../../infra/local/template';
import { RATE_LIMITS } from '../../../infra/rate-limits';
import { ClientRegistry } from '../../../shared/client-registry';
import { NO_BUNDLING, type SynthesisedHub, synthHub } from '../../infra/synth';

/**
 * The local gateway over HTTP, running the routes, authorizer and usage plans of the real dev template (synthesised
 * without bundles) with the real authorizer handler and the development client registry. Route functions echo.
 */
const devClientsFile = join(import.meta.dirname, '../../../infra/local/clients.dev.json');

let hub: SynthesisedHub;
let model: HubModel;
let gateway: RunningGateway;
let registry: ClientRegistry;
let authorizerKey: string;
let calls: string[] = [];
const base = () => `http://127.0.0.1:${gateway.port}`;

const concretePath = (resourcePath: string) => resourcePath.replace(/\{[^}]+\}/g, '330000%3A1');

beforeAll(async () => {
  hub = synthHub({ ...NO_BUNDLING, 'zwfw:stage': 'dev' });
  model = loadHubModel(hub.outdir, { sqsEndpoint: 'http://127.0.0.1:9', warn: () => {} });
  registry = ClientRegistry.parse(await readFile(devClientsFile, 'utf8'));
  const authorizer = createAuthorizer({
    registry: async () => registry,
    logger: { info: () => {}, warn: () => {} } as never,
  });
  authorizerKey = model.routes.find((route) => route.authorizer)?.authorizer?.functionKey ?? '';
  const host: FunctionHost = {
    invoke: async (functionKey, event) => {
      calls.push(functionKey);
      if (functionKey === authorizerKey) return authorizer(event as APIGatewayRequestAuthorizerEvent);
      const { requestContext } = event as APIGatewayProxyEvent;
      return {
        statusCode: 200,
        body: JSON.stringify({
          authorizer: requestContext.authorizer,
          apiKey: requestContext.identity.apiKey,
        }),
      };
    },
    stop: async () => {},
  };
  // A clock that stands still: no bucket refills while the test counts requests.
  const frozen = Date.now();
  gateway = await startGateway({
    model,
    host,
    port: 0,
    isReady: () => true,
    clock: () => frozen,
    log: () => {},
  });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  hub?.cleanUp();
});

beforeEach(() => {
  calls = [];
});

const client = (clientId: string) => {
  const found = registry.findByClientId(clientId);
  if (!found) throw new Error(`no dev client ${clientId}`);
  return found;
};

describe('the dev template through the local gateway', () => {
  it('refuses every route but the unsigned ones (JWKS, published assessments) without X-Hub-Key, before any function runs', async () => {
    const open: string[] = [];
    for (const route of model.routes) {
      const response = await fetch(`${base()}${concretePath(route.resourcePath)}`, { method: route.method });
      if (response.status !== 401) {
        open.push(`${route.method} ${route.resourcePath}`);
        continue;
      }
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(await response.json()).toMatchObject({
        type: 'urn:zwfw-hub:problem:signature-invalid',
        status: 401,
      });
    }
    // The public cloud's published assessments are non-personal and unsigned by design (WAF-limited).
    expect(open).toEqual([
      'GET /.well-known/jwks.json',
      'GET /v1/public/assessments',
      'GET /v1/public/assessments/{period}',
    ]);
    // Only the unsigned routes' functions ran, once each: no authorizer and no guarded function was called.
    const unsignedFunctions = model.routes
      .filter((route) => !route.authorizer)
      .map((route) => route.functionKey);
    expect(calls).toEqual(unsignedFunctions);
    expect(unsignedFunctions).toHaveLength(3);
  });

  it('refuses an unknown access key with the same 401', async () => {
    const response = await fetch(`${base()}/v1/cases/330000%3A1`, {
      headers: { 'X-Hub-Key': 'AKDEVNOBODY' },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ type: 'urn:zwfw-hub:problem:signature-invalid' });
    expect(calls).toEqual([authorizerKey]);
  });

  it('hands the function the client the authorizer named, and meters it by its API key', async () => {
    const zhejiang = client('region-330000');
    const response = await fetch(`${base()}/v1/cases/330000%3A1`, {
      headers: { 'X-Hub-Key': zhejiang.accessKeyId },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      authorizer: {
        principalId: 'region-330000',
        clientId: 'region-330000',
        kind: 'region',
        regionCode: '330000',
        departmentCode: '',
        scopes: zhejiang.scopes.join(' '),
      },
      apiKey: zhejiang.apiKey,
    });
  });

  it('throttles a client over the burst of its kind, as infra/rate-limits.ts says, and no one else', async () => {
    const issuer = client('issuer-330000-amr');
    const { burstLimit } = RATE_LIMITS.issuer;
    const statuses: number[] = [];
    for (let i = 0; i <= burstLimit; i++) {
      const response = await fetch(`${base()}/v1/identity/verifications`, {
        method: 'POST',
        headers: { 'X-Hub-Key': issuer.accessKeyId },
      });
      statuses.push(response.status);
      if (response.status === 429) {
        expect(response.headers.get('retry-after')).toBe('1');
        expect(await response.json()).toMatchObject({ type: 'urn:zwfw-hub:problem:too-many-requests' });
      } else {
        await response.arrayBuffer();
      }
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(burstLimit);
    expect(statuses.at(-1)).toBe(429);
    const region = client('region-110000');
    const other = await fetch(`${base()}/v1/cases/110000%3A1`, {
      headers: { 'X-Hub-Key': region.accessKeyId },
    });
    expect(other.status).toBe(200);
  });
});
