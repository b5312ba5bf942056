import { KMSClient } from '@aws-sdk/client-kms';
import { kmsSigningPort } from '../functions/auth-verify/signing-key';

/**
 * The token signing key's public half, read from KMS through its alias: how a public-cloud function, which may not
 * call the private cloud, finds the key that verifies persons' tokens (infra/constructs/user-tokens.ts
 * `bindPublishedSigningKey`). Public-cloud entry points pass it to shared/user-token.ts
 * `bearerVerifierFromEnvironment`; no private-cloud function imports it, so none bundles the KMS client.
 */
export async function kmsPublicKeySpki(keyArn: string): Promise<Uint8Array> {
  return kmsSigningPort(new KMSClient({}), keyArn).publicKeySpki();
}
