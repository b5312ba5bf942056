import { subjectOf } from '../../../functions/auth-verify/domain/subject';
import type { CaseChange } from '../../../functions/case-aggregate/domain/change';
import type { CaseStatus } from '../../../functions/case-aggregate/domain/status';
import {
  generateAuthorityCode,
  generateCitizenId,
  generateImplementationCode,
  type Random,
  seededRandom,
} from '../../../shared/identifiers/generate';
import { maskIdNumber, maskName } from '../../../shared/masking';
import { hmacIdentifier } from '../../../shared/pii';

export const TEST_HMAC_KEY = 'test-only-id-hmac-key-0123456789abcdef';

const random = seededRandom(20261121);
export const DEPARTMENT = generateAuthorityCode(random, '330100');
export const ITEM = generateImplementationCode(random, DEPARTMENT);
export const OTHER_ITEM = generateImplementationCode(random, DEPARTMENT);
export const CITIZEN_ID = generateCitizenId(random, { regionCode: '330106' });

/** The subject of the person with this citizen ID under the test key, as their access tokens carry it. */
export const subjectOfId = (idNumber: string, idType = 'citizen_id') =>
  subjectOf(hmacIdentifier(TEST_HMAC_KEY, idType, idNumber), TEST_HMAC_KEY);

/** A raw record as a platform pushes it (clear ID number and name). */
export function rawRecord(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    regionCode: '330106',
    caseNumber: 'ZJ-2026-0001',
    itemCode: ITEM,
    itemName: 'Business licence registration',
    departmentCode: DEPARTMENT,
    applicant: { type: 'person', idType: 'citizen_id', idNumber: CITIZEN_ID, name: '张三丰' },
    channel: 'online',
    fullyOnline: true,
    promisedDays: 5,
    statutoryDays: 20,
    status: 'accepted',
    statusAt: '2026-11-20T10:00:00+08:00',
    ...overrides,
  };
}

export interface ChangeSpec extends Partial<Omit<CaseChange, 'caseId'>> {
  status: CaseStatus;
  statusAt: string;
}

/** A queue message as the API would produce it. */
export function changeOf(spec: ChangeSpec, idNumber = CITIZEN_ID): CaseChange {
  const regionCode = spec.regionCode ?? '330106';
  const caseNumber = spec.caseNumber ?? 'ZJ-2026-0001';
  return {
    version: 1,
    caseId: `${regionCode}:${caseNumber}`,
    regionCode,
    caseNumber,
    itemCode: ITEM,
    itemName: 'Business licence registration',
    departmentCode: DEPARTMENT,
    applicant: {
      type: 'person',
      idType: 'citizen_id',
      idHmac: hmacIdentifier(TEST_HMAC_KEY, 'citizen_id', idNumber),
      maskedId: maskIdNumber(idNumber),
      maskedName: maskName('张三丰'),
      sub: subjectOfId(idNumber),
    },
    channel: 'online',
    fullyOnline: true,
    promisedDays: 5,
    statutoryDays: 20,
    clientId: 'region-330000',
    batchId: 'batch-1',
    correlationId: 'corr-0001',
    receivedAt: '2026-11-21T00:00:00.000Z',
    ...spec,
  };
}

export { type Random, seededRandom };
