import { describe, expect, it } from 'vitest';
import {
  buildProxyEvent,
  type IncomingRequest,
  isTextContentType,
  matchRoute,
  proxyResultToResponse,
} from '../../../infra/local/apigw-event';
import type { RouteModel } from '../../../infra/local/model';

const route = (
  method: string,
  resourcePath: string,
  functionKey = `fn ${method} ${resourcePath}`,
): RouteModel => ({
  apiKey: 'zwfw-dev-private/PrivateApi',
  method,
  resourcePath,
  functionKey,
});

const routes = [
  route('POST', '/v1/cases:batch'),
  route('GET', '/v1/cases/{caseId}'),
  route('GET', '/v1/cases/stats'),
  route('ANY', '/v1/{proxy+}'),
  route('GET', '/v1/licences'),
];

function matchedKey(method: string, path: string): string | undefined {
  const match = matchRoute(routes, method, path);
  return match.kind === 'matched' ? match.route.functionKey : match.kind;
}

describe('matchRoute', () => {
  it('treats cases:batch as one literal segment', () => {
    expect(matchedKey('POST', '/v1/cases:batch')).toBe('fn POST /v1/cases:batch');
  });

  it('prefers a literal segment over a path parameter', () => {
    expect(matchedKey('GET', '/v1/cases/stats')).toBe('fn GET /v1/cases/stats');
    expect(matchedKey('GET', '/v1/cases/330000%3A0001')).toBe('fn GET /v1/cases/{caseId}');
  });

  it('prefers a path parameter over a greedy proxy and falls back to the proxy for other methods', () => {
    expect(matchedKey('GET', '/v1/cases/x')).toBe('fn GET /v1/cases/{caseId}');
    expect(matchedKey('DELETE', '/v1/cases/x')).toBe('fn ANY /v1/{proxy+}');
    expect(matchedKey('GET', '/v1/a/b/c')).toBe('fn ANY /v1/{proxy+}');
  });

  it('prefers an explicit method over ANY on the same resource', () => {
    const both = [route('ANY', '/v1/things'), route('GET', '/v1/things')];
    const match = matchRoute(both, 'GET', '/v1/things');
    expect(match.kind === 'matched' && match.route.method).toBe('GET');
  });

  it('passes path parameters on as sent, still percent-encoded, as REST APIs do', () => {
    const match = matchRoute(routes, 'GET', '/v1/cases/330000%3A11%252F2');
    expect(match).toMatchObject({ kind: 'matched', pathParameters: { caseId: '330000%3A11%252F2' } });
  });

  it('keeps the slashes of a greedy parameter', () => {
    const match = matchRoute(routes, 'GET', '/v1/a/b%20c/d');
    expect(match).toMatchObject({ kind: 'matched', pathParameters: { proxy: 'a/b%20c/d' } });
  });

  it('says 405 with the allowed methods when only the method is wrong', () => {
    const noProxy = routes.filter((r) => r.method !== 'ANY');
    expect(matchRoute(noProxy, 'DELETE', '/v1/cases/1')).toEqual({
      kind: 'method-not-allowed',
      allow: ['GET'],
    });
    expect(matchRoute(noProxy, 'GET', '/v1/cases:batch')).toEqual({
      kind: 'method-not-allowed',
      allow: ['POST'],
    });
  });

  it('says not-found for unknown paths, extra segments and empty parameters', () => {
    expect(matchedKey('GET', '/v2/cases/1')).toBe('not-found');
    expect(matchedKey('GET', '/licences')).toBe('not-found');
    const noProxy = routes.filter((r) => r.method !== 'ANY');
    expect(matchRoute(noProxy, 'GET', '/v1/cases/1/extra').kind).toBe('not-found');
    expect(matchRoute(noProxy, 'GET', '/v1/cases/').kind).toBe('not-found');
  });
});

const request = (overrides: Partial<IncomingRequest> = {}): IncomingRequest => ({
  method: 'GET',
  url: '/v1/cases/330000%3A0001?b=2&a=1&a=x%20y',
  rawHeaders: ['Host', '127.0.0.1:3000', 'X-Hub-Key', 'AK1', 'accept', 'a', 'Accept', 'b'],
  body: Buffer.alloc(0),
  sourceIp: '127.0.0.1',
  correlationId: 'corr-1',
  receivedAt: new Date('2026-11-21T02:00:00.000Z'),
  ...overrides,
});

function eventFor(req: IncomingRequest) {
  const match = matchRoute(routes, req.method, req.url.split('?')[0] ?? '');
  if (match.kind !== 'matched') throw new Error('test route did not match');
  return buildProxyEvent(req, match);
}

