import { describe, expect, it } from 'vitest';
import {
  buildHubModel,
  routesOfSharedPort,
  routesOfStack,
  type StackTemplate,
} from '../../../infra/local/template';

/**
 * Both APIs are served on one shared local port, and each on a port of its own: a route both declare (token
 * introspection) goes to the private API on the shared port and to each API on its own port — never to whichever
 * happens to come first.
 */
const sqsEndpoint = 'http://127.0.0.1:9324';

const apiWith = (stackName: string, path: string): StackTemplate => ({
  stackName,
  assemblyDir: '/tmp',
  template: {
    Resources: {
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: { Runtime: 'nodejs22.x', Handler: 'index.handler' },
        Metadata: { 'aws:asset:path': 'asset.x' },
      },
      Api: { Type: 'AWS::ApiGateway::RestApi', Properties: {} },
      Resource: {
        Type: 'AWS::ApiGateway::Resource',
        Properties: {
          RestApiId: { Ref: 'Api' },
          ParentId: { 'Fn::GetAtt': ['Api', 'RootResourceId'] },
          PathPart: path,
        },
      },
      Method: {
        Type: 'AWS::ApiGateway::Method',
        Properties: {
          RestApiId: { Ref: 'Api' },
          ResourceId: { Ref: 'Resource' },
          HttpMethod: 'POST',
          AuthorizationType: 'NONE',
          Integration: {
            Type: 'AWS_PROXY',
            Uri: {
              'Fn::Join': [
                '',
                [
                  'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/',
                  { 'Fn::GetAtt': ['Fn', 'Arn'] },
                  '/invocations',
                ],
              ],
            },
          },
        },
      },
    },
  } as never,
});

describe('routes of the two clouds on one port', () => {
  it('serves distinct routes of both APIs', () => {
    const model = buildHubModel([apiWith('private', 'cases'), apiWith('public', 'evaluations')], {
      sqsEndpoint,
    });
    expect(
      model.routes.map((route) => `${route.apiKey} ${route.method} ${route.resourcePath}`).sort(),
    ).toEqual(['private/Api POST /cases', 'public/Api POST /evaluations']);
  });

  it('gives a route both APIs declare to the private API on the shared port, to each on its own', () => {
    const model = buildHubModel(
      [apiWith('zwfw-dev-private', 'introspect'), apiWith('zwfw-dev-public', 'introspect')],
      { sqsEndpoint },
    );
    const keys = (routes: typeof model.routes) => routes.map((route) => route.apiKey);
    expect(keys(routesOfSharedPort(model.routes, 'zwfw-dev-private'))).toEqual(['zwfw-dev-private/Api']);
    expect(keys(routesOfStack(model.routes, 'zwfw-dev-public'))).toEqual(['zwfw-dev-public/Api']);
    expect(keys(routesOfStack(model.routes, 'zwfw-dev-private'))).toEqual(['zwfw-dev-private/Api']);
  });

  it('keeps the public-only routes on the shared port', () => {
    const model = buildHubModel(
      [apiWith('zwfw-dev-private', 'cases'), apiWith('zwfw-dev-public', 'evaluations')],
      { sqsEndpoint },
    );
    expect(
      routesOfSharedPort(model.routes, 'zwfw-dev-private')
        .map((r) => r.resourcePath)
        .sort(),
    ).toEqual(['/cases', '/evaluations']);
  });

  it('refuses a route one API declares twice', () => {
    const twice = apiWith('private', 'cases');
    const resources = twice.template.Resources as Record<string, unknown>;
    resources.Method2 = resources.Method;
    expect(() => buildHubModel([twice], { sqsEndpoint })).toThrow(
      /POST \/cases is declared twice by private\/Api/,
    );
  });
});
