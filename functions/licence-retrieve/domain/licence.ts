import { createHash } from 'node:crypto';
import * as z from 'zod';
import { calendarDaySchema, type Day, shanghaiDay } from '../../../shared/calendar';
import {
  citizenIdSchema,
  creditCodeSchema,
  type LicenceId,
  licenceIdSchema,
  validateLicenceId,
} from '../../../shared/identifiers';
import { regionCodeSchema } from '../../../shared/regions';
import type { FileDigests } from './file';

/**
 * A licence (电子证照) as the hub keeps it: GB/T 36903 metadata, the holder pseudonymised (ID HMAC, subject, masked
 * id and name — never the number or the name in clear), the surface data (照面信息) printed on its face, and its
 * file (OFD or PDF) with the digest recorded when the upload landed. Pure: no AWS here.
 */

/** The file formats GB/T 36905 allows: OFD (GB/T 33190) and PDF. */
export const LICENCE_MEDIA_TYPES = ['application/ofd', 'application/pdf'] as const;
export type LicenceMediaType = (typeof LICENCE_MEDIA_TYPES)[number];
export const DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024;
const MAX_SURFACE_FIELDS = 50;
const MAX_SURFACE_VALUE_LENGTH = 500;

/** GB/T 36903 holder code types: 111 citizen ID number, 001 unified social credit code. */
export const HOLDER_CODE_TYPES = { citizen_id: '111', credit_code: '001' } as const;
export type HolderIdType = keyof typeof HOLDER_CODE_TYPES;

const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((value) => !/\p{Cc}/u.test(value), 'Control characters are not allowed.');

const holderSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('person'),
    idType: z.literal('citizen_id'),
    idNumber: citizenIdSchema,
    name: text(64),
  }),
  z.strictObject({
    type: z.literal('legal_person'),
    idType: z.literal('credit_code'),
    idNumber: creditCodeSchema,
    name: text(128),
  }),
]);

/** `POST /v1/licences`: GB/T 36903 metadata and the file the issuer is about to upload. */
export const issueRequestSchema = z
  .strictObject({
    licenceId: licenceIdSchema,
    name: text(100).describe('Licence name (证照名称).'),
    typeName: text(100).describe('Licence type name (证照类型名称).'),
    licenceNumber: text(64).describe('Number printed on the licence (证照编号).'),
    holder: holderSchema,
    authorityName: text(100).describe('Issuing authority (发证机构).'),
    jurisdictionCode: regionCodeSchema.describe('Division code (GB/T 2260) of the issuing authority.'),
    issuedOn: calendarDaySchema,
    validFrom: calendarDaySchema,
    validTo: calendarDaySchema
      .optional()
      .describe('Last valid day; absent for a licence valid indefinitely.'),
    surface: z
      .record(text(64), text(MAX_SURFACE_VALUE_LENGTH))
      .refine((fields) => Object.keys(fields).length <= MAX_SURFACE_FIELDS, 'At most 50 surface fields.')
      .describe('Surface data (照面信息): the fields printed on the face of the licence.'),
    file: z.strictObject({
      mediaType: z.enum(LICENCE_MEDIA_TYPES),
      size: z.number().int().positive().describe('Exact size in bytes of the file to upload.'),
    }),
  })
  .superRefine((request, ctx) => {
    if (request.validTo !== undefined && request.validTo < request.validFrom) {
      ctx.addIssue({ code: 'custom', path: ['validTo'], message: 'validTo is before validFrom.' });
    }
  });
export type IssueRequest = z.output<typeof issueRequestSchema>;

export interface PseudonymisedHolder {
  type: 'person' | 'legal_person';
  idType: HolderIdType;
  idHmac: string;
  /** auth-verify's pseudonym of the idHmac: how a holder's token finds their licences. */
  sub: string;
  maskedId: string;
  maskedName: string;
}

export type FileState =
  | { state: 'awaiting_upload' }
  | { state: 'recorded'; digests: FileDigests; size: number; versionId?: string; recordedAt: string }
  | { state: 'rejected'; reason: FileRejection; rejectedAt: string };
export type FileRejection = 'size_mismatch' | 'media_type_mismatch';

export interface Licence {
  licenceId: string;
  typeCode: string;
  authorityCode: string;
  name: string;
  typeName: string;
  licenceNumber: string;
  holder: PseudonymisedHolder;
  authorityName: string;
  jurisdictionCode: string;
  issuerClientId: string;
  issuedOn: Day;
  validFrom: Day;
  validTo?: Day;
  surface: Record<string, string>;
  mediaType: LicenceMediaType;
  declaredSize: number;
  file: FileState;
  objectKey: string;
  revocation?: { at: string; by: string; reason: string };
  registeredAt: string;
  /** SHA-256 of the issue request minus the holder's clear values: tells a retry from a conflicting re-use. */
  requestDigest: string;
}

export type LicenceStatus = 'valid' | 'revoked' | 'expired' | 'not_yet_valid';

/**
 * Computed at read time from the revocation and the validity dates (Asia/Shanghai days): no sweep has to run
 * for a licence to expire, and nothing stored can disagree with the calendar.
 */
