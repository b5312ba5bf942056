import { describe, expect, it } from 'vitest';
import {
  nameHmac,
  normaliseName,
  parseRegistryRow,
  toRegistryRecord,
} from '../../../functions/auth-verify/domain/registry-record';
import { hmacIdentifier } from '../../../shared/pii';

const KEY = 'unit-test-id-hmac-key-0123456789abcdef';

describe('registry records', () => {
  it('keys a person by the same idHmac every capability uses, with HMACs and a masked id only', () => {
    const record = toRegistryRecord({ subject: 'person', idNumber: '11010519491231002X', name: '张三' }, KEY);
    expect(record).toEqual({
      subject: 'person',
      idHmac: hmacIdentifier(KEY, 'citizen_id', '11010519491231002X'),
      nameHmac: nameHmac(KEY, '张三'),
      maskedId: '110105********002X',
      status: 'active',
    });
    expect(JSON.stringify(record)).not.toMatch(/张三|19491231/);
  });

  it('keys an enterprise by its credit code HMAC and hashes the legal representative', () => {
    const record = toRegistryRecord(
      {
        subject: 'enterprise',
        creditCode: '91330106MA2K111119',
        legalRepresentative: '王五',
        status: 'cancelled',
      },
      KEY,
    );
    expect(record).toEqual({
      subject: 'enterprise',
      creditCodeHmac: hmacIdentifier(KEY, 'credit_code', '91330106MA2K111119'),
      legalRepresentativeNameHmac: nameHmac(KEY, '王五'),
      maskedId: '913301********1119',
      status: 'cancelled',
    });
  });

  it('hashes a name apart from a number with the same text, and independently of spelling variants', () => {
    expect(nameHmac(KEY, '12345')).not.toBe(hmacIdentifier(KEY, 'citizen_id', '12345'));
    expect(nameHmac(KEY, ' Zoe\u0308 ')).toBe(nameHmac(KEY, 'Zoë'));
    expect(normaliseName(' 阿依古丽·买买提 ')).toBe('阿依古丽·买买提');
    expect(nameHmac(KEY, '张三')).not.toBe(nameHmac(KEY, '张 三'));
    expect(nameHmac(KEY, '张三')).not.toBe(nameHmac('another-key-of-at-least-32-characters', '张三'));
  });

  it.each([
    [{ subject: 'person', id: '11010519491231002X', name: '张三' }, 'ok'],
    [{ subject: ' Person ', id: '11010519491231002x', name: '张三', status: 'CANCELLED' }, 'ok'],
    [{ subject: 'enterprise', id: '91330106MA2K111119', name: '王五', status: '' }, 'ok'],
    [{ subject: 'person', id: '110105194912310021', name: '张三' }, 'citizen_id:check_character_mismatch'],
    [{ subject: 'person', id: '1101051949123100', name: '张三' }, 'citizen_id:invalid_length'],
    [{ subject: 'person', id: '11010519491231002X', name: '' }, 'name:name_missing'],
    [{ subject: 'person', id: '11010519491231002X', name: '张\uFFFD' }, 'name:name_invalid_characters'],
    [
      { subject: 'enterprise', id: '91330106MA2K111110', name: '王五' },
      'credit_code:check_character_mismatch',
    ],
    [{ subject: 'enterprise', id: '91330106MA2K111119', name: ' ' }, 'legal_representative:name_missing'],
    [{ subject: 'person', id: '11010519491231002X', name: '张三', status: 'dead' }, 'unknown_status'],
    [{ subject: 'robot', id: '11010519491231002X', name: '张三' }, 'unknown_subject'],
  ])('judges the row %o as %s', (row, expected) => {
    const result = parseRegistryRow(row);
    expect(result.ok ? 'ok' : result.reason).toBe(expected);
  });
});
