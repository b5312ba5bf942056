import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rectificationTransitionedV1 } from '../../../events/rectification-transitioned.v1';
import { defaultDeadlineSettings } from '../../../functions/evaluation-ingest/domain/deadlines';
import type { RectificationEvent } from '../../../functions/evaluation-ingest/domain/ticket';
import {
  createRectificationApi,
  handler,
  type RectificationApiDependencies,
} from '../../../functions/evaluation-ingest/rectification-api';
import { createTicketStore, openTicketItem } from '../../../functions/evaluation-ingest/ticket-store';
import { ClientRegistry } from '../../../shared/client-registry';
import type { HttpDependencyOverrides } from '../../../shared/http';
import { NonceStore } from '../../../shared/nonce-store';
import { lambdaContext, signedApiEvent } from '../../support/api-gateway';
import { localDynamo, scratchTables } from '../../support/dynamo';
import { DEPARTMENT, ticketInput } from '../../unit/evaluation-ingest/ticket-fixtures';
import { createTicketsTable } from './tickets-table';

/** The rectification API through hand-built, signed API Gateway events, against DynamoDB Local. */
const dynamo = localDynamo();
const scratch = scratchTables(dynamo.client);
const NOW = new Date('2026-11-17T10:00:00+08:00');
let registry: ClientRegistry;
let tickets: string;
let api: ReturnType<typeof createRectificationApi>;
const published: RectificationEvent[] = [];
let http: HttpDependencyOverrides;

function apiDependencies(): RectificationApiDependencies {
  const store = createTicketStore({ doc: dynamo.doc, tableName: tickets });
  return {
    store: () => store,
    publish: () => async (events) => {
      published.push(...events);
    },
    deadlines: () => defaultDeadlineSettings,
    clock: () => NOW,
    http,
  };
}

const ZHEJIANG = 'AKDEVREGION330000';
const GUANGDONG = 'AKDEVREGION440000';
const MINISTRY = 'AKDEVMINISTRYMPS';
const APP = 'AKDEVAPPCITIZEN';
const COUNTY = 'AKTESTCOUNTY330106';
const MPS_DEPARTMENT = '11100000000013338W';

beforeAll(async () => {
  // The dev registry plus a county platform of Zhejiang (the dev registry has provincial ones only).
  const dev = JSON.parse(
    await readFile(join(import.meta.dirname, '../../../infra/local/clients.dev.json'), 'utf8'),
  ) as { clients: Record<string, unknown>[] };
  dev.clients.push({
    clientId: 'region-330106',
    accessKeyId: COUNTY,
    secret: 'test-only-county-330106-secret-do-not-use',
    kind: 'region',
    name: 'Xihu district platform',
    regionCode: '330106',
    scopes: ['cases:read', 'evaluations:write'],
    apiKey: 'test-apikey-region-330106',
  });
  registry = ClientRegistry.parse(JSON.stringify(dev));
  const [nonces, idempotency] = await Promise.all([
    scratch.create('nonces'),
    scratch.create('idempotency', { keySchema: ['id'] }),
  ]);
  tickets = await createTicketsTable(dynamo.client);
  http = {
    clientRegistry: async () => registry,
    nonces: new NonceStore(dynamo.doc, nonces, () => NOW),
    idempotency: new DynamoDBPersistenceLayer({ tableName: idempotency, awsSdkV3Client: dynamo.client }),
    clock: () => NOW,
  };
  api = createRectificationApi(apiDependencies());
  const open = (evaluationId: string, regionCode: string, departmentCode = DEPARTMENT) =>
    dynamo.doc.send(
      new PutCommand(
        openTicketItem(
          ticketInput({ evaluationId, regionCode, departmentCode, caseId: `${regionCode}:${evaluationId}` }),
          {
            tableName: tickets,
            deadlines: defaultDeadlineSettings,
          },
        ).Put,
      ),
    );
  await Promise.all([
    open('api-life', '330106'),
    open('api-appeal', '330106'),
    open('api-race', '330106'),
    open('api-mps', '110105', MPS_DEPARTMENT),
    open('api-gd', '440106'),
    open('api-ningbo', '330203'),
  ]);
});

afterAll(async () => {
  await dynamo.client.send(new DeleteTableCommand({ TableName: tickets }));
  await scratch.dropAll();
});

const context = lambdaContext;

