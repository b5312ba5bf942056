import type {
  IssueRequest,
  Licence,
  PseudonymisedHolder,
} from '../../../functions/licence-retrieve/domain/licence';
import { formatLicenceId } from '../../../shared/identifiers';

/** Identities and licences the licence tests share (dev registry persons; the dev issuer's authority). */
export const ISSUER_AUTHORITY = '11330000002593947X';
export const TYPE_CODE = '11100000000013338W032';
export const HOLDER_ID = '11010519491231002X';
export const OTHER_HOLDER_ID = '440524188001010014';
export const TEST_HMAC_KEY = 'licence-tests-hmac-key-0123456789abcdef';

export const licenceIdOf = (serial: string, authority = ISSUER_AUTHORITY) =>
  formatLicenceId({ typeCode: TYPE_CODE, authorityCode: authority, serial, version: '001' });

export function issueRequest(overrides: Partial<IssueRequest> = {}): IssueRequest {
  return {
    licenceId: licenceIdOf('T0001'),
    name: '营业执照',
    typeName: '营业执照',
    licenceNumber: '91330106MA2XXXXX0X',
    holder: { type: 'person', idType: 'citizen_id', idNumber: HOLDER_ID, name: '张三' },
    authorityName: '杭州市市场监督管理局',
    jurisdictionCode: '330106',
    issuedOn: '2026-01-05',
    validFrom: '2026-01-05',
    validTo: '2031-01-04',
    surface: { 名称: '杭州某某科技有限公司', 类型: '有限责任公司' },
    file: { mediaType: 'application/pdf', size: 1024 },
    ...overrides,
  };
}

export const holder: PseudonymisedHolder = {
  type: 'person',
  idType: 'citizen_id',
  idHmac: 'Bf2XpYAItYlScow_VT59ac340hW9EPy0SrvIORmdzYg',
  sub: 'u_8Jq2vXbN0kTq4yR7wLm3sA',
  maskedId: '110105********002X',
  maskedName: '张*',
};

export function storedLicence(overrides: Partial<Licence> = {}): Licence {
  return {
    licenceId: licenceIdOf('T0001'),
    typeCode: TYPE_CODE,
    authorityCode: ISSUER_AUTHORITY,
    name: '营业执照',
    typeName: '营业执照',
    licenceNumber: 'N-1',
    holder,
    authorityName: '杭州市市场监督管理局',
    jurisdictionCode: '330106',
    issuerClientId: 'issuer-330000-amr',
    issuedOn: '2026-01-05',
    validFrom: '2026-01-05',
    validTo: '2031-01-04',
    surface: {},
    mediaType: 'application/pdf',
    declaredSize: 3,
    file: {
      state: 'recorded',
      digests: { sha256: 'a'.repeat(64) },
      size: 3,
      recordedAt: '2026-01-05T02:00:00.000Z',
    },
    objectKey: `licences/${licenceIdOf('T0001')}`,
    registeredAt: '2026-01-05T01:00:00.000Z',
    requestDigest: 'x',
    ...overrides,
  };
}
