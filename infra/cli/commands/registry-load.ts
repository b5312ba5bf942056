import type { Readable } from 'node:stream';
import { type RegistryRecord, toRegistryRecord } from '../../../functions/auth-verify/domain/registry-record';
import type { PutReport } from '../../../functions/auth-verify/registry-store';
import { readRegistryCsv } from './registry-csv';

/**
 * `registry load`'s work, apart from the command line: stream the extract, validate each row, HMAC the valid
 * ones and hand them to `write` in slices. A rejected row is reported by line number and reason only.
 */

export interface LoadOptions {
  input: Readable;
  key: Uint8Array | string;
  /** Writes one slice of records (the registry store's putRecords); absent for a dry run. */
  write?: (records: RegistryRecord[]) => Promise<PutReport>;
  /** Records per write call (default 1,000). */
  sliceSize?: number;
  /** Rejected rows kept with their line numbers for the report (default 1,000); all are counted. */
  maxListedRejections?: number;
  /** Called after each slice with the number of data rows read so far. */
  onProgress?: (rowsRead: number) => void;
}

export interface RejectedRow {
  line: number;
  reason: string;
}

export interface LoadReport {
  /** Data rows read (blank lines excluded). */
  rows: number;
  /** Valid rows (written, unless a dry run). */
  valid: { person: number; enterprise: number };
  /** Valid rows that repeated an earlier row's number within the same slice (the later row won). */
  duplicates: number;
  rejectedCount: number;
  rejectedByReason: Record<string, number>;
  /** The first rejected rows, in file order. */
  rejected: RejectedRow[];
}

/** The load stopped at a write failure: what was written before it stays written (loads are upserts). */
export class LoadInterruptedError extends Error {
  override readonly name = 'LoadInterruptedError';
  constructor(
    readonly report: LoadReport,
    readonly lastLine: number,
    cause: unknown,
  ) {
    super(`writing stopped after line ${lastLine}: ${(cause as Error)?.name ?? 'Error'}`, { cause });
  }
}

export async function loadRegistryCsv(options: LoadOptions): Promise<LoadReport> {
  const sliceSize = options.sliceSize ?? 1_000;
  const maxListed = options.maxListedRejections ?? 1_000;
  const report: LoadReport = {
    rows: 0,
    valid: { person: 0, enterprise: 0 },
    duplicates: 0,
    rejectedCount: 0,
    rejectedByReason: {},
    rejected: [],
  };
  let slice: RegistryRecord[] = [];
  let lastLine = 0;

  const flush = async () => {
    if (slice.length > 0 && options.write) {
      try {
        report.duplicates += (await options.write(slice)).duplicates;
      } catch (error) {
        throw new LoadInterruptedError(report, lastLine, error);
      }
    }
    slice = [];
    options.onProgress?.(report.rows);
  };

  for await (const row of readRegistryCsv(options.input)) {
    report.rows += 1;
    lastLine = row.line;
    if (!row.ok) {
      report.rejectedCount += 1;
      report.rejectedByReason[row.reason] = (report.rejectedByReason[row.reason] ?? 0) + 1;
      if (report.rejected.length < maxListed) report.rejected.push({ line: row.line, reason: row.reason });
      continue;
    }
    report.valid[row.identity.subject] += 1;
    slice.push(toRegistryRecord(row.identity, options.key));
    if (slice.length >= sliceSize) await flush();
  }
  await flush();
  return report;
}
