import { describe, expect, it } from 'vitest';
import {
  issueRequestSchema,
  licenceIdOfObjectKey,
  objectKeyOf,
  parseQrPayload,
  qrPayloadOf,
  statusOf,
  toLicenceSummary,
  toLicenceView,
} from '../../../functions/licence-retrieve/domain/licence';
import { HOLDER_ID, issueRequest, licenceIdOf, storedLicence } from './fixtures';

const at = (iso: string) => new Date(iso);

describe('licence status, computed at read time (Asia/Shanghai days)', () => {
  const licence = storedLicence({ validFrom: '2026-01-05', validTo: '2026-12-31' });

  it('is valid from its first to its last day inclusive', () => {
    expect(statusOf(licence, at('2026-01-04T16:00:00Z'))).toBe('valid'); // 00:00 on 5 January in Shanghai
    expect(statusOf(licence, at('2026-12-31T15:59:59Z'))).toBe('valid');
  });

  it('expires the day after validTo, and is not yet valid before validFrom', () => {
    expect(statusOf(licence, at('2026-12-31T16:00:00Z'))).toBe('expired');
    expect(statusOf(licence, at('2026-01-04T15:59:59Z'))).toBe('not_yet_valid');
  });

  it('never expires without validTo, and a revocation beats every date', () => {
    const { validTo: _none, ...indefinite } = licence;
    expect(statusOf(indefinite, at('2099-01-01T00:00:00Z'))).toBe('valid');
    const revoked = { ...licence, revocation: { at: '2026-02-01T00:00:00Z', by: 'x', reason: 'r' } };
    expect(statusOf(revoked, at('2027-06-01T00:00:00Z'))).toBe('revoked');
  });
});

describe('the issue request', () => {
  it('accepts GB/T 36903 metadata with a valid identifier and holder', () => {
    expect(issueRequestSchema.safeParse(issueRequest()).success).toBe(true);
  });

  it.each([
    ['a wrong check character', { licenceId: `${licenceIdOf('T0001').slice(0, -1)}Z` }, '/licenceId'],
    [
      'a wrong prefix',
      { licenceId: licenceIdOf('T0001').replace('1.2.156.3005.2.', '1.2.156.3005.9.') },
      '/licenceId',
    ],
    [
      'a holder ID number with a wrong check character',
      {
        holder: {
          type: 'person',
          idType: 'citizen_id',
          idNumber: `${HOLDER_ID.slice(0, -1)}3`,
          name: '张三',
        },
      },
      '/holder/idNumber',
    ],
    ['validTo before validFrom', { validTo: '2025-01-01' }, '/validTo'],
    ['a file that is neither OFD nor PDF', { file: { mediaType: 'image/png', size: 1 } }, '/file/mediaType'],
  ] as const)('refuses %s, naming the field and not the value', (_, overrides, path) => {
    const result = issueRequestSchema.safeParse({ ...issueRequest(), ...overrides }, { reportInput: false });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((issue) => `/${issue.path.join('/')}`);
    expect(paths).toContain(path);
    expect(JSON.stringify(result.error?.issues.map((i) => i.message))).not.toContain(HOLDER_ID.slice(0, 10));
  });
});

describe('views', () => {
  it('show the holder masked only, with the GB/T 36903 holder code type', () => {
    const view = toLicenceView(storedLicence(), at('2026-06-01T00:00:00Z'));
    expect(view.holder).toEqual({
      type: 'person',
      idType: 'citizen_id',
      holderCodeType: '111',
      maskedId: '110105********002X',
      maskedName: '张*',
    });
    expect(JSON.stringify(view)).not.toContain('idHmac');
    expect(JSON.stringify(view)).not.toContain('u_8Jq2');
  });

  it('a summary has neither surface data nor file; a view has both', () => {
    const licence = storedLicence({ surface: { 名称: '某某' } });
    const summary = toLicenceSummary(licence, at('2026-06-01T00:00:00Z'));
    expect(summary).not.toHaveProperty('surface');
    expect(summary).not.toHaveProperty('file');
    expect(toLicenceView(licence, at('2026-06-01T00:00:00Z'))).toMatchObject({
      surface: { 名称: '某某' },
      file: { state: 'recorded', digests: { sha256: 'a'.repeat(64) } },
    });
  });
});

describe('QR payload and object keys', () => {
  it('round-trips an identifier through its QR payload', () => {
    const id = licenceIdOf('QR01');
    const parsed = parseQrPayload(qrPayloadOf(id));
    expect(parsed).toMatchObject({ ok: true, id: { value: id } });
  });

  it('refuses another prefix or a bad identifier inside', () => {
    expect(parseQrPayload(`https://example.org/${licenceIdOf('QR01')}`).ok).toBe(false);
    expect(parseQrPayload(`ZWFWLIC:1:${licenceIdOf('QR01').slice(0, -1)}Z`).ok).toBe(false);
  });

  it('maps a licence to its object key and back, and nothing else to a licence', () => {
    const id = licenceIdOf('K1');
    expect(licenceIdOfObjectKey(objectKeyOf(id))).toBe(id);
    expect(licenceIdOfObjectKey(`other/${id}`)).toBeUndefined();
    expect(licenceIdOfObjectKey('licences/not-an-id')).toBeUndefined();
  });
});
