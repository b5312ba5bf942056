import { createHash, getHashes, type Hash } from 'node:crypto';
import type { LicenceMediaType } from './licence';

/**
 * Digests of a licence file: SHA-256 always; SM3 (GB/T 32905) too when the national crypto profile is on. SM3 comes
 * from OpenSSL through node:crypto (OpenSSL 3 ships it, and Node bundles OpenSSL 3), so no npm library is needed; a
 * runtime without it refuses to start with the profile on rather than record files without their SM3 digest.
 */
export type DigestAlgorithm = 'sha256' | 'sm3';
export type FileDigests = { sha256: string; sm3?: string };
export type CryptoProfile = 'international' | 'national';

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sm3: 64 };

export function algorithmsOf(profile: CryptoProfile): DigestAlgorithm[] {
  return profile === 'national' ? ['sha256', 'sm3'] : ['sha256'];
}

export function assertProfileSupported(
  profile: CryptoProfile,
  available: readonly string[] = getHashes(),
): void {
  if (profile === 'national' && !available.includes('sm3')) {
    throw new Error('The national crypto profile needs SM3, which this runtime does not provide.');
  }
}

export const isDigestHex = (algorithm: DigestAlgorithm, value: string) =>
  value.length === HEX_LENGTH[algorithm] && /^[0-9a-f]+$/i.test(value);

/**
 * Hashes a file as it streams by, and keeps its first bytes to recognise its format: the size and the format are
 * checked against what the issuer declared before the digest is recorded.
 */
export class FileHasher {
  private readonly hashes: [DigestAlgorithm, Hash][];
  private head = Buffer.alloc(0);
  size = 0;

  constructor(algorithms: readonly DigestAlgorithm[]) {
    this.hashes = algorithms.map((algorithm) => [algorithm, createHash(algorithm)]);
  }

  update(chunk: Uint8Array): void {
    for (const [, hash] of this.hashes) hash.update(chunk);
    if (this.head.length < HEAD_BYTES) this.head = Buffer.concat([this.head, chunk]).subarray(0, HEAD_BYTES);
    this.size += chunk.length;
  }

  digests(): FileDigests {
    const digests = Object.fromEntries(
      this.hashes.map(([algorithm, hash]) => [algorithm, hash.digest('hex')]),
    );
    return digests as FileDigests;
  }

  mediaType(): LicenceMediaType | undefined {
    return sniffMediaType(this.head);
  }
}

export function digestsOf(content: Uint8Array, algorithms: readonly DigestAlgorithm[]): FileDigests {
  const hasher = new FileHasher(algorithms);
  hasher.update(content);
  return hasher.digests();
}

const HEAD_BYTES = 8;
const PDF_MAGIC = Buffer.from('%PDF-', 'latin1');
// An OFD file (GB/T 33190) is a ZIP container: local file header signature PK\3\4.
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

export function sniffMediaType(head: Uint8Array): LicenceMediaType | undefined {
  const bytes = Buffer.from(head);
  if (bytes.subarray(0, PDF_MAGIC.length).equals(PDF_MAGIC)) return 'application/pdf';
  if (bytes.subarray(0, ZIP_MAGIC.length).equals(ZIP_MAGIC)) return 'application/ofd';
  return undefined;
}
