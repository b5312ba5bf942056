/**
 * The personal-data list (DESIGN §3): field names that hold, or can be turned back into, a person's identity. The
 * one place they are named; the public cloud's stores are tested against it (test/infra/clouds.test.ts). Pseudonymous
 * subjects (`sub`) are not on it: they are keyed HMACs of HMACs, unusable without the private cloud's key.
 */
export const PERSONAL_DATA_FIELDS = [
  'idNumber',
  'idHmac',
  'maskedId',
  'name',
  'maskedName',
  'phone',
  'phoneNumber',
  'mobile',
  'creditCode',
  'legalRepresentative',
  'applicant',
  'holder',
  'evaluatorIdHmac',
  // Free text a citizen typed may contain any of the above.
  'comment',
] as const;

/**
 * What each kind of store the public cloud may hold keeps at rest, tagged on the resource as `zwfw:contents`. A
 * table or bucket there without a declared contents fails the test, as does a declared field on the list above.
 */
export const PUBLIC_STORE_CONTENTS = {
  // shared/nonce-store.ts: pk `nonce#<accessKeyId>#<nonce>`, sk, expiresAt.
  nonces: ['pk', 'sk', 'expiresAt'],
  // Powertools idempotency records of the public routes: key hash, status, expiry, the stored response
  // (`data`: e.g. `{ evaluationId }`), the payload hash.
  idempotency: ['id', 'status', 'expiration', 'in_progress_expiration', 'data', 'validation'],
  // Assessment snapshots (functions/case-aggregate/snapshot.ts): rates and counts per region, department, item —
  // the period's snapshot and each province's item snapshot (`itemCode`: the item's public implementation code).
  // The same bucket holds the public dashboard's static page files under dashboard/ (code, no records).
  'assessment-snapshots': [
    'period',
    'periodType',
    'generatedAt',
    'coverage',
    'rounding',
    'notes',
    'scopes',
    'scope',
    'level',
    'province',
    'provinceName',
    'regionCode',
    'departmentCode',
    'itemCode',
    'counters',
    'rates',
  ],
  // The access-log bucket: S3 server access logs (requester ARN, key, status) of the snapshots bucket.
  's3-access-logs': [
    'bucketOwner',
    'bucket',
    'time',
    'remoteIp',
    'requester',
    'operation',
    'key',
    'httpStatus',
  ],
} as const satisfies Record<string, readonly string[]>;

export type PublicStoreContents = keyof typeof PUBLIC_STORE_CONTENTS;
export const CONTENTS_TAG = 'zwfw:contents';
