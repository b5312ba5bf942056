import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import {
  DEFAULT_CATALOGUE_SEED,
  DEFAULT_ITEMS_PER_REGION,
  generateCatalogue,
  ITEM_TEMPLATES,
} from '../../../functions/case-aggregate/catalogue-seed';
import { createCatalogueStore } from '../../../functions/case-aggregate/catalogue-store';
import {
  CATALOGUE_COLUMNS,
  type CatalogueItem,
  type CatalogueRow,
  catalogueRowOf,
  parseCatalogueRow,
} from '../../../functions/case-aggregate/domain/catalogue';
import { ENDPOINTS_FILE, OUTPUTS_FILE, readEndpoints, readOutputs } from '../../local/outputs';
import type { CliIo } from '../cli';
import {
  loadFileWithProgress,
  localStateDir,
  parseCommandLine,
  parseLoadCommandLine,
  printRejectedRows,
  resolvePath,
  TARGET_OPTIONS,
  type TargetValues,
  wholeNumber,
} from '../command-kit';
import { CliError, UsageError } from '../errors';
import { progressBar } from '../progress';
import { documentClientFor, privateStackName, type RegistryTarget, resolveTarget } from '../target';
import { csvLine, parseCsvLine } from './registry-csv';

/**
 * `items load` and `items seed`: the item catalogue (事项实施清单) of case aggregation. Rows are validated by
 * domain/catalogue.ts and written by the catalogue store; a rejected row is reported by line number and reason.
 */

/** The stack output naming the catalogue table (infra/constructs/case-aggregation.ts). */
export const CATALOGUE_TABLE_OUTPUT = 'CatalogueTableName';
/** Who wrote an item loaded by an operator, in `updatedBy`. */
const CLI_WRITER = 'cli';

const TARGET_HELP = `Target (default: the local hub started by npm start):
  --table NAME       catalogue table; default: output ${CATALOGUE_TABLE_OUTPUT} of stack zwfw-<stage>-private
                     in <state-dir>/outputs.json. With --table and no --endpoint, the AWS SDK's own
                     endpoint, region and credentials are used (a deployed table).
  --endpoint URL     DynamoDB endpoint; default: the local hub's DynamoDB Local (<state-dir>/endpoints.json)
  --stage NAME       stage of the local hub's stacks (default: dev)
  --state-dir DIR    the local hub's state folder (default: HUB_STATE_DIR, else .hub in the repository)`;

export const ITEMS_LOAD_HELP = `Usage: npm run hub -- items load FILE [options]

Loads an item catalogue (事项实施清单) into the hub. Every row is validated; valid rows create or replace
the item of their implementation code, whoever wrote it before. Rejected rows are reported by line
number and reason (invalid_<column>, wrong_number_of_columns, …).

FILE: UTF-8 CSV with a header row naming the columns (any order; LF or CRLF; RFC 4180 quotes on one line):
  ${CATALOGUE_COLUMNS.join(',')}
    implementationCode  31 characters, led by the implementing body's unified social credit code
    name                the item's name, 1–200 characters
    departmentCode      unified social credit code of the department
    regionCode          6-digit GB/T 2260 division code within one of the 32 regions
    promisedDays        promised time limit in working days (承诺时限), 0–3650
    statutoryDays       statutory time limit in working days (法定时限), ≥ promisedDays
    fullyOnlineCapable  true | false (全程网办)

Options:
  --dry-run          validate every row and report; write nothing (needs no hub)
  -h, --help         this help

${TARGET_HELP}

Exit status: 0 every row loaded; 1 some rows rejected or the load failed; 2 usage error.`;

export const ITEMS_SEED_HELP = `Usage: npm run hub -- items seed [--per-region N] [--seed S] [--out FILE] [options]

Writes a synthetic catalogue for all 32 regions: N items per region (departments with generated
credit codes of the region, implementation codes led by them, plausible time limits). The same --seed
gives the same catalogue. For development and benchmarks only.

Options:
  --per-region N     items per region, 1–${ITEM_TEMPLATES.length} (default ${DEFAULT_ITEMS_PER_REGION})
  --seed S           seed of the generator, a whole number (default ${DEFAULT_CATALOGUE_SEED})
  --out FILE         also write the catalogue to FILE as a CSV that items load reads
  -h, --help         this help

${TARGET_HELP}

Exit status: 0 seeded; 1 failure; 2 usage error.`;

