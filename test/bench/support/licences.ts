import { DEMO_PERSONS } from '../../../functions/auth-verify/registry-seed';
import { formatLicenceId } from '../../../shared/identifiers';

/** The licence an issuing department registers in the benchmarks: a business licence of a demo person. */

export const BENCH_HOLDER = DEMO_PERSONS[0] as { idNumber: string; name: string };
export const BENCH_LICENCE_FILE = Buffer.from(
  '%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n% 营业执照 bench\n%%EOF\n',
);

export const benchLicenceId = (serial: string) =>
  formatLicenceId({
    typeCode: '11100000000013338W032',
    authorityCode: '11330000002593947X',
    serial,
    version: '001',
  });

/** The body of POST /v1/licences for that licence, held by `holder` (the demo person by default). */
export const licenceIssueBody = (
  licenceId: string,
  holder: { idNumber: string; name: string } = BENCH_HOLDER,
) => ({
  licenceId,
  name: '营业执照',
  typeName: '营业执照',
  licenceNumber: '91330106MA2K111119',
  holder: { type: 'person', idType: 'citizen_id', idNumber: holder.idNumber, name: holder.name },
  authorityName: '杭州市市场监督管理局',
  jurisdictionCode: '330106',
  issuedOn: '2026-01-05',
  validFrom: '2026-01-05',
  surface: { 名称: '杭州某某科技有限公司', 法定代表人: holder.name },
  file: { mediaType: 'application/pdf', size: BENCH_LICENCE_FILE.length },
});