export function statusOf(
  licence: Pick<Licence, 'revocation' | 'validFrom' | 'validTo'>,
  now: Date,
): LicenceStatus {
  if (licence.revocation) return 'revoked';
  const today = shanghaiDay(now.getTime());
  if (licence.validTo !== undefined && today > licence.validTo) return 'expired';
  if (today < licence.validFrom) return 'not_yet_valid';
  return 'valid';
}

/** Where the file lives in the licence-files bucket: characters that need no encoding in S3 events or URLs. */
export const objectKeyOf = (licenceId: string) => `licences/${licenceId}`;
export function licenceIdOfObjectKey(key: string): string | undefined {
  if (!key.startsWith('licences/')) return undefined;
  const result = validateLicenceId(key.slice('licences/'.length));
  return result.ok ? result.value : undefined;
}

export function requestDigestOf(request: IssueRequest, holder: PseudonymisedHolder): string {
  const { holder: _clear, ...rest } = request;
  const canonical = JSON.stringify({
    ...rest,
    holder: { idHmac: holder.idHmac, maskedName: holder.maskedName },
  });
  return createHash('sha256').update(canonical, 'utf8').digest('base64url');
}

export function newLicence(input: {
  request: IssueRequest;
  id: LicenceId;
  holder: PseudonymisedHolder;
  issuerClientId: string;
  now: Date;
}): Licence {
  const { request, id, holder } = input;
  return {
    licenceId: id.value,
    typeCode: id.typeCode,
    authorityCode: id.authorityCode,
    name: request.name,
    typeName: request.typeName,
    licenceNumber: request.licenceNumber,
    holder,
    authorityName: request.authorityName,
    jurisdictionCode: request.jurisdictionCode,
    issuerClientId: input.issuerClientId,
    issuedOn: request.issuedOn,
    validFrom: request.validFrom,
    ...(request.validTo === undefined ? {} : { validTo: request.validTo }),
    surface: request.surface,
    mediaType: request.file.mediaType,
    declaredSize: request.file.size,
    file: { state: 'awaiting_upload' },
    objectKey: objectKeyOf(id.value),
    registeredAt: input.now.toISOString(),
    requestDigest: requestDigestOf(request, holder),
  };
}

/** The holder as every answer and event shows it. */
export const maskedHolderOf = (holder: PseudonymisedHolder) => ({
  type: holder.type,
  idType: holder.idType,
  holderCodeType: HOLDER_CODE_TYPES[holder.idType],
  maskedId: holder.maskedId,
  maskedName: holder.maskedName,
});

/** A line of a listing: no surface data, no file URL (a fetch gives those, and is audited as one). */
export function toLicenceSummary(licence: Licence, now: Date) {
  return {
    licenceId: licence.licenceId,
    name: licence.name,
    typeCode: licence.typeCode,
    typeName: licence.typeName,
    licenceNumber: licence.licenceNumber,
    status: statusOf(licence, now),
    holder: maskedHolderOf(licence.holder),
    issuer: {
      authorityCode: licence.authorityCode,
      authorityName: licence.authorityName,
      jurisdictionCode: licence.jurisdictionCode,
    },
    issuedOn: licence.issuedOn,
    validFrom: licence.validFrom,
    ...(licence.validTo === undefined ? {} : { validTo: licence.validTo }),
    ...(licence.revocation ? { revokedAt: licence.revocation.at } : {}),
    qrPayload: qrPayloadOf(licence.licenceId),
  };
}

/** The whole licence for an authorised use: the summary, its surface data and what is known of its file. */
export function toLicenceView(licence: Licence, now: Date, download?: { url: string; expiresAt: string }) {
  return {
    ...toLicenceSummary(licence, now),
    surface: licence.surface,
    file: fileViewOf(licence),
    ...(download ? { download } : {}),
  };
}

function fileViewOf(licence: Licence) {
  const base = { mediaType: licence.mediaType, state: licence.file.state };
  if (licence.file.state === 'recorded') {
    return { ...base, size: licence.file.size, digests: licence.file.digests };
  }
  if (licence.file.state === 'rejected') return { ...base, rejection: licence.file.reason };
  return base;
}

/**
 * The QR payload a licence carries (certShare's "query by QR code"): a versioned prefix and the identifier, so a
 * scanner can tell a hub licence code from any other QR code and later versions can add fields after it.
 */
export const QR_PAYLOAD_PREFIX = 'ZWFWLIC:1:';
export const qrPayloadOf = (licenceId: string) => `${QR_PAYLOAD_PREFIX}${licenceId}`;

export type QrPayloadResult = { ok: true; id: LicenceId } | { ok: false; reason: string };
export function parseQrPayload(payload: string): QrPayloadResult {
  const trimmed = payload.trim();
  if (!trimmed.toUpperCase().startsWith(QR_PAYLOAD_PREFIX)) {
    return { ok: false, reason: `A licence QR payload starts with ${QR_PAYLOAD_PREFIX}.` };
  }
  const result = validateLicenceId(trimmed.slice(QR_PAYLOAD_PREFIX.length));
  return result.ok ? { ok: true, id: result } : { ok: false, reason: result.reason };
}