function signed(
  accessKeyId: string,
  method: string,
  resource: string,
  path: string,
  options: { body?: string; query?: Record<string, string>; pathParameters?: Record<string, string> } = {},
): APIGatewayProxyEvent {
  return signedApiEvent(registry, accessKeyId, {
    method,
    path,
    resource,
    body: options.body ?? null,
    query: options.query ?? null,
    pathParameters: options.pathParameters ?? null,
    jsonContentType: Boolean(options.body),
    now: NOW,
  });
}

const TRANSITION_RESOURCE = '/v1/rectifications/{evaluationId}/transitions';
const transitionEvent = (accessKeyId: string, evaluationId: string, body: unknown) =>
  signed(accessKeyId, 'POST', TRANSITION_RESOURCE, `/v1/rectifications/${evaluationId}/transitions`, {
    body: JSON.stringify(body),
    pathParameters: { evaluationId },
  });
const transition = (accessKeyId: string, evaluationId: string, body: unknown) =>
  api.transition(transitionEvent(accessKeyId, evaluationId, body), context());
const list = (accessKeyId: string, query: Record<string, string> = {}) =>
  api.list(signed(accessKeyId, 'GET', '/v1/rectifications', '/v1/rectifications', { query }), context());
const json = (response: APIGatewayProxyResult) => JSON.parse(response.body);

describe('POST /v1/rectifications/{evaluationId}/transitions', () => {
  it('open → verified → rectified → revisited by the province platform, one event per transition', async () => {
    for (const body of [
      { to: 'verified', note: '已联系窗口核实' },
      { to: 'rectified' },
      { to: 'revisited', reached: true, satisfaction: 'satisfied' },
    ]) {
      const response = await transition(ZHEJIANG, 'api-life', body);
      expect(response.statusCode).toBe(200);
      expect(json(response).status).toBe(body.to);
    }
    const events = published.filter((e) => e.detail.evaluationId === 'api-life');
    expect(events.map((e) => [e.detailType, 'to' in e.detail ? e.detail.to : e.detail.stage])).toEqual([
      ['RectificationTransitioned', 'verified'],
      ['RectificationTransitioned', 'rectified'],
      ['RectificationTransitioned', 'revisited'],
    ]);
    const last = rectificationTransitionedV1.parse(events[2]?.detail);
    expect(last).toMatchObject({ by: 'region-330000', at: NOW.toISOString(), satisfaction: 'satisfied' });
    expect(JSON.stringify(events)).not.toContain('已联系窗口核实');
  });

  it('an invalid transition is a 409 problem naming the status', async () => {
    const response = await transition(ZHEJIANG, 'api-life', { to: 'rectified' });
    expect(response.statusCode).toBe(409);
    expect(json(response)).toMatchObject({
      type: 'urn:zwfw-hub:problem:rectification-transition-not-allowed',
      status: 409,
      to: 'rectified',
    });
  });

  it('appealed → dismissed with the finding kept', async () => {
    expect((await transition(ZHEJIANG, 'api-appeal', { to: 'appealed' })).statusCode).toBe(200);
    const dismissed = await transition(ZHEJIANG, 'api-appeal', { to: 'dismissed', finding: 'malicious' });
    expect(dismissed.statusCode).toBe(200);
    expect(json(dismissed).dismissal).toEqual({
      finding: 'malicious',
      by: 'region-330000',
      at: NOW.toISOString(),
    });
  });

  it('only the responsible platform: another province or ministry sees no ticket; the handling ministry may act', async () => {
    expect((await transition(GUANGDONG, 'api-race', { to: 'verified' })).statusCode).toBe(404);
    expect((await transition(MINISTRY, 'api-race', { to: 'verified' })).statusCode).toBe(404);
    expect((await transition(ZHEJIANG, 'no-such-ticket', { to: 'verified' })).statusCode).toBe(404);
    expect((await transition(MINISTRY, 'api-mps', { to: 'verified' })).statusCode).toBe(200);
    expect((await transition(APP, 'api-race', { to: 'verified' })).statusCode).toBe(403);
  });

  it('a body missing what its target needs is 422 with a pointer', async () => {
    const response = await transition(ZHEJIANG, 'api-race', { to: 'revisited' });
    expect(response.statusCode).toBe(422);
    expect(json(response).errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: '/body/reached' })]),
    );
  });

  it('two concurrent transitions that read the same version: one wins, the other is 409', async () => {
    // Both requests read the ticket before either writes: a barrier in front of the real store's get.
    const store = createTicketStore({ doc: dynamo.doc, tableName: tickets });
    let readers = 0;
    let release: () => void = () => {};
    const bothRead = new Promise<void>((resolve) => {
      release = resolve;
    });
    const racingApi = createRectificationApi({
      ...apiDependencies(),
      store: () => ({
        ...store,
        get: async (evaluationId) => {
          const ticket = await store.get(evaluationId);
          readers += 1;
          if (readers === 2) release();
          await bothRead;
          return ticket;
        },
      }),
    });
    const responses = await Promise.all([
      racingApi.transition(transitionEvent(ZHEJIANG, 'api-race', { to: 'verified' }), context()),
      racingApi.transition(transitionEvent(ZHEJIANG, 'api-race', { to: 'appealed' }), context()),
    ]);
    expect(responses.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    const refused = responses.find((r) => r.statusCode === 409);
    expect(refused && json(refused).type).toBe('urn:zwfw-hub:problem:rectification-changed');
    const ticket = json(await list(ZHEJIANG, { limit: '100' })).items.find(
      (t: { evaluationId: string }) => t.evaluationId === 'api-race',
    );
    expect(ticket.transitions).toHaveLength(1);
    expect(published.filter((e) => e.detail.evaluationId === 'api-race')).toHaveLength(1);
  });

  it('the routed handler refuses an unknown route without configuration', async () => {
    const response = await handler(
      signed(ZHEJIANG, 'DELETE', '/v1/rectifications', '/v1/rectifications'),
      context(),
    );
    expect(response.statusCode).toBe(404);
  });
});

