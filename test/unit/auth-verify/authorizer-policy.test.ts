import { describe, expect, it } from 'vitest';
import {
  type AuthorizerClient,
  accessKeyOf,
  authorizerContextOf,
  decide,
  stageWideResource,
} from '../../../functions/auth-verify/domain/authorizer-policy';

const METHOD_ARN = 'arn:aws:execute-api:cn-north-1:123456789012:a1b2c3d4e5/dev/POST/v1/cases:batch';

const zhejiang: AuthorizerClient = {
  clientId: 'region-330000',
  kind: 'region',
  regionCode: '330000',
  scopes: ['cases:write', 'cases:read'],
  apiKey: 'dev-apikey-region-330000',
};

describe('stageWideResource', () => {
  it('widens a method ARN to every method and path of the same API and stage', () => {
    expect(stageWideResource(METHOD_ARN)).toBe(
      'arn:aws:execute-api:cn-north-1:123456789012:a1b2c3d4e5/dev/*/*',
    );
    expect(
      stageWideResource('arn:aws-cn:execute-api:cn-north-1:123456789012:xyz/prod/GET/v1/cases/330000%3A1'),
    ).toBe('arn:aws-cn:execute-api:cn-north-1:123456789012:xyz/prod/*/*');
  });

  it('refuses what is not an execute-api method ARN', () => {
    expect(() => stageWideResource('arn:aws:lambda:cn-north-1:123456789012:function:x')).toThrow(
      /method ARN/,
    );
    expect(() => stageWideResource('')).toThrow(/method ARN/);
  });
});

describe('accessKeyOf', () => {
  it('reads X-Hub-Key in any case and treats an empty value as absent', () => {
    expect(accessKeyOf({ 'x-hub-key': 'AK1' })).toBe('AK1');
    expect(accessKeyOf({ 'X-HUB-KEY': 'AK2', Host: 'h' })).toBe('AK2');
    expect(accessKeyOf({ 'X-Hub-Key': '' })).toBeUndefined();
    expect(accessKeyOf({ Host: 'h' })).toBeUndefined();
    expect(accessKeyOf(null)).toBeUndefined();
  });
});

describe('authorizerContextOf', () => {
  it('flattens the client into strings, empty where the client has no such code', () => {
    expect(authorizerContextOf(zhejiang)).toEqual({
      clientId: 'region-330000',
      kind: 'region',
      regionCode: '330000',
      departmentCode: '',
      scopes: 'cases:write cases:read',
    });
    const ministry = authorizerContextOf({
      clientId: 'ministry-mps',
      kind: 'ministry',
      departmentCode: '11100000000013338W',
      scopes: [],
    });
    expect(ministry).toMatchObject({ regionCode: '', departmentCode: '11100000000013338W', scopes: '' });
    expect(Object.values(ministry).every((value) => typeof value === 'string')).toBe(true);
  });
});

describe('decide', () => {
  it('allows a known client on the whole stage, metered by its API key', () => {
    const decision = decide('AKDEVREGION330000', zhejiang, METHOD_ARN);
    expect(decision).toEqual({
      kind: 'allow',
      result: {
        principalId: 'region-330000',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'execute-api:Invoke',
              Resource: 'arn:aws:execute-api:cn-north-1:123456789012:a1b2c3d4e5/dev/*/*',
            },
          ],
        },
        context: authorizerContextOf(zhejiang),
        usageIdentifierKey: 'dev-apikey-region-330000',
      },
    });
  });

  it.each([
    ['no access key', undefined, zhejiang, 'access-key-missing'],
    ['an unknown access key', 'AKNOBODY', undefined, 'access-key-unknown'],
    [
      'a client without an API key',
      'AKDEVREGION330000',
      { ...zhejiang, apiKey: undefined },
      'api-key-missing',
    ],
  ] as const)('refuses %s', (_, key, client, reason) => {
    expect(decide(key, client, METHOD_ARN)).toEqual({ kind: 'unauthorized', reason });
  });
});
