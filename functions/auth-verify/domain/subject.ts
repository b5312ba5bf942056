import { createHmac } from 'node:crypto';

/**
 * A person's subject (`sub`) in tokens and events: `u_` + the first 22 base64url characters (132 bits) of
 * HMAC-SHA256(idHmacKey, 'sub:' + idHmac). Stable — the same person always gets the same `sub`, on every
 * platform — yet pseudonymous: unlike the idHmac it cannot be joined with the hub's tables or recomputed from an
 * ID number without the key, so a platform that leaks its sessions leaks no identifier the hub stores.
 */
export const SUBJECT_PATTERN = /^u_[A-Za-z0-9_-]{22}$/;
const SUBJECT_HASH_CHARACTERS = 22;

export function subjectOf(idHmac: string, key: Uint8Array | string): string {
  if (key.length === 0) throw new Error('The identifier HMAC key is empty.');
  if (idHmac.length === 0) throw new Error('An idHmac is required to derive a subject.');
  const digest = createHmac('sha256', key).update(`sub:${idHmac}`, 'utf8').digest('base64url');
  return `u_${digest.slice(0, SUBJECT_HASH_CHARACTERS)}`;
}
