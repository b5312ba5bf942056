import { describe, expect, it } from 'vitest';
import { verify } from '../../../functions/licence-retrieve/domain/verification';
import { storedLicence } from './fixtures';

const NOW = new Date('2026-06-01T00:00:00Z');
const sha = (value: string) => ({ algorithm: 'sha256' as const, value });
const recorded = 'a'.repeat(64);
const other = 'b'.repeat(64);
const revocation = { at: '2026-05-01T00:00:00Z', by: 'issuer-330000-amr', reason: 'r' };

describe('licence verification (证照核验)', () => {
  it('authentic: the recorded digest of a valid licence (any case of hex)', () => {
    expect(verify(storedLicence(), sha(recorded), NOW)).toBe('authentic');
    expect(verify(storedLicence(), sha(recorded.toUpperCase()), NOW)).toBe('authentic');
  });

  it('tampered: another digest', () => expect(verify(storedLicence(), sha(other), NOW)).toBe('tampered'));

  it('revoked wins over the bytes; tampered wins over expiry', () => {
    expect(verify(storedLicence({ revocation }), sha(other), NOW)).toBe('revoked');
    expect(verify(storedLicence({ validTo: '2026-01-31' }), sha(other), NOW)).toBe('tampered');
    expect(verify(storedLicence({ validTo: '2026-01-31' }), sha(recorded), NOW)).toBe('expired');
  });

  it('unknown: no such licence, no recorded file, or a digest the hub did not compute', () => {
    expect(verify(undefined, sha(recorded), NOW)).toBe('unknown');
    expect(verify(storedLicence({ file: { state: 'awaiting_upload' } }), sha(recorded), NOW)).toBe('unknown');
    expect(verify(storedLicence(), { algorithm: 'sm3', value: recorded }, NOW)).toBe('unknown');
  });
});
