import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { REPO_ROOT } from '../local/workers';
import type { CliIo } from './cli';
import { CliError, UsageError } from './errors';
import { progressBar } from './progress';

/**
 * What every operator command does the same way: parse its options, resolve paths and the local hub's state
 * folder, check whole numbers, read a CSV file with a progress bar and report the rows it rejected.
 */

/** The options of a command that writes one DynamoDB table: the local hub's by default, or one named. */
export const TARGET_OPTIONS = {
  table: { type: 'string' },
  endpoint: { type: 'string' },
  stage: { type: 'string', default: 'dev' },
  'state-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export type TargetValues = { table?: string; endpoint?: string; stage: string; 'state-dir'?: string };

export function parseCommandLine<O extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: O,
  allowPositionals = true,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    // parseArgs names the option at fault, never an argument's value.
    throw new UsageError((error as Error).message);
  }
}

export const resolvePath = (cwd: string, path: string) => (isAbsolute(path) ? path : join(cwd, path));

/** Where npm start keeps its state, wherever the operator stands. */
export function localStateDir(values: { 'state-dir'?: string }, io: CliIo): string {
  return resolvePath(io.cwd, values['state-dir'] ?? io.env.HUB_STATE_DIR ?? join(REPO_ROOT, '.hub'));
}

export function wholeNumber(
  name: string,
  raw: string | undefined,
  fallback: number,
  range: { min?: number; max: number },
): number {
  if (raw === undefined) return fallback;
  const min = range.min ?? 0;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > range.max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${range.max}.`);
  }
  return Number(raw);
}

/** The size of FILE in bytes, for the progress bar; a missing file (or a folder) is the operator's error. */
export async function readableFileSize(file: string): Promise<number> {
  const size = await stat(file).then(
    (s) => (s.isFile() ? s.size : Number.NaN),
    () => Number.NaN,
  );
  if (Number.isNaN(size)) throw new CliError(`Cannot read ${file}: no such file.`);
  return size;
}

/**
 * Streams FILE into `load` under a progress bar on stderr (bytes read, rows counted); the bar is stopped and
 * the file closed however the load ends.
 */
export async function loadFileWithProgress<R extends { rows: number }>(
  io: CliIo,
  file: { path: string; size: number; dryRun: boolean },
  load: (input: ReadStream, onProgress: (rows: number) => void) => Promise<R>,
): Promise<R> {
  const input = createReadStream(file.path);
  const progress = progressBar(io.stderr, file.dryRun ? 'checking' : 'loading', 'rows');
  progress.start(file.size);
  try {
    const report = await load(input, (rows) => progress.update(input.bytesRead, rows));
    progress.update(file.size, report.rows);
    return report;
  } finally {
    progress.stop();
    input.destroy();
  }
}

/** Rejected rows by line number and reason, never by their values; the unlisted ones only counted. */
export function printRejectedRows(
  io: CliIo,
  report: { rejectedCount: number; rejected: readonly { line: number; reason: string }[] },
): void {
  for (const { line, reason } of report.rejected) io.stderr.write(`line ${line}: rejected (${reason})\n`);
  const unlisted = report.rejectedCount - report.rejected.length;
  if (unlisted > 0) io.stderr.write(`… and ${unlisted} more rejected rows not listed.\n`);
}

export interface LoadCommandLine {
  values: TargetValues;
  /** FILE, resolved against the working folder. */
  path: string;
  size: number;
  dryRun: boolean;
}

/** The command line of a `<group> load FILE [--dry-run] [target]` command; undefined when help was asked and printed. */
export async function parseLoadCommandLine(
  args: string[],
  io: CliIo,
  command: { name: string; help: string },
): Promise<LoadCommandLine | undefined> {
  const { values, positionals } = parseCommandLine(args, {
    ...TARGET_OPTIONS,
    'dry-run': { type: 'boolean' },
  });
  if (values.help) {
    io.stdout.write(`${command.help}\n`);
    return undefined;
  }
  if (positionals.length !== 1) throw new UsageError(`${command.name} takes exactly one FILE.`);
  const path = resolvePath(io.cwd, positionals[0] as string);
  const size = await readableFileSize(path);
  return { values, path, size, dryRun: values['dry-run'] === true };
}
