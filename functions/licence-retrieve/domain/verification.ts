import type { DigestAlgorithm } from './file';
import { type Licence, statusOf } from './licence';

/**
 * Licence verification (证照核验): is this file (or digest) the one the issuer uploaded, and may it be relied on?
 * The order says what matters most to a department holding the file: a licence the hub does not know (or whose file
 * it has not recorded) proves nothing; a revoked one is void whatever its bytes; different bytes are a forgery; only
 * then does the validity period speak.
 */
export type VerificationResult = 'authentic' | 'tampered' | 'revoked' | 'expired' | 'unknown';

export function verify(
  licence: Licence | undefined,
  presented: { algorithm: DigestAlgorithm; value: string },
  now: Date,
): VerificationResult {
  if (licence?.file.state !== 'recorded') return 'unknown';
  const status = statusOf(licence, now);
  if (status === 'revoked') return 'revoked';
  const recorded = licence.file.digests[presented.algorithm];
  // A digest the hub did not compute (SM3 with the profile off) cannot be compared.
  if (recorded === undefined) return 'unknown';
  if (recorded !== presented.value.toLowerCase()) return 'tampered';
  if (status === 'expired') return 'expired';
  return 'authentic';
}
