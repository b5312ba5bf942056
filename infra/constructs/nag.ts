import type { CfnElement } from 'aws-cdk-lib';
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag AwsSolutions finding on a construct and its children.
 * cdk-nag 3 matches wildcard findings one by one (`AwsSolutions-IAM5[Action::kms:ReEncrypt*]`), so each
 * acknowledgement names exactly what it accepts; the reason is kept with the code that needs it.
 */
export function acknowledgeNag(scope: IConstruct, rule: string, reason: string, finding?: string): void {
  const id = finding === undefined ? `AwsSolutions-${rule}` : `AwsSolutions-${rule}[${finding}]`;
  Validations.of(scope).acknowledge({ id, reason });
}

/** The `<LogicalId.Arn>` spelling cdk-nag uses for a GetAtt in a wildcard finding. */
export function nagArnReference(element: CfnElement): string {
  return `<${Stack.of(element).resolve(element.logicalId)}.Arn>`;
}
