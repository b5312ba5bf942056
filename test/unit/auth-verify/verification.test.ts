import { describe, expect, it } from 'vitest';
import { identityVerifiedV1 } from '../../../events/identity-verified.v1';
import {
  creditCodeHmac,
  nameHmac,
  personIdHmac,
  type RegistryRecord,
  toRegistryRecord,
} from '../../../functions/auth-verify/domain/registry-record';
import {
  identityVerifiedDetail,
  judge,
  pseudonymiseClaim,
  replyOf,
  verificationRequestSchema,
  verify,
} from '../../../functions/auth-verify/domain/verification';
import { citizenIdCheckCharacter } from '../../../shared/identifiers';

const KEY = 'unit-test-id-hmac-key-0123456789abcdef';
const ID = '11010519491231002X';
const NAME = '张三';
const CREDIT_CODE = '91330106MA2K111119';
const withCheck = (first17: string) => `${first17}${citizenIdCheckCharacter(first17)}`;

const person = (fields: Record<string, unknown> = {}) => ({
  subject: 'person',
  name: NAME,
  idNumber: ID,
  ...fields,
});
const enterprise = (fields: Record<string, unknown> = {}) => ({
  subject: 'enterprise',
  creditCode: CREDIT_CODE,
  legalRepresentative: '王五',
  ...fields,
});

function issuesOf(body: unknown) {
  const result = verificationRequestSchema.safeParse(body, { reportInput: true });
  expect(result.success).toBe(false);
  return result.error?.issues ?? [];
}

describe('verification request schema', () => {
  it('accepts a person and an enterprise, normalising numbers and names', () => {
    expect(
      verificationRequestSchema.parse(person({ idNumber: ' 11010519491231002x ', name: ' 张三 ' })),
    ).toEqual({
      subject: 'person',
      name: NAME,
      idNumber: ID,
    });
    expect(verificationRequestSchema.parse(person({ secondFactor: 'face' }))).toMatchObject({
      secondFactor: 'face',
    });
    expect(verificationRequestSchema.parse(enterprise({ creditCode: '91330106ma2k111119' }))).toEqual({
      subject: 'enterprise',
      creditCode: CREDIT_CODE,
      legalRepresentative: '王五',
    });
  });

  it.each([
    ['a wrong check character', person({ idNumber: '110105194912310021' }), 'idNumber'],
    ['an impossible birth date', person({ idNumber: withCheck('11010519490230002') }), 'idNumber'],
    ['a birth date in the future', person({ idNumber: withCheck('11010529991231002') }), 'idNumber'],
    ['an unknown province', person({ idNumber: withCheck('99010519491231002') }), 'idNumber'],
    [
      'a credit code with a wrong check character',
      enterprise({ creditCode: '91330106MA2K111110' }),
      'creditCode',
    ],
    ['an empty name', person({ name: '  ' }), 'name'],
    ['a name with a control character', person({ name: '张\u0000三' }), 'name'],
    ['an over-long name', person({ name: '张'.repeat(65) }), 'name'],
    ['an unknown second factor', person({ secondFactor: 'sms' }), 'secondFactor'],
  ])('refuses %s, naming the field but never the value', (_, body, field) => {
    const issues = issuesOf(body);
    expect(issues.map((issue) => issue.path.join('/'))).toContain(field);
    const messages = JSON.stringify(issues.map((issue) => issue.message));
    for (const value of Object.values(body)) {
      if (typeof value === 'string' && value.trim().length > 2) expect(messages).not.toContain(value.trim());
    }
  });

  it('refuses unknown members, so a misspelt second factor is not silently ignored', () => {
    expect(issuesOf(person({ second_factor: 'face' }))[0]?.code).toBe('unrecognized_keys');
  });

  it('refuses a subject it does not know and a person body missing its number', () => {
    expect(issuesOf({ subject: 'robot', name: NAME }).length).toBeGreaterThan(0);
    expect(issuesOf({ subject: 'person', name: NAME }).map((i) => i.path.join('/'))).toContain('idNumber');
  });
});

describe('verdicts', () => {
  const registered = toRegistryRecord({ subject: 'person', idNumber: ID, name: NAME }, KEY);
  const claimOf = (body: unknown) => pseudonymiseClaim(verificationRequestSchema.parse(body), KEY);

  it('pseudonymises a claim with the hub-wide identifier HMACs and a masked id', () => {
    expect(claimOf(person())).toEqual({
      lookup: { subject: 'person', idHmac: personIdHmac(KEY, ID) },
      presentedNameHmac: nameHmac(KEY, NAME),
      maskedId: '110105********002X',
    });
    expect(claimOf(enterprise())).toEqual({
      lookup: { subject: 'enterprise', creditCodeHmac: creditCodeHmac(KEY, CREDIT_CODE) },
      presentedNameHmac: nameHmac(KEY, '王五'),
      maskedId: '913301********1119',
    });
  });

  it('matches the registered name, also spelt in decomposed Unicode', () => {
    const composed = 'Zoë';
    const record = toRegistryRecord({ subject: 'person', idNumber: ID, name: composed }, KEY);
    expect(judge(record, claimOf(person({ name: composed.normalize('NFD') })).presentedNameHmac)).toBe(
      'match',
    );
  });

  it('answers match, mismatch and not_found', () => {
    expect(judge(registered, claimOf(person()).presentedNameHmac)).toBe('match');
    expect(judge(registered, claimOf(person({ name: '李四' })).presentedNameHmac)).toBe('mismatch');
    expect(judge(undefined, claimOf(person()).presentedNameHmac)).toBe('not_found');
  });

  it('treats a cancelled identity as not found', () => {
    const cancelled: RegistryRecord = { ...registered, status: 'cancelled' };
    expect(judge(cancelled, claimOf(person()).presentedNameHmac)).toBe('not_found');
  });

  it('states a level only on a match: L2, or L3 with a reported second factor', () => {
    expect(replyOf('v1', verify(registered, claimOf(person())))).toEqual({
      verificationId: 'v1',
      result: 'match',
      assuranceLevel: 'L2',
    });
    expect(replyOf('v2', verify(registered, claimOf(person({ secondFactor: 'e_id' }))))).toEqual({
      verificationId: 'v2',
      result: 'match',
      assuranceLevel: 'L3',
    });
    expect(
      replyOf('v3', verify(registered, claimOf(person({ name: '李四', secondFactor: 'face' })))),
    ).toEqual({
      verificationId: 'v3',
      result: 'mismatch',
    });
  });

  it('builds an IdentityVerified detail that its catalogued schema accepts and that holds no clear data', () => {
    const claim = claimOf(person({ name: '李四' }));
    const detail = identityVerifiedDetail({
      verificationId: '0b6f1c2e-6a1d-4c39-9d0e-5b7a8c9d1e2f',
      correlationId: 'corr-12345678',
      clientId: 'region-110000',
      claim,
      outcome: verify(registered, claim),
    });
    expect(identityVerifiedV1.parse(detail)).toEqual({
      version: 1,
      correlationId: 'corr-12345678',
      verificationId: '0b6f1c2e-6a1d-4c39-9d0e-5b7a8c9d1e2f',
      subject: 'person',
      result: 'mismatch',
      maskedId: '110105********002X',
      clientId: 'region-110000',
      assuranceLevel: 'L1',
    });
    const text = JSON.stringify(detail);
    for (const secret of [ID, '李四', NAME, claim.presentedNameHmac, personIdHmac(KEY, ID)]) {
      expect(text).not.toContain(secret);
    }
  });
});
