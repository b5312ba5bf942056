import { describe, expect, it } from 'vitest';
import {
  buildAuthorizerEvent,
  buildProxyEvent,
  globMatches,
  identityValues,
  judgeAuthorizerResult,
  matchRoute,
  methodArnOf,
} from '../../../infra/local/apigw-event';
import type { RouteModel } from '../../../infra/local/model';

const route: RouteModel = {
  apiKey: 'zwfw-dev-private/PrivateApi',
  method: 'GET',
  resourcePath: '/v1/cases/{caseId}',
  functionKey: 'fn',
};

function proxyEvent(headers: string[] = ['X-Hub-Key', 'AKDEVREGION330000']) {
  const match = matchRoute([route], 'GET', '/v1/cases/330000%3A1');
  if (match.kind !== 'matched') throw new Error('route did not match');
  return buildProxyEvent(
    {
      method: 'GET',
      url: '/v1/cases/330000%3A1?view=full',
      rawHeaders: ['Host', 'localhost', ...headers],
      body: Buffer.from('{"secret":"body"}'),
      sourceIp: '127.0.0.1',
      correlationId: 'corr-1',
      receivedAt: new Date('2026-11-21T02:00:00Z'),
    },
    match,
  );
}

const allow = (resource: string | string[], extra: Record<string, unknown> = {}) => ({
  principalId: 'region-330000',
  policyDocument: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: resource }],
  },
  ...extra,
});

describe('methodArnOf', () => {
  it('names API, stage, method and the path as sent', () => {
    const event = proxyEvent();
    expect(methodArnOf(event)).toBe(
      `arn:aws:execute-api:us-east-1:000000000000:${event.requestContext.apiId}/local/GET/v1/cases/330000%3A1`,
    );
  });
});

describe('identityValues', () => {
  it('reads identity headers in any case and refuses a missing or empty one', () => {
    expect(identityValues({ 'x-hub-key': 'AK1' }, ['X-Hub-Key'])).toEqual(['AK1']);
    expect(identityValues({ 'X-Hub-Key': '' }, ['X-Hub-Key'])).toBeUndefined();
    expect(identityValues({ Host: 'h' }, ['X-Hub-Key'])).toBeUndefined();
    expect(identityValues({ A: '1' }, ['A', 'B'])).toBeUndefined();
    expect(identityValues({}, [])).toEqual([]);
  });
});

describe('buildAuthorizerEvent', () => {
  it('gives a REQUEST authorizer the request without its body', () => {
    const event = proxyEvent();
    const authorizerEvent = buildAuthorizerEvent({ type: 'REQUEST', identityHeaders: ['X-Hub-Key'] }, event);
    expect(authorizerEvent).toMatchObject({
      type: 'REQUEST',
      methodArn: methodArnOf(event),
      resource: '/v1/cases/{caseId}',
      path: '/v1/cases/330000%3A1',
      httpMethod: 'GET',
      headers: { 'X-Hub-Key': 'AKDEVREGION330000' },
      pathParameters: { caseId: '330000%3A1' },
      queryStringParameters: { view: 'full' },
      requestContext: { stage: 'local', resourcePath: '/v1/cases/{caseId}' },
    });
    expect(authorizerEvent).not.toHaveProperty('body');
    expect(JSON.stringify(authorizerEvent)).not.toContain('secret');
  });

  it('gives a TOKEN authorizer the identity header as the token', () => {
    const event = proxyEvent(['Authorization', 'Bearer abc']);
    expect(buildAuthorizerEvent({ type: 'TOKEN', identityHeaders: ['Authorization'] }, event)).toEqual({
      type: 'TOKEN',
      methodArn: methodArnOf(event),
      authorizationToken: 'Bearer abc',
    });
  });
});

describe('judgeAuthorizerResult', () => {
  const arn = 'arn:aws:execute-api:us-east-1:000000000000:abc/local/GET/v1/cases/330000%3A1';

  it('allows what a stage-wide Allow covers, with the context as strings plus principalId', () => {
    const verdict = judgeAuthorizerResult(
      allow('arn:aws:execute-api:us-east-1:000000000000:abc/local/*/*', {
        context: { clientId: 'region-330000', limit: 3, internal: false },
        usageIdentifierKey: 'dev-apikey-region-330000',
      }),
      arn,
    );
    expect(verdict).toEqual({
      kind: 'allow',
      principalId: 'region-330000',
      context: { clientId: 'region-330000', limit: '3', internal: 'false', principalId: 'region-330000' },
      usageIdentifierKey: 'dev-apikey-region-330000',
    });
  });

  it('denies a route the Allow does not name, and whenever a Deny matches', () => {
    expect(
      judgeAuthorizerResult(allow('arn:aws:execute-api:us-east-1:000000000000:abc/local/POST/*'), arn),
    ).toEqual({ kind: 'deny' });
    const withDeny = allow('*');
    withDeny.policyDocument.Statement.push({ Effect: 'Deny', Action: 'execute-api:*', Resource: arn });
    expect(judgeAuthorizerResult(withDeny, arn)).toEqual({ kind: 'deny' });
    const otherAction = allow('*');
    otherAction.policyDocument.Statement[0] = { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' };
    expect(judgeAuthorizerResult(otherAction, arn)).toEqual({ kind: 'deny' });
  });

  it.each([
    ['no object', null],
    ['no principalId', { policyDocument: { Statement: [] } }],
    ['no statements', { principalId: 'p', policyDocument: {} }],
    ['an object in the context', allow('*', { context: { nested: { a: 1 } } })],
  ])('calls %s an invalid result', (_, result) => {
    expect(judgeAuthorizerResult(result, arn)).toMatchObject({ kind: 'invalid' });
  });
});

describe('globMatches', () => {
  it('matches * across slashes and ? as one character, everything else literally', () => {
    expect(globMatches('arn:x:abc/dev/*/*', 'arn:x:abc/dev/GET/v1/cases/1')).toBe(true);
    expect(globMatches('arn:x:abc/dev/*/*', 'arn:x:abc/prod/GET/v1')).toBe(false);
    expect(globMatches('a?c', 'abc')).toBe(true);
    expect(globMatches('a.c', 'abc')).toBe(false);
    expect(globMatches('execute-api:*', 'execute-api:Invoke')).toBe(true);
  });
});
