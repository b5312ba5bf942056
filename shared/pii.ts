import { createHmac } from 'node:crypto';

/**
 * Keyed hash of an identifier, so that records about the same person or organisation can be joined
 * without storing the number. The type is part of the message: the same digits under two identifier
 * types are different people. Normalising here makes the hash independent of the caller's spelling.
 */
export function hmacIdentifier(key: string | Uint8Array, idType: string, idNumber: string): string {
  if (key.length === 0) throw new Error('The identifier HMAC key is empty.');
  const normalised = idNumber.trim().toUpperCase();
  return createHmac('sha256', key).update(`${idType}:${normalised}`, 'utf8').digest('base64url');
}
