import { CfnElement, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import {
  type CfnResource,
  type CfnTemplate,
  propertyAt,
  referencedLogicalId,
  resourcesOfType,
} from './policies';

/** Questions the infra tests ask of a synthesised template: routes, logical ids, what a role may do. */

/** `METHOD /full/path` of every API method of a template. */
export function routesOf(t: CfnTemplate): Map<string, CfnResource> {
  const resources = Object.fromEntries(resourcesOfType(t, 'AWS::ApiGateway::Resource'));
  const fullPath = (resourceId: string | undefined): string => {
    const resource = resourceId ? resources[resourceId] : undefined;
    if (!resource) return '';
    return `${fullPath(referencedLogicalId(resource.Properties?.ParentId))}/${resource.Properties?.PathPart}`;
  };
  return new Map(
    resourcesOfType(t, 'AWS::ApiGateway::Method').map(([, method]) => [
      `${propertyAt(method, 'HttpMethod')} ${fullPath(referencedLogicalId(propertyAt(method, 'ResourceId')))}`,
      method,
    ]),
  );
}

/** The logical id of a construct's CloudFormation resource. */
export const logicalIdOf = (construct: IConstruct): string => {
  const resource = construct instanceof CfnElement ? construct : construct.node.defaultChild;
  if (!(resource instanceof CfnElement))
    throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return Stack.of(resource).resolve(resource.logicalId) as string;
};

export interface PolicyStatementJson {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Condition?: unknown;
}

/** Every statement of the IAM policies attached to one role. */
export function statementsOfRole(t: CfnTemplate, roleLogicalId: string): PolicyStatementJson[] {
  return resourcesOfType(t, 'AWS::IAM::Policy')
    .filter(([, policy]) =>
      (propertyAt<unknown[]>(policy, 'Roles') ?? []).some(
        (role) => referencedLogicalId(role) === roleLogicalId,
      ),
    )
    .flatMap(([, policy]) => propertyAt<PolicyStatementJson[]>(policy, 'PolicyDocument.Statement') ?? []);
}

/** The per-construct questions the capability tests ask of one synthesised template. */
export function templateQueries(template: () => CfnTemplate) {
  const resourceOf = (construct: IConstruct): CfnResource => {
    const resource = template().Resources[logicalIdOf(construct)];
    if (!resource) throw new Error(`${construct.node.path} not in the template`);
    return resource;
  };
  const variablesOf = (fn: IConstruct) =>
    propertyAt<Record<string, unknown>>(resourceOf(fn), 'Environment.Variables') ?? {};
  /** Allow statements of a function's role. */
  const grantsOf = (fn: { serviceRole: IConstruct }) =>
    statementsOfRole(template(), logicalIdOf(fn.serviceRole)).filter((s) => s.Effect === 'Allow');
  /** Actions a function's role is allowed on a resource, named by its logical id (or inside a joined ARN). */
  const actionsOn = (fn: { serviceRole: IConstruct }, resourceId: string) =>
    grantsOf(fn)
      .filter((s) => [s.Resource].flat().some((r) => JSON.stringify(r).includes(`"${resourceId}"`)))
      .flatMap((s) => [s.Action].flat())
      .sort();
  return { resourceOf, variablesOf, grantsOf, actionsOn };
}
