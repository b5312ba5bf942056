import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';

/**
 * An AWS SDK error that says "later", not "never": throttling, a transient network failure or a 5xx of the
 * service — left over once the SDK's own retries are spent. Classified by the SDK's own rules
 * (@smithy/core/retry, what its retry strategy uses), so the list of codes is never kept by hand here.
 */
export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error) || !('$metadata' in error)) return false;
  const sdkError = error as Parameters<typeof isThrottlingError>[0];
  return isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError);
}
