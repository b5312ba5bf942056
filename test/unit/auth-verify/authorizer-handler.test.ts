import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizer } from '../../../functions/auth-verify/authorizer';
import { ClientRegistry } from '../../../shared/client-registry';

const devFile = join(import.meta.dirname, '../../../infra/local/clients.dev.json');
const METHOD_ARN = 'arn:aws:execute-api:cn-north-1:123456789012:a1b2c3d4e5/dev/GET/v1/cases/330000%3A1';

/** A REQUEST authorizer event as API Gateway sends it for `GET /v1/cases/{caseId}`. */
function authorizerEvent(headers: Record<string, string>): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    resource: '/v1/cases/{caseId}',
    path: '/v1/cases/330000%3A1',
    httpMethod: 'GET',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    pathParameters: { caseId: '330000%3A1' },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {
      requestId: 'req-1',
      stage: 'dev',
    } as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

let registry: ClientRegistry;
const logs: { level: string; message: string; fields: Record<string, unknown> }[] = [];
const logger = {
  info: (message: string, fields: Record<string, unknown>) => logs.push({ level: 'info', message, fields }),
  warn: (message: string, fields: Record<string, unknown>) => logs.push({ level: 'warn', message, fields }),
};

beforeAll(async () => {
  registry = ClientRegistry.parse(await readFile(devFile, 'utf8'));
});

const authorizer = () => createAuthorizer({ registry: async () => registry, logger: logger as never });

describe('authorizer handler', () => {
  it('allows a development client with its context and API key', async () => {
    const result = await authorizer()(
      authorizerEvent({ Host: 'api', 'x-hub-key': 'AKDEVREGION330000', 'X-Hub-Nonce': 'n' }),
    );
    expect(result).toMatchObject({
      principalId: 'region-330000',
      usageIdentifierKey: 'dev-apikey-region-330000',
      context: {
        clientId: 'region-330000',
        kind: 'region',
        regionCode: '330000',
        departmentCode: '',
        scopes: expect.stringContaining('cases:write'),
      },
    });
    expect(result.policyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'execute-api:Invoke',
        Resource: 'arn:aws:execute-api:cn-north-1:123456789012:a1b2c3d4e5/dev/*/*',
      },
    ]);
  });

  it.each([
    ['an unknown access key', { 'X-Hub-Key': 'AKDEVNOBODY' }],
    ['no access key', { Host: 'api' }],
  ])('throws Unauthorized for %s and never logs the key', async (_, headers) => {
    logs.length = 0;
    await expect(authorizer()(authorizerEvent(headers))).rejects.toThrow(/^Unauthorized$/);
    expect(logs).toEqual([expect.objectContaining({ level: 'warn', message: 'client refused' })]);
    expect(JSON.stringify(logs)).not.toContain('AKDEVNOBODY');
  });

  it('refuses a registered client that has no API key to be metered by', async () => {
    const unmetered = ClientRegistry.parse({
      clients: [
        {
          clientId: 'app-x',
          accessKeyId: 'AKAPPX',
          secret: 's'.repeat(40),
          kind: 'app',
          name: 'App without an API key',
          scopes: ['tokens:introspect'],
        },
      ],
    });
    const handler = createAuthorizer({ registry: async () => unmetered, logger: logger as never });
    await expect(handler(authorizerEvent({ 'X-Hub-Key': 'AKAPPX' }))).rejects.toThrow('Unauthorized');
  });
});
