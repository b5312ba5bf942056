import { describe, expect, it } from 'vitest';
import { caseChangeMessageSchema } from '../../../functions/case-aggregate/domain/change';
import {
  type IngestClient,
  type IngestContext,
  mayAccessRegion,
  triageRecords,
} from '../../../functions/case-aggregate/domain/ingest';
import { validateCaseRecord } from '../../../functions/case-aggregate/domain/record';
import { generateCitizenId, generateCreditCode, seededRandom } from '../../../shared/identifiers/generate';
import { maskIdNumber, maskName } from '../../../shared/masking';
import { hmacIdentifier } from '../../../shared/pii';
import { CITIZEN_ID, DEPARTMENT, ITEM, rawRecord, subjectOfId, TEST_HMAC_KEY } from './fixtures';

const NOW = new Date('2026-11-21T10:00:00+08:00');
const random = seededRandom(7);

/** The last character replaced by another one of the same alphabet: a wrong check character. */
const wrongCheck = (value: string, alphabet = '0123456789') => {
  const last = value.at(-1) ?? '';
  const replacement = [...alphabet].find((c) => c !== last) ?? '';
  return `${value.slice(0, -1)}${replacement}`;
};

describe('validateCaseRecord', () => {
  it('accepts a record built from generated identifiers and normalises them', () => {
    const idNumber = generateCitizenId(random, { regionCode: '330106' }).replace(/X$/, 'x');
    const result = validateCaseRecord(
      rawRecord({ applicant: { ...(rawRecord().applicant as object), idNumber } }),
      NOW,
    );
    expect(result).toMatchObject({ ok: true, record: { applicant: { idNumber: idNumber.toUpperCase() } } });
  });

  it('accepts a legal person identified by a credit code', () => {
    const creditCode = generateCreditCode(random);
    const applicant = {
      type: 'legal_person',
      idType: 'credit_code',
      idNumber: creditCode,
      name: '某某有限公司',
    };
    expect(validateCaseRecord(rawRecord({ applicant }), NOW).ok).toBe(true);
  });

  it('accepts a status time a few minutes ahead of the hub clock (drift), not more', () => {
    expect(validateCaseRecord(rawRecord({ statusAt: '2026-11-21T10:04:00+08:00' }), NOW).ok).toBe(true);
    expect(validateCaseRecord(rawRecord({ statusAt: '2026-11-21T10:06:00+08:00' }), NOW)).toEqual({
      ok: false,
      errors: [{ path: '/statusAt', message: expect.any(String) }],
    });
  });

  it.each([
    [
      'a citizen ID with a wrong check character',
      { applicant: { ...applicantOf(), idNumber: wrongCheck(CITIZEN_ID) } },
      '/applicant/idNumber',
    ],
    [
      'a credit code given as citizen ID',
      { applicant: { ...applicantOf(), idNumber: DEPARTMENT } },
      '/applicant/idNumber',
    ],
    ['an unknown id type', { applicant: { ...applicantOf(), idType: 'passport' } }, '/applicant/idType'],
    ['an empty applicant name', { applicant: { ...applicantOf(), name: '  ' } }, '/applicant/name'],
    [
      'a department code with a wrong check character',
      { departmentCode: wrongCheck(DEPARTMENT) },
      '/departmentCode',
    ],
    ['an item code of another length', { itemCode: ITEM.slice(0, 30) }, '/itemCode'],
    ['a region outside the 32 regions', { regionCode: '710000' }, '/regionCode'],
    ['a case number with a colon', { caseNumber: 'A:1' }, '/caseNumber'],
    ['a case number of 65 characters', { caseNumber: 'A'.repeat(65) }, '/caseNumber'],
    ['an unknown channel', { channel: 'fax' }, '/channel'],
    ['an unknown status', { status: 'archived' }, '/status'],
    ['a status time without offset', { statusAt: '2026-11-20T10:00:00' }, '/statusAt'],
    ['a fractional time limit', { promisedDays: 1.5 }, '/promisedDays'],
    ['a statutory limit below the promised one', { promisedDays: 10, statutoryDays: 5 }, '/statutoryDays'],
    ['fullyOnline as a string', { fullyOnline: 'yes' }, '/fullyOnline'],
  ])('rejects %s', (_, overrides, path) => {
    const result = validateCaseRecord(rawRecord(overrides), NOW);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.path)).toContain(path);
  });

  it('never echoes the ID number or name in its errors', () => {
    const badId = wrongCheck(CITIZEN_ID);
    const result = validateCaseRecord(
      rawRecord({ applicant: { ...applicantOf(), idNumber: badId, name: 7 } }),
      NOW,
    );
    const text = JSON.stringify(result);
    expect(text).not.toContain(badId);
    expect(text).not.toContain(badId.slice(0, 14));
  });
});

