import { describe, expect, it } from 'vitest';
import { buildHubModel, type StackTemplate } from '../../../infra/local/template';

/** Both APIs are served on one local port: a route declared by both must fail the load, not pick a winner. */
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

  it('refuses a route both APIs declare', () => {
    expect(() =>
      buildHubModel([apiWith('private', 'evaluations'), apiWith('public', 'evaluations')], { sqsEndpoint }),
    ).toThrow(/POST \/evaluations is declared by both private\/Api and public\/Api/);
  });
});