/** The catalogue table: named on the command line, else the local hub's, from the files npm start leaves. */
export function resolveCatalogueTarget(values: TargetValues, io: CliIo): RegistryTarget {
  const stateDir = localStateDir(values, io);
  const options = { endpoint: values.endpoint, stage: values.stage, stateDir };
  if (values.table !== undefined) return resolveTarget({ ...options, table: values.table }, io.cwd);
  let table: string | undefined;
  let endpoint = values.endpoint;
  try {
    table = readOutputs(stateDir)[privateStackName(values.stage)]?.[CATALOGUE_TABLE_OUTPUT];
    endpoint ??= readEndpoints(stateDir).dynamodb;
  } catch {
    throw new CliError(
      `No local hub state in ${stateDir} (${OUTPUTS_FILE}, ${ENDPOINTS_FILE}): start the hub (npm start) once, or pass --table and --endpoint.`,
    );
  }
  if (!table) {
    throw new CliError(
      `${join(stateDir, OUTPUTS_FILE)} has no ${CATALOGUE_TABLE_OUTPUT} output for stack ${privateStackName(values.stage)}: restart the hub, or pass --table.`,
    );
  }
  return resolveTarget({ ...options, table, endpoint }, io.cwd);
}

// ---- loading -------------------------------------------------------------------------------------------

export interface RejectedRow {
  line: number;
  reason: string;
}

export interface CatalogueLoadReport {
  rows: number;
  valid: number;
  rejectedCount: number;
  /** The first rejected rows, in file order. */
  rejected: RejectedRow[];
}

export interface CatalogueLoadOptions {
  input: Readable;
  /** Writes one slice of items; absent for a dry run. */
  write?: (items: CatalogueItem[]) => Promise<unknown>;
  sliceSize?: number;
  maxListedRejections?: number;
  onProgress?: (rowsRead: number) => void;
}

/** The file cannot be read as a catalogue (bad header). The message never quotes the file. */
export class CatalogueFormatError extends CliError {}

type ColumnIndex = Record<(typeof CATALOGUE_COLUMNS)[number], number>;

function parseCatalogueHeader(line: string): ColumnIndex {
  const parsed = parseCsvLine(line.replace(/^\uFEFF/, ''));
  const help = `the first line must name the columns ${CATALOGUE_COLUMNS.join(', ')}`;
  if (!parsed.ok) throw new CatalogueFormatError(`Line 1 is not a valid CSV header: ${help}.`);
  const names = parsed.fields.map((field) => field.trim());
  const index: Partial<ColumnIndex> = {};
  for (const column of CATALOGUE_COLUMNS) {
    const position = names.indexOf(column);
    if (position < 0 || names.lastIndexOf(column) !== position) {
      throw new CatalogueFormatError(`The header must name the column ${column} exactly once: ${help}.`);
    }
    index[column] = position;
  }
  if (names.length !== CATALOGUE_COLUMNS.length) {
    throw new CatalogueFormatError(`The header names unknown columns: ${help}.`);
  }
  return index as ColumnIndex;
}

function parseLine(
  line: string,
  columns: ColumnIndex,
): { ok: true; item: CatalogueItem } | { ok: false; reason: string } {
  const parsed = parseCsvLine(line);
  if (!parsed.ok) return parsed;
  if (parsed.fields.length !== CATALOGUE_COLUMNS.length)
    return { ok: false, reason: 'wrong_number_of_columns' };
  const row = Object.fromEntries(
    CATALOGUE_COLUMNS.map((column) => [column, parsed.fields[columns[column]] ?? '']),
  ) as CatalogueRow;
  return parseCatalogueRow(row);
}