function applicantOf() {
  return rawRecord().applicant as Record<string, unknown>;
}

const client = (kind: IngestClient['kind'], regionCode?: string): IngestClient => ({
  clientId: `${kind}-${regionCode ?? 'x'}`,
  kind,
  regionCode,
});

const contextFor = (ingestClient: IngestClient): IngestContext => ({
  client: ingestClient,
  batchId: 'batch-42',
  correlationId: 'corr-42',
  now: NOW,
  pseudonymise: ({ type, idType, idNumber, name }) => ({
    type,
    idType,
    idHmac: hmacIdentifier(TEST_HMAC_KEY, idType, idNumber),
    maskedId: maskIdNumber(idNumber),
    maskedName: maskName(name),
    sub: subjectOfId(idNumber, idType),
  }),
});

describe('mayAccessRegion', () => {
  it('lets a region client reach its province, cities and counties included, and a ministry everything', () => {
    expect(mayAccessRegion(client('region', '330000'), '330106')).toBe(true);
    expect(mayAccessRegion(client('region', '330000'), '440100')).toBe(false);
    expect(mayAccessRegion(client('ministry'), '440100')).toBe(true);
    expect(mayAccessRegion(client('issuer'), '330106')).toBe(false);
    expect(mayAccessRegion(client('app'), '330106')).toBe(false);
  });
});

describe('triageRecords', () => {
  it('turns accepted records into PII-free change messages and reasons the rest', () => {
    const records = [
      rawRecord({ caseNumber: 'OK-1' }),
      rawRecord({ caseNumber: 'BAD', channel: 'fax' }),
      rawRecord({ caseNumber: 'GD-1', regionCode: '440106' }),
      'not even an object',
    ];
    const triage = triageRecords(records, contextFor(client('region', '330000')));
    expect(triage.rejected).toEqual([
      { index: 1, reason: 'invalid_record', errors: [expect.objectContaining({ path: '/channel' })] },
      { index: 2, reason: 'out_of_scope' },
      { index: 3, reason: 'invalid_record', errors: expect.any(Array) },
    ]);
    expect(triage.changes).toHaveLength(1);
    const [{ index, change }] = triage.changes as [(typeof triage.changes)[number]];
    expect(index).toBe(0);
    expect(change).toMatchObject({
      version: 1,
      caseId: '330106:OK-1',
      clientId: 'region-330000',
      batchId: 'batch-42',
      correlationId: 'corr-42',
      receivedAt: NOW.toISOString(),
      applicant: {
        type: 'person',
        idType: 'citizen_id',
        idHmac: hmacIdentifier(TEST_HMAC_KEY, 'citizen_id', CITIZEN_ID),
        maskedId: `${CITIZEN_ID.slice(0, 6)}********${CITIZEN_ID.slice(-4)}`,
        maskedName: '张**',
        sub: subjectOfId(CITIZEN_ID),
      },
    });
    expect(caseChangeMessageSchema.parse(change)).toEqual(change);
    const message = JSON.stringify(change);
    expect(message).not.toContain(CITIZEN_ID);
    expect(message).not.toContain('张三丰');
  });

  it('lets a ministry send any region', () => {
    const triage = triageRecords([rawRecord({ regionCode: '440106' })], contextFor(client('ministry')));
    expect(triage).toMatchObject({ rejected: [], changes: [{ change: { caseId: '440106:ZJ-2026-0001' } }] });
  });
});
