import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CfnTemplate, propertyAt, referencedLogicalId, resourcesOfType } from './policies';
import { logicalIdOf, routesOf, templateQueries } from './queries';
import { NO_BUNDLING, type SynthesisedHub, synthHub } from './synth';

/**
 * Evaluation ingest's read routes: `GET /v1/me/evaluations` (a person's own, with the person's token) and
 * `GET /v1/evaluations/rejections` (a platform's rejected submissions) run one read-only function.
 */
let dev: SynthesisedHub;
let template: CfnTemplate;

beforeAll(() => {
  dev = synthHub({ ...NO_BUNDLING, 'zwfw:stage': 'dev' });
  template = dev.template('zwfw-dev-private');
}, 60_000);

afterAll(() => dev?.cleanUp());

const evaluations = () => dev.privateCloud.evaluationIngest;
const { resourceOf, variablesOf, actionsOn } = templateQueries(() => template);

describe('evaluation queries', () => {
  it.each(['GET /v1/me/evaluations', 'GET /v1/evaluations/rejections'])(
    '%s runs the query function behind the client authorizer and its usage plan',
    (route) => {
      const method = routesOf(template).get(route);
      const authorizerId = resourcesOfType(template, 'AWS::ApiGateway::Authorizer')[0]?.[0];
      expect(method?.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', ApiKeyRequired: true });
      expect(referencedLogicalId(propertyAt(method, 'AuthorizerId'))).toBe(authorizerId);
      expect(JSON.stringify(propertyAt(method, 'Integration.Uri'))).toContain(
        `"${logicalIdOf(evaluations().queryFunction)}"`,
      );
    },
  );

  it('reads the evaluations table only, verifies persons’ tokens, and holds no ID HMAC key', () => {
    const fn = evaluations().queryFunction;
    const variables = variablesOf(fn);
    expect(variables).toMatchObject({
      EVALUATIONS_TABLE: { Ref: logicalIdOf(evaluations().evaluationsTable) },
      TOKEN_ISSUER: 'https://hub.zwfw.local/dev',
    });
    expect(JSON.stringify(variables.TOKEN_JWKS_URL)).toContain('/dev/.well-known/jwks.json');
    const onEvaluations = actionsOn(fn, logicalIdOf(evaluations().evaluationsTable));
    expect(onEvaluations).toEqual(expect.arrayContaining(['dynamodb:Query']));
    expect(onEvaluations.filter((a) => /Put|Update|Delete|Write/.test(a))).toEqual([]);
    expect(actionsOn(fn, logicalIdOf(evaluations().ticketsTable))).toEqual([]);
    expect(actionsOn(fn, logicalIdOf(dev.privateCloud.platform.idHmacSecret))).toEqual([]);
    expect(actionsOn(fn, logicalIdOf(dev.privateCloud.platform.eventBus))).toEqual([]);
    expect(resourceOf(fn).Properties).toMatchObject({ Handler: 'index.handler' });
  });
});
