import type { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { type DigestAlgorithm, type FileDigests, FileHasher } from './domain/file';
import type { LicenceMediaType } from './domain/licence';

/**
 * The only code touching the licence-files bucket. Files never pass through the API: the issuer uploads with a
 * presigned PUT that fixes the key, type and exact size, and users download with a presigned GET of the recorded
 * version. The URLs carry the signature of the function's role, so they work only as long as the role may.
 */
export interface PresignedRequest {
  method: 'PUT' | 'GET';
  url: string;
  /** Headers the client must send exactly as given (they are part of the signature). */
  headers: Record<string, string>;
  expiresAt: string;
}

export interface HashedObject {
  digests: FileDigests;
  size: number;
  /** What the first bytes say the file is; undefined when they are neither PDF nor OFD. */
  sniffedMediaType: LicenceMediaType | undefined;
}

export interface FileStore {
  presignUpload(
    key: string,
    file: { mediaType: LicenceMediaType; size: number },
    now: Date,
  ): Promise<PresignedRequest>;
  presignDownload(
    key: string,
    file: { mediaType: LicenceMediaType; versionId?: string; fileName: string },
    now: Date,
  ): Promise<PresignedRequest>;
  hashObject(
    key: string,
    versionId: string | undefined,
    algorithms: readonly DigestAlgorithm[],
  ): Promise<HashedObject>;
}

/**
 * The S3 client presigned URLs are made with. Checksums only when an operation requires them: by default the SDK
 * adds a CRC32 of the (empty) body to every presigned PUT, and S3 would refuse the real upload as a mismatch.
 * Path-style where an endpoint is configured (s3rver, LocalStack: no virtual-host DNS on 127.0.0.1).
 */
export function createLicenceS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  return new S3Client({
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL),
  });
}

export function createFileStore(deps: {
  s3: S3Client;
  bucket: string;
  uploadSeconds: number;
  downloadSeconds: number;
}): FileStore {
  const { s3, bucket } = deps;
  const expiry = (now: Date, seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();

  return {
    async presignUpload(key, file, now) {
      const headers = { 'content-type': file.mediaType, 'content-length': String(file.size) };
      const url = await getSignedUrl(
        s3,
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          ContentType: file.mediaType,
          ContentLength: file.size,
        }),
        // Signed, so S3 refuses an upload of another size or type than the issuer declared.
        { expiresIn: deps.uploadSeconds, signableHeaders: new Set(Object.keys(headers)), signingDate: now },
      );
      return { method: 'PUT', url, headers, expiresAt: expiry(now, deps.uploadSeconds) };
    },

    async presignDownload(key, file, now) {
      const url = await getSignedUrl(
        s3,
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(file.versionId === undefined ? {} : { VersionId: file.versionId }),
          ResponseContentType: file.mediaType,
          ResponseContentDisposition: `attachment; filename="${file.fileName}"`,
        }),
        { expiresIn: deps.downloadSeconds, signingDate: now },
      );
      return { method: 'GET', url, headers: {}, expiresAt: expiry(now, deps.downloadSeconds) };
    },

    async hashObject(key, versionId, algorithms) {
      const object = await s3.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(versionId === undefined ? {} : { VersionId: versionId }),
        }),
      );
      const hasher = new FileHasher(algorithms);
      for await (const chunk of object.Body as Readable) hasher.update(chunk as Uint8Array);
      return { digests: hasher.digests(), size: hasher.size, sniffedMediaType: hasher.mediaType() };
    },
  };
}
