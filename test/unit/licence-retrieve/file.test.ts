import { describe, expect, it } from 'vitest';
import {
  assertProfileSupported,
  digestsOf,
  FileHasher,
  sniffMediaType,
} from '../../../functions/licence-retrieve/domain/file';

describe('file digests', () => {
  it('SHA-256 and, under the national profile, SM3 (GB/T 32905 test vector "abc")', () => {
    const digests = digestsOf(Buffer.from('abc'), ['sha256', 'sm3']);
    expect(digests.sha256).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(digests.sm3).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  });

  it('hashes a stream in chunks the same as in one piece, and counts its bytes', () => {
    const content = Buffer.from('%PDF-1.7 a licence file, streamed in pieces');
    const hasher = new FileHasher(['sha256']);
    for (let i = 0; i < content.length; i += 3) hasher.update(content.subarray(i, i + 3));
    expect(hasher.digests()).toEqual(digestsOf(content, ['sha256']));
    expect(hasher.size).toBe(content.length);
    expect(hasher.mediaType()).toBe('application/pdf');
  });

  it('a runtime without SM3 refuses the national profile, and the international one needs none', () => {
    expect(() => assertProfileSupported('national', ['sha256'])).toThrow(/SM3/);
    expect(() => assertProfileSupported('international', ['sha256'])).not.toThrow();
    expect(() => assertProfileSupported('national')).not.toThrow();
  });
});

describe('format sniffing', () => {
  it('knows PDF by %PDF- and OFD by its ZIP container', () => {
    expect(sniffMediaType(Buffer.from('%PDF-1.4\n'))).toBe('application/pdf');
    expect(sniffMediaType(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14]))).toBe('application/ofd');
    expect(sniffMediaType(Buffer.from('GIF89a'))).toBeUndefined();
  });
});