/** Streams a catalogue CSV row by row (constant memory) and writes valid items in slices. */
export async function loadCatalogueCsv(options: CatalogueLoadOptions): Promise<CatalogueLoadReport> {
  const sliceSize = options.sliceSize ?? 500;
  const maxListed = options.maxListedRejections ?? 1_000;
  const report: CatalogueLoadReport = { rows: 0, valid: 0, rejectedCount: 0, rejected: [] };
  let slice: CatalogueItem[] = [];
  const flush = async () => {
    if (slice.length > 0 && options.write) await options.write(slice);
    slice = [];
    options.onProgress?.(report.rows);
  };
  const lines = createInterface({ input: options.input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  let columns: ColumnIndex | undefined;
  for await (const line of lines) {
    lineNumber += 1;
    if (columns === undefined) {
      columns = parseCatalogueHeader(line);
      continue;
    }
    if (line.trim() === '') continue;
    report.rows += 1;
    const result = parseLine(line, columns);
    if (!result.ok) {
      report.rejectedCount += 1;
      if (report.rejected.length < maxListed)
        report.rejected.push({ line: lineNumber, reason: result.reason });
      continue;
    }
    report.valid += 1;
    slice.push(result.item);
    if (slice.length >= sliceSize) await flush();
  }
  if (columns === undefined) throw new CatalogueFormatError('The file is empty: it needs a header row.');
  await flush();
  return report;
}

export async function itemsLoad(args: string[], io: CliIo): Promise<number> {
  const commandLine = await parseLoadCommandLine(args, io, { name: 'items load', help: ITEMS_LOAD_HELP });
  if (!commandLine) return 0;
  const { values, path, size, dryRun } = commandLine;
  const target = dryRun ? undefined : resolveCatalogueTarget(values, io);
  const doc = target && documentClientFor(target);
  const store = doc && target && createCatalogueStore({ doc, table: target.table });
  try {
    const updatedAt = new Date().toISOString();
    const report = await loadFileWithProgress(io, { path, size, dryRun }, (input, onProgress) =>
      loadCatalogueCsv({
        input,
        ...(store ? { write: (items) => store.putItems(items, { updatedAt, updatedBy: CLI_WRITER }) } : {}),
        onProgress,
      }),
    );
    printRejectedRows(io, report);
    io.stdout.write(
      target
        ? `Loaded ${report.valid} items into ${target.table}; ${report.rejectedCount} of ${report.rows} rows rejected.\n`
        : `Dry run: ${report.rows} rows read, ${report.valid} valid, nothing written.\n`,
    );
    return report.rejectedCount > 0 ? 1 : 0;
  } finally {
    doc?.destroy();
  }
}

export async function itemsSeed(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(args, {
    ...TARGET_OPTIONS,
    'per-region': { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
  });
  if (values.help) {
    io.stdout.write(`${ITEMS_SEED_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError('items seed takes no positional arguments.');
  const itemsPerRegion = wholeNumber('per-region', values['per-region'], DEFAULT_ITEMS_PER_REGION, {
    min: 1,
    max: ITEM_TEMPLATES.length,
  });
  const seed = wholeNumber('seed', values.seed, DEFAULT_CATALOGUE_SEED, { max: 2 ** 32 - 1 });
  const target = resolveCatalogueTarget(values, io);
  const doc = documentClientFor(target);
  const items = generateCatalogue({ seed, itemsPerRegion });
  const progress = progressBar(io.stderr, 'seeding', 'items');
  progress.start(items.length);
  try {
    const store = createCatalogueStore({ doc, table: target.table });
    const stamp = { updatedAt: new Date().toISOString(), updatedBy: CLI_WRITER };
    for (let i = 0; i < items.length; i += 500) {
      await store.putItems(items.slice(i, i + 500), stamp);
      progress.update(Math.min(i + 500, items.length), Math.min(i + 500, items.length));
    }
  } finally {
    progress.stop();
    doc.destroy();
  }
  if (values.out !== undefined) await writeCatalogueCsv(resolvePath(io.cwd, values.out), items);
  io.stdout.write(`Seeded ${items.length} items (seed ${seed}) into ${target.table}.\n`);
  if (values.out !== undefined) io.stdout.write(`Catalogue written to ${values.out}.\n`);
  return 0;
}

export async function writeCatalogueCsv(path: string, items: readonly CatalogueItem[]): Promise<void> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  const write = async (fields: readonly string[]) => {
    if (!out.write(csvLine(fields))) await once(out, 'drain');
  };
  await write(CATALOGUE_COLUMNS);
  for (const item of items) await write(catalogueRowOf(item));
  out.end();
  await finished(out);
}
