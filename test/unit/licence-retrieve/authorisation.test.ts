import { describe, expect, it } from 'vitest';
import {
  type Authorisation,
  type KnownCase,
  refusalBeforeLookup,
  refusalForHolder,
} from '../../../functions/licence-retrieve/domain/authorisation';
import { holder } from './fixtures';

const zhejiang = { kind: 'region' as const, regionCode: '330000' };
const ministry = { kind: 'ministry' as const, departmentCode: '11100000000013338W' };
const knownCase = (overrides: Partial<KnownCase> = {}): KnownCase => ({
  caseId: '330106:ZJ-1',
  regionCode: '330106',
  departmentCode: '11330000002593947X',
  applicantIdHmac: holder.idHmac,
  statuses: ['accepted'],
  ...overrides,
});
const byCase = (known: KnownCase | undefined): Authorisation => ({
  kind: 'case',
  caseId: '330106:ZJ-1',
  known,
});
const slugOf = (problem: { slug: string } | undefined) => problem?.slug;

describe('the holder token', () => {
  it("authorises the holder's own licences only", () => {
    const token: Authorisation = { kind: 'holder_token', sub: holder.sub, jti: 'j'.repeat(22) };
    expect(refusalBeforeLookup(token, zhejiang)).toBeUndefined();
    expect(refusalForHolder(token, holder)).toBeUndefined();
    expect(slugOf(refusalForHolder(token, { ...holder, sub: 'u_someoneElse0000000000000' }))).toBe(
      'licence-use-refused',
    );
  });
});

describe('a case of the calling platform', () => {
  it("authorises the applicant's licences for the region platform of its province (cities included)", () => {
    expect(refusalBeforeLookup(byCase(knownCase()), zhejiang)).toBeUndefined();
    expect(refusalForHolder(byCase(knownCase()), holder)).toBeUndefined();
  });

  it('authorises a ministry for the cases its department handles, and no other', () => {
    expect(
      refusalBeforeLookup(byCase(knownCase({ departmentCode: ministry.departmentCode })), ministry),
    ).toBeUndefined();
    expect(slugOf(refusalBeforeLookup(byCase(knownCase()), ministry))).toBe('licence-use-refused');
  });

  it.each([
    ['an unknown case', undefined, zhejiang],
    ["another province's case", knownCase({ regionCode: '110105' }), zhejiang],
    ['an ended case', knownCase({ statuses: ['accepted', 'completed'] }), zhejiang],
    ['a case for an issuer client', knownCase(), { kind: 'issuer' as const, regionCode: '330000' }],
  ])('refuses %s before any licence is looked up', (_, known, client) => {
    expect(slugOf(refusalBeforeLookup(byCase(known), client))).toBe('licence-use-refused');
  });

  it('refuses a licence whose holder is not the applicant', () => {
    const other = knownCase({ applicantIdHmac: 'A'.repeat(43) });
    expect(refusalBeforeLookup(byCase(other), zhejiang)).toBeUndefined();
    expect(slugOf(refusalForHolder(byCase(other), holder))).toBe('licence-use-refused');
  });
});