describe('buildProxyEvent', () => {
  it('builds the REST v1 proxy event with the path and parameters as sent', () => {
    const event = eventFor(request());
    expect(event).toMatchObject({
      resource: '/v1/cases/{caseId}',
      path: '/v1/cases/330000%3A0001',
      httpMethod: 'GET',
      pathParameters: { caseId: '330000%3A0001' },
      stageVariables: null,
      body: null,
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        resourcePath: '/v1/cases/{caseId}',
        httpMethod: 'GET',
        stage: 'local',
        path: '/v1/cases/330000%3A0001',
        requestTimeEpoch: Date.parse('2026-11-21T02:00:00.000Z'),
        requestTime: '21/Nov/2026:02:00:00 +0000',
        identity: { sourceIp: '127.0.0.1' },
      },
    });
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps the last query value singly and every value in order', () => {
    const event = eventFor(request());
    expect(event.queryStringParameters).toEqual({ a: 'x y', b: '2' });
    expect(event.multiValueQueryStringParameters).toEqual({ a: ['1', 'x y'], b: ['2'] });
    expect(eventFor(request({ url: '/v1/cases/1' })).queryStringParameters).toBeNull();
  });

  it('keeps header names as sent and repeats in multiValueHeaders', () => {
    const event = eventFor(request());
    expect(event.headers['X-Hub-Key']).toBe('AK1');
    expect(event.headers.Accept).toBe('b');
    expect(event.multiValueHeaders.accept).toEqual(['a']);
    expect(event.multiValueHeaders.Accept).toEqual(['b']);
  });

  it('adds the correlation id only when the client sent none', () => {
    expect(eventFor(request()).headers['X-Correlation-Id']).toBe('corr-1');
    const sent = eventFor(request({ rawHeaders: ['x-correlation-id', 'from-client'] }));
    expect(sent.headers['x-correlation-id']).toBe('from-client');
    expect(sent.headers['X-Correlation-Id']).toBeUndefined();
  });

  it('passes text bodies as utf-8 and binary bodies as base64', () => {
    const json = eventFor(
      request({
        method: 'POST',
        url: '/v1/cases:batch',
        rawHeaders: ['Content-Type', 'application/json; charset=utf-8'],
        body: Buffer.from('{"名":1}'),
      }),
    );
    expect(json).toMatchObject({ body: '{"名":1}', isBase64Encoded: false });

    const bytes = Buffer.from([0, 255, 16, 128]);
    const binary = eventFor(
      request({
        method: 'POST',
        url: '/v1/cases:batch',
        rawHeaders: ['Content-Type', 'application/pdf'],
        body: bytes,
      }),
    );
    expect(binary).toMatchObject({ body: bytes.toString('base64'), isBase64Encoded: true });
  });
});

describe('isTextContentType', () => {
  it.each([
    ['application/json', true],
    ['application/problem+json', true],
    ['application/vnd.api+json; charset=utf-8', true],
    ['text/csv', true],
    [undefined, true],
    ['application/octet-stream', false],
    ['image/png', false],
    ['multipart/form-data; boundary=x', false],
  ])('%s → %s', (contentType, text) => {
    expect(isTextContentType(contentType)).toBe(text);
  });
});

describe('proxyResultToResponse', () => {
  it('merges headers, defaults the content type to JSON and echoes the correlation id', () => {
    const response = proxyResultToResponse(
      {
        statusCode: 202,
        headers: { 'X-One': 1 },
        multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'] },
        body: '{}',
      },
      'corr-9',
    );
    expect(response?.statusCode).toBe(202);
    expect(response?.headers).toEqual({
      'X-One': ['1'],
      'Set-Cookie': ['a=1', 'b=2'],
      'Content-Type': ['application/json'],
      'X-Correlation-Id': ['corr-9'],
    });
    expect(response?.body.toString()).toBe('{}');
  });

  it('keeps the function’s own content type and correlation id', () => {
    const response = proxyResultToResponse(
      { statusCode: 200, headers: { 'content-type': 'text/plain', 'x-correlation-id': 'mine' }, body: 'hi' },
      'corr-9',
    );
    expect(response?.headers).toEqual({ 'content-type': ['text/plain'], 'x-correlation-id': ['mine'] });
  });

  it('decodes base64 bodies', () => {
    const response = proxyResultToResponse({ statusCode: 200, body: 'AP8=', isBase64Encoded: true }, 'c');
    expect([...(response?.body ?? [])]).toEqual([0, 255]);
  });

  it.each([
    ['nothing', undefined],
    ['a string', 'ok'],
    ['no status code', { body: '{}' }],
    ['a status code out of range', { statusCode: 700, body: '' }],
    ['a non-string body', { statusCode: 200, body: { a: 1 } }],
    ['multi-value headers that are not lists', { statusCode: 200, body: '', multiValueHeaders: { a: 'b' } }],
  ])('rejects %s as a malformed proxy result', (_, result) => {
    expect(proxyResultToResponse(result, 'c')).toBeUndefined();
  });
});
