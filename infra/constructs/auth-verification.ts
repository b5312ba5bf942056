import type { RequestAuthorizer } from 'aws-cdk-lib/aws-apigateway';
import { AccountPrincipal, AnyPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { createClientAuthorizer } from './client-authorizer';
import { HubFunction } from './hub-function';
import type { HubRestApi } from './hub-rest-api';
import { HubTable } from './hub-table';
import type { HubPlatform } from './platform';
import { tokenSigningKeyAlias } from './user-tokens';

export interface AuthVerificationProps {
  platform: HubPlatform;
  /** The API whose routes the client authorizer guards; the auth routes are added to it. */
  api: HubRestApi;
  /** `iss` of the access tokens. Default `https://hub.zwfw.local/<stage>`. */
  tokenIssuer?: string;
}

const SERVICE_NAME = 'auth-verify';

export { AUTHORIZER_CACHE_TTL } from './client-authorizer';
export const ACCESS_TOKEN_TTL_SECONDS = 3600;
export const TICKET_TTL_SECONDS = 60;
export const REVOCATION_REFRESH_MS = 500;

/**
 * Auth verification (统一身份认证 / 实名核验): SSO tickets, ES256 access tokens (JWKS, introspection,
 * revocation), real-name verification against the identity registry, and the client authorizer that guards
 * every route of the API. Owns the tokens table, the registry table, their key and the token signing key.
 * Private cloud for now; issue 7 moves citizen-facing introspection and the JWKS to the public cloud.
 */
export class AuthVerification extends Construct {
  readonly key: Key;
  readonly signingKey: Key;
  readonly tokensTable: HubTable;
  readonly registryTable: HubTable;
  readonly tokensFunction: HubFunction;
  readonly identityFunction: HubFunction;
  readonly authorizerFunction: HubFunction;
  readonly authorizer: RequestAuthorizer;

  constructor(scope: Construct, id: string, props: AuthVerificationProps) {
    super(scope, id);
    const { platform, api } = props;
    const { config } = platform;

    this.key = new Key(this, 'Key', {
      description: `zwfw-hub ${config.stage} auth verification: tokens and identity registry tables`,
      enableKeyRotation: true,
      removalPolicy: config.removalPolicy,
    });
    // Tickets expire after 60 s and revocations with their token; gsi1 lists revocations by time bucket.
    this.tokensTable = new HubTable(this, 'TokensTable', {
      config,
      encryptionKey: this.key,
      expires: true,
      gsi1: true,
    });
    // Persons and enterprises keyed by HMACs only; looked up by key, never listed.
    this.registryTable = new HubTable(this, 'RegistryTable', { config, encryptionKey: this.key });
    this.signingKey = this.createSigningKey(config);

    this.tokensFunction = new HubFunction(this, 'TokensFunction', {
      platform,
      entry: 'functions/auth-verify/tokens-api.ts',
      serviceName: SERVICE_NAME,
      description: 'SSO ticket validation, access tokens: JWKS, introspection, revocation (and dev sign-in)',
      memorySize: 1024,
    });
    this.identityFunction = new HubFunction(this, 'IdentityFunction', {
      platform,
      entry: 'functions/auth-verify/identity-api.ts',
      serviceName: SERVICE_NAME,
      description: 'Real-name verification of persons and enterprises against the identity registry',
      memorySize: 1024,
    });
    this.bindFunctions(platform, props.tokenIssuer ?? config.tokenIssuer);

    const client = createClientAuthorizer(this, {
      platform,
      api,
      authorizerName: `zwfw-${config.stage}-client`,
    });
    this.authorizerFunction = client.fn;
    this.authorizer = client.authorizer;
    this.addRoutes(api, config.stage === 'dev');
  }

  /**
   * ES256 token signing: the private key never leaves KMS. Asymmetric keys cannot rotate automatically;
   * rotating means a new key published in the JWKS beside the old one until its tokens expire. The key
   * policy denies kms:Sign to every principal but the tokens function, so no IAM policy can widen it later.
   */
  private createSigningKey(config: HubPlatform['config']): Key {
    const { removalPolicy } = config;
    // No automatic rotation: KMS cannot rotate asymmetric keys (cdk-nag's KMS5 applies to symmetric keys only).
    const key = new Key(this, 'TokenSigningKey', {
      description: 'zwfw-hub access token signing key (ES256); only the tokens function may sign',
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      removalPolicy,
    });
    // The public cloud reads the public half through this fixed alias (infra/constructs/user-tokens.ts).
    key.addAlias(tokenSigningKeyAlias(config.stage));
    if (config.publicAccount && config.publicAccount !== config.account) {
      key.addToResourcePolicy(
        new PolicyStatement({
          sid: 'PublicCloudReadsThePublicKey',
          principals: [new AccountPrincipal(config.publicAccount)],
          actions: ['kms:GetPublicKey'],
          resources: ['*'],
        }),
      );
    }
    return key;
  }

  private bindFunctions(platform: HubPlatform, tokenIssuer: string): void {
    const { signingKey } = this;
    this.tokensFunction
      .bindTable(this.tokensTable, 'TOKENS_TABLE', 'readWrite')
      // Dev sign-in signs in a person who must exist in the registry.
      .bindTable(this.registryTable, 'REGISTRY_TABLE', 'read')
      .bindTable(platform.noncesTable, 'NONCES_TABLE', 'readWrite')
      .bindTable(platform.idempotencyTable, 'IDEMPOTENCY_TABLE', 'readWrite')
      .bindSecretRead(platform.clientsSecret, 'HUB_CLIENTS_SECRET_ID')
      .bindSecretRead(platform.idHmacSecret, 'HUB_ID_HMAC_SECRET_ID')
      .bindEventBus(platform.eventBus, 'EVENT_BUS_NAME');
    signingKey.grant(this.tokensFunction, 'kms:Sign', 'kms:GetPublicKey');
    signingKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyTheTokensFunctionSigns',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['kms:Sign'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': this.tokensFunction.serviceRole.roleArn } },
      }),
    );
    const tokenEnvironment: Record<string, string> = {
      TOKEN_SIGNING_KEY_ARN: signingKey.keyArn,
      TOKEN_ISSUER: tokenIssuer,
      ACCESS_TOKEN_TTL_SECONDS: String(ACCESS_TOKEN_TTL_SECONDS),
      TICKET_TTL_SECONDS: String(TICKET_TTL_SECONDS),
      REVOCATION_REFRESH_MS: String(REVOCATION_REFRESH_MS),
    };
    for (const [name, value] of Object.entries(tokenEnvironment))
      this.tokensFunction.addEnvironment(name, value);

    this.identityFunction
      .bindTable(this.registryTable, 'REGISTRY_TABLE', 'read')
      .bindTable(platform.noncesTable, 'NONCES_TABLE', 'readWrite')
      .bindTable(platform.idempotencyTable, 'IDEMPOTENCY_TABLE', 'readWrite')
      .bindSecretRead(platform.clientsSecret, 'HUB_CLIENTS_SECRET_ID')
      .bindSecretRead(platform.idHmacSecret, 'HUB_ID_HMAC_SECRET_ID')
      .bindEventBus(platform.eventBus, 'EVENT_BUS_NAME');
  }

  private addRoutes(api: HubRestApi, devStage: boolean): void {
    const tokens = this.tokensFunction;
    api.addRoute('POST', '/v1/tickets/validate', tokens);
    api.addRoute('POST', '/v1/tokens/introspect', tokens);
    api.addRoute('POST', '/v1/tokens/revoke', tokens);
    // Anyone verifying a hub token needs the public keys, without an access key of their own.
    api.addRoute('GET', '/.well-known/jwks.json', tokens, { public: true });
    // Signs a registry person in without the real sign-in UI: development stage only.
    if (devStage) api.addRoute('POST', '/v1/dev/sign-in', tokens);
    api.addRoute('POST', '/v1/identity/verifications', this.identityFunction);
  }
}
