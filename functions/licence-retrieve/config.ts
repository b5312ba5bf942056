import * as z from 'zod';
import { positiveInt } from '../../shared/config';
import { DEFAULT_MAX_FILE_BYTES } from './domain/licence';

/** How long a presigned URL lives. A download URL never outlives 300 s (DESIGN §1.2). */
export const DEFAULT_UPLOAD_URL_SECONDS = 900;
export const MAX_DOWNLOAD_URL_SECONDS = 300;

/** Settings every licence function reads (the construct sets them; the defaults are the design's). */
export const licenceSettingsEnv = z.object({
  UPLOAD_URL_SECONDS: positiveInt(DEFAULT_UPLOAD_URL_SECONDS).pipe(z.number().max(3600)),
  DOWNLOAD_URL_SECONDS: positiveInt(MAX_DOWNLOAD_URL_SECONDS).pipe(z.number().max(MAX_DOWNLOAD_URL_SECONDS)),
  MAX_LICENCE_FILE_BYTES: positiveInt(DEFAULT_MAX_FILE_BYTES),
  /** `national` adds SM3 to every recorded file digest (国密 profile). */
  CRYPTO_PROFILE: z.enum(['international', 'national']).default('international'),
});
export type LicenceSettings = z.output<typeof licenceSettingsEnv>;