describe('GET /v1/rectifications', () => {
  it('a region client lists its own province, filtered by status and overdue', async () => {
    const mine = json(await list(ZHEJIANG, { limit: '100' }));
    const ids = mine.items.map((t: { evaluationId: string }) => t.evaluationId);
    expect(ids).toEqual(expect.arrayContaining(['api-life', 'api-appeal']));
    expect(ids).not.toContain('api-gd');
    expect(JSON.stringify(mine)).not.toContain('evaluatorIdHmac');
    const revisited = json(await list(ZHEJIANG, { status: 'revisited' }));
    expect(revisited.items.map((t: { evaluationId: string }) => t.evaluationId)).toEqual(['api-life']);
    expect(json(await list(ZHEJIANG, { overdue: 'true' })).items).toEqual([]);
  });

  it('refuses another province to a region client; a ministry lists the nation', async () => {
    expect((await list(ZHEJIANG, { region: '440000' })).statusCode).toBe(403);
    const nation = json(await list(MINISTRY, { limit: '100' }));
    expect(nation.items.map((t: { evaluationId: string }) => t.evaluationId)).toEqual(
      expect.arrayContaining(['api-gd', 'api-mps', 'api-life']),
    );
    const guangdong = json(await list(MINISTRY, { region: '440106' }));
    expect(guangdong.items.map((t: { evaluationId: string }) => t.evaluationId)).toEqual(['api-gd']);
  });

  it('a county platform lists its own county only, and may not widen it to the province', async () => {
    const county = json(await list(COUNTY, { limit: '100' }));
    const ids = county.items.map((t: { evaluationId: string }) => t.evaluationId);
    expect(ids).toEqual(expect.arrayContaining(['api-life', 'api-appeal']));
    expect(ids).not.toContain('api-ningbo');
    expect(
      json(await list(ZHEJIANG, { limit: '100' })).items.map((t: { evaluationId: string }) => t.evaluationId),
    ).toContain('api-ningbo');
    expect((await list(COUNTY, { region: '330000' })).statusCode).toBe(403);
    expect((await list(COUNTY, { region: '330203' })).statusCode).toBe(403);
  });

  it('pages with a cursor and refuses a malformed query or cursor with 422', async () => {
    const first = json(await list(ZHEJIANG, { limit: '1' }));
    expect(first.items).toHaveLength(1);
    const second = json(await list(ZHEJIANG, { limit: '1', cursor: first.cursor }));
    expect(second.items[0].evaluationId).not.toBe(first.items[0].evaluationId);
    expect((await list(ZHEJIANG, { cursor: 'garbage' })).statusCode).toBe(422);
    expect((await list(ZHEJIANG, { status: 'closed' })).statusCode).toBe(422);
    expect((await list(ZHEJIANG, { overdue: 'yes' })).statusCode).toBe(422);
    expect((await list(ZHEJIANG, { limit: '0' })).statusCode).toBe(422);
  });
});
