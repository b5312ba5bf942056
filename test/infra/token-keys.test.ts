import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CfnTemplate, propertyAt, resourcesOfType } from './policies';
import { NO_BUNDLING, type SynthesisedHub, synthHub } from './synth';

/**
 * Tokens in the public cloud: its functions verify persons' tokens with the signing key's public half, read from
 * KMS through a fixed alias — no call into the private cloud, no key material stored. Asked of a two-account
 * production synthesis, where the grant must cross accounts and allow nothing but GetPublicKey.
 */
const PRIVATE_ACCOUNT = '111111111111';
const PUBLIC_ACCOUNT = '222222222222';
const ALIAS = 'alias/zwfw-prod-token-signing';
let hub: SynthesisedHub;
let privateTemplate: CfnTemplate;
let publicTemplate: CfnTemplate;

beforeAll(() => {
  hub = synthHub({
    ...NO_BUNDLING,
    'zwfw:stage': 'prod',
    'zwfw:account': PRIVATE_ACCOUNT,
    'zwfw:publicAccount': PUBLIC_ACCOUNT,
    'zwfw:region': 'cn-north-1',
  });
  privateTemplate = hub.template(hub.privateCloud.stackName);
  publicTemplate = hub.template(hub.publicCloud.stackName);
}, 120_000);
afterAll(() => hub?.cleanUp());

const json = (value: unknown) => JSON.stringify(value);

describe('the token signing key, as the public cloud reads it', () => {
  it('has a fixed alias, and admits the public account for GetPublicKey only', () => {
    const aliases = resourcesOfType(privateTemplate, 'AWS::KMS::Alias').map(
      ([, r]) => r.Properties?.AliasName,
    );
    expect(aliases).toContain(ALIAS);
    const [, key] =
      resourcesOfType(privateTemplate, 'AWS::KMS::Key').find(([id]) => id.includes('TokenSigningKey')) ?? [];
    const statements = propertyAt<Record<string, unknown>[]>(key, 'KeyPolicy.Statement') ?? [];
    const forPublic = statements.filter((s) => json(s.Principal).includes(PUBLIC_ACCOUNT));
    expect(forPublic).toHaveLength(1);
    expect(forPublic[0]).toMatchObject({ Effect: 'Allow', Action: 'kms:GetPublicKey' });
  });

  it("gives the public submit function the alias's ARN in the private account, and no JWKS URL", () => {
    const submit = resourcesOfType(publicTemplate, 'AWS::Lambda::Function').find(([id]) =>
      id.includes('SubmitFunction'),
    );
    const variables = propertyAt<Record<string, unknown>>(submit?.[1], 'Environment.Variables') ?? {};
    expect(variables.TOKEN_JWKS_URL).toBeUndefined();
    expect(json(variables.TOKEN_SIGNING_KEY_ARN)).toContain(`:kms:cn-north-1:${PRIVATE_ACCOUNT}:${ALIAS}`);
  });

  it('grants each public token verifier (evaluation submit, introspection) GetPublicKey through that alias alone', () => {
    const policies = resourcesOfType(publicTemplate, 'AWS::IAM::Policy');
    const statements = policies.flatMap(
      ([, policy]) => propertyAt<Record<string, unknown>[]>(policy, 'PolicyDocument.Statement') ?? [],
    );
    const grantees = policies
      .filter(([, policy]) =>
        (propertyAt<Record<string, unknown>[]>(policy, 'PolicyDocument.Statement') ?? []).some((s) =>
          json(s.Action).includes('kms:GetPublicKey'),
        ),
      )
      .map(([id]) => id);
    expect(grantees).toHaveLength(2);
    expect(grantees.some((id) => id.includes('Submit'))).toBe(true);
    expect(grantees.some((id) => id.includes('Introspect'))).toBe(true);
    const kms = statements.filter((s) => json(s.Action).includes('kms:GetPublicKey'));
    expect(kms).toHaveLength(2);
    for (const statement of kms) {
      expect(statement.Condition).toEqual({ StringEquals: { 'kms:RequestAlias': ALIAS } });
      expect(json(statement.Resource)).toContain(`:kms:cn-north-1:${PRIVATE_ACCOUNT}:key/*`);
    }
    expect(statements.some((s) => json(s.Action).includes('kms:Sign'))).toBe(false);
  });
});
