import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3EventNotificationEventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/s3';
import type { z } from 'zod';
import { dynamoDbClients } from '../../shared/aws/dynamodb';
import { loadConfig, requiredString, tableName } from '../../shared/config';
import { once } from '../../shared/entry';
import type { HubLogger } from '../../shared/observability';
import { sqsBatchConsumer } from '../../shared/sqs-consumer';
import { licenceSettingsEnv } from './config';
import { algorithmsOf, assertProfileSupported, type CryptoProfile } from './domain/file';
import { type FileRejection, type FileState, licenceIdOfObjectKey } from './domain/licence';
import { createFileStore, createLicenceS3Client, type FileStore } from './file-store';
import { createLicenceStore, type LicenceStore } from './store';

/**
 * Records a licence file's digest once its upload has landed: S3 sends "Object Created" to the account's default
 * bus, a rule there puts it on this capability's upload queue, and this consumer hashes the object (SHA-256, plus
 * SM3 under the national crypto profile), checks its size and format against what the issuer declared, and records
 * the outcome once. The first recorded file stays: a later upload to the same key changes nothing the hub serves
 * (downloads name the recorded version when the bucket is versioned, as it is in the cloud).
 */
export interface UploadDependencies {
  store: LicenceStore;
  files: FileStore;
  cryptoProfile: CryptoProfile;
  clock: () => Date;
}

export type ObjectCreated = z.output<typeof S3EventNotificationEventBridgeSchema>;
export type UploadOutcome = 'recorded' | 'rejected' | 'ignored';

export async function recordUpload(
  deps: UploadDependencies,
  event: ObjectCreated,
  logger: Pick<HubLogger, 'info' | 'warn'>,
): Promise<UploadOutcome> {
  const key = event.detail.object.key;
  const licenceId = licenceIdOfObjectKey(key);
  const licence = licenceId === undefined ? undefined : await deps.store.getLicence(licenceId);
  if (!licence) {
    logger.warn('upload of no registered licence ignored', { objectKey: key });
    return 'ignored';
  }
  if (licence.file.state === 'recorded') {
    logger.info('later upload ignored: the licence file is already recorded', {
      licenceId: licence.licenceId,
    });
    return 'ignored';
  }
  const versionId = event.detail.object['version-id'];
  const hashed = await deps.files.hashObject(key, versionId, algorithmsOf(deps.cryptoProfile));
  const now = deps.clock().toISOString();
  const rejection: FileRejection | undefined =
    hashed.size !== licence.declaredSize
      ? 'size_mismatch'
      : hashed.sniffedMediaType !== licence.mediaType
        ? 'media_type_mismatch'
        : undefined;
  const file: Exclude<FileState, { state: 'awaiting_upload' }> = rejection
    ? { state: 'rejected', reason: rejection, rejectedAt: now }
    : {
        state: 'recorded',
        digests: hashed.digests,
        size: hashed.size,
        ...(versionId === undefined ? {} : { versionId }),
        recordedAt: now,
      };
  if ((await deps.store.recordFile(licence.licenceId, file)) === 'already') return 'ignored';
  logger.info('licence file checked', { licenceId: licence.licenceId, state: file.state, rejection });
  return file.state;
}

const uploadEnv = licenceSettingsEnv.extend({
  LICENCES_TABLE: tableName,
  LICENCE_FILES_BUCKET: requiredString,
});

// Built on first use, so that importing the module (tests, synth) needs no environment.
const dependencies = once(async (): Promise<UploadDependencies> => {
  const aws = dynamoDbClients();
  const config = loadConfig(uploadEnv);
  assertProfileSupported(config.CRYPTO_PROFILE);
  return {
    store: createLicenceStore({ doc: aws.documentClient, table: config.LICENCES_TABLE }),
    files: createFileStore({
      s3: createLicenceS3Client(),
      bucket: config.LICENCE_FILES_BUCKET,
      uploadSeconds: config.UPLOAD_URL_SECONDS,
      downloadSeconds: config.DOWNLOAD_URL_SECONDS,
    }),
    cryptoProfile: config.CRYPTO_PROFILE,
    clock: () => new Date(),
  };
});

export const handler = sqsBatchConsumer({
  schema: S3EventNotificationEventBridgeSchema,
  processBatch: async (items, { logger, metrics }) => {
    const deps = await dependencies();
    const outcomes = new Map<string, Error | undefined>();
    await Promise.all(
      items.map(async (item) => {
        try {
          const outcome = await recordUpload(deps, item.body, logger);
          metrics.addMetric(`LicenceFiles_${outcome}`, MetricUnit.Count, 1);
          outcomes.set(item.messageId, undefined);
        } catch (error) {
          outcomes.set(item.messageId, error instanceof Error ? error : new Error(String(error)));
        }
      }),
    );
    return outcomes;
  },
});
