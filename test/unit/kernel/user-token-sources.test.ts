import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bearerVerifierFromEnvironment } from '../../../shared/user-token';

/**
 * Where an entry point's verifier takes the token key from (shared/user-token.ts): the JWKS URL when set, else the
 * key ARN through the KMS reader only public-cloud entry points pass — so private functions bundle no KMS client.
 */
const ISSUER = 'https://hub.zwfw.local/dev';
const KEY_ARN = 'arn:aws:kms:cn-north-1:111111111111:alias/zwfw-dev-token-signing';
// Not a token of the key: enough to make the verifier fetch the key set, then refuse.
const SOME_JWT = `eyJhbGciOiJFUzI1NiIsImtpZCI6ImsiLCJ0eXAiOiJhdCtqd3QifQ.eyJzdWIiOiJ4In0.${'A'.repeat(86)}`;

const spki = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' });

describe('the token key source of an entry point', () => {
  it('reads the key through the given reader, by the ARN, when no JWKS URL is set', async () => {
    const asked: string[] = [];
    const verify = bearerVerifierFromEnvironment(
      async (arn) => {
        asked.push(arn);
        return spki();
      },
      { TOKEN_ISSUER: ISSUER, TOKEN_SIGNING_KEY_ARN: KEY_ARN },
    );
    expect(await verify(SOME_JWT)).toBeUndefined();
    expect(asked).toEqual([KEY_ARN]);
  });

  it('refuses to start on the ARN alone without a reader: private entry points verify against the JWKS URL', () => {
    expect(() =>
      bearerVerifierFromEnvironment(undefined, { TOKEN_ISSUER: ISSUER, TOKEN_SIGNING_KEY_ARN: KEY_ARN }),
    ).toThrow('TOKEN_SIGNING_KEY_ARN is read by public-cloud entry points only; set TOKEN_JWKS_URL');
  });

  it('prefers the JWKS URL and never calls the reader when both are set', () => {
    const verify = bearerVerifierFromEnvironment(
      () => Promise.reject(new Error('the KMS reader must not be used')),
      {
        TOKEN_ISSUER: ISSUER,
        TOKEN_SIGNING_KEY_ARN: KEY_ARN,
        TOKEN_JWKS_URL: 'http://127.0.0.1:9/jwks.json',
      },
    );
    expect(verify).toBeTypeOf('function');
  });
});
