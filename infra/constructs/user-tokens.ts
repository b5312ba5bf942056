import { Arn, ArnFormat, Aws, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { HubFunction } from './hub-function';
import type { HubRestApi } from './hub-rest-api';
import { acknowledgeNag } from './nag';

/** Where the hub publishes its token keys (auth verification's public JWKS route). */
export const JWKS_PATH = '/.well-known/jwks.json';

/**
 * Lets a function verify a person's access token (shared/user-token.ts `bearerVerifierFromEnvironment`): the
 * JWKS URL of the API's own key route and the issuer. Built from the API id, not `api.url`: the URL names the
 * deployment stage, which depends on the function's own route — a cycle. The local hub points the URL at its
 * gateway.
 */
export function bindUserTokenVerification(
  fn: HubFunction,
  options: { api: HubRestApi; tokenIssuer: string; stage: string },
): HubFunction {
  const stack = Stack.of(fn);
  fn.addEnvironment(
    'TOKEN_JWKS_URL',
    `https://${options.api.api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/${options.stage}${JWKS_PATH}`,
  );
  fn.addEnvironment('TOKEN_ISSUER', options.tokenIssuer);
  return fn;
}

/** The signing key's alias: a fixed name, so the public cloud can address the key without a cross-stack reference. */
export const tokenSigningKeyAlias = (stage: string) => `alias/zwfw-${stage}-token-signing`;

interface AccountsConfig {
  stage: string;
  account?: string;
  region?: string;
  publicAccount?: string;
}

/** The alias's ARN in the private cloud's account (another account in production). */
export function tokenSigningKeyAliasArn(config: AccountsConfig): string {
  return Arn.format({
    partition: Aws.PARTITION,
    service: 'kms',
    region: config.region ?? Aws.REGION,
    account: config.account ?? Aws.ACCOUNT_ID,
    resource: tokenSigningKeyAlias(config.stage),
    arnFormat: ArnFormat.NO_RESOURCE_NAME,
  });
}

/**
 * Lets a public-cloud function verify persons' tokens without any call into the private cloud and without
 * storing anything: it reads the signing key's public half straight from KMS (GetPublicKey through the alias,
 * cross-account in production) and builds the key set from it (shared/user-token.ts). The grant names only
 * that alias (`kms:RequestAlias`), and the key policy admits the public account for GetPublicKey alone.
 */
export function bindPublishedSigningKey(
  fn: HubFunction,
  options: { config: AccountsConfig; tokenIssuer: string },
): HubFunction {
  const { config } = options;
  fn.addEnvironment('TOKEN_SIGNING_KEY_ARN', tokenSigningKeyAliasArn(config));
  fn.addEnvironment('TOKEN_ISSUER', options.tokenIssuer);
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ['kms:GetPublicKey'],
      resources: [
        Arn.format({
          partition: Aws.PARTITION,
          service: 'kms',
          region: config.region ?? Aws.REGION,
          account: config.account ?? Aws.ACCOUNT_ID,
          resource: 'key',
          resourceName: '*',
        }),
      ],
      conditions: { StringEquals: { 'kms:RequestAlias': tokenSigningKeyAlias(config.stage) } },
    }),
  );
  // cdk-nag spells unresolved parts of the ARN as their pseudo parameters.
  const region = config.region ?? '<AWS::Region>';
  const account = config.account ?? '<AWS::AccountId>';
  acknowledgeNag(
    fn.serviceRole,
    'IAM5',
    'kms:GetPublicKey only, and only through the token signing key alias (kms:RequestAlias): the key id is unknown to this (possibly other) account, so the resource names every key and the condition narrows it to the one alias.',
    `Resource::arn:<AWS::Partition>:kms:${region}:${account}:key/*`,
  );
  return fn;
}
