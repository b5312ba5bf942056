import { Construct } from 'constructs';
import { HubFunction } from './hub-function';
import type { HubRestApi } from './hub-rest-api';
import type { FunctionPlatform } from './platform';
import { bindPublishedSigningKey } from './user-tokens';

export interface PublicTokenIntrospectionProps {
  /** The public cloud: its HTTP-stack tables and client registry. */
  platform: FunctionPlatform;
  api: HubRestApi;
}

/**
 * `POST /v1/tokens/introspect` for citizens' apps in the public cloud (functions/auth-verify/public-introspect.ts):
 * signed like every route, answered statelessly from the signing key's public half read from KMS. It sees no
 * revocations (they stay in the private cloud): a revoked token stays active here until it expires.
 */
export class PublicTokenIntrospection extends Construct {
  readonly introspectFunction: HubFunction;

  constructor(scope: Construct, id: string, props: PublicTokenIntrospectionProps) {
    super(scope, id);
    const { platform, api } = props;
    const { config } = platform;
    this.introspectFunction = new HubFunction(this, 'IntrospectFunction', {
      platform,
      entry: 'functions/auth-verify/public-introspect.ts',
      serviceName: 'auth-verify',
      description: 'Token introspection for apps, stateless (no revocations): POST /v1/tokens/introspect',
      memorySize: 512,
    });
    this.introspectFunction
      .bindTable(platform.noncesTable, 'NONCES_TABLE', 'readWrite')
      .bindTable(platform.idempotencyTable, 'IDEMPOTENCY_TABLE', 'readWrite')
      .bindSecretRead(platform.clientsSecret, 'HUB_CLIENTS_SECRET_ID');
    bindPublishedSigningKey(this.introspectFunction, { config, tokenIssuer: config.tokenIssuer });
    api.addRoute('POST', '/v1/tokens/introspect', this.introspectFunction);
  }
}
