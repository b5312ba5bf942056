import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import {
  parseRegistryRow,
  type RegistryIdentity,
  type RegistryRow,
} from '../../../functions/auth-verify/domain/registry-record';

/**
 * The registry extract format `registry load` reads: UTF-8 CSV (RFC 4180 quoting, LF or CRLF), one header
 * row naming the columns, then one identity per line:
 *
 *   subject,id,name,status
 *   person,11010519491231002X,张三,active
 *   enterprise,91330106MA2K111119,王五,
 *
 * `id` is the citizen ID number of a person or the unified social credit code of an enterprise; `name` the
 * person's or the legal representative's name; `status` (optional column, empty = active) active | cancelled.
 * A quoted field cannot span lines: one line is one record, so line numbers in reports are file line numbers.
 *
 * Nothing here ever puts a cell's text into an error or a reason: a row may hold an ID number and a name.
 */

export const REQUIRED_COLUMNS = ['subject', 'id', 'name'] as const;
export const OPTIONAL_COLUMNS = ['status'] as const;
type Column = (typeof REQUIRED_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number];
const KNOWN_COLUMNS: readonly string[] = [...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS];

export type CsvLineResult =
  | { ok: true; fields: string[] }
  | { ok: false; reason: 'unterminated_quote' | 'text_after_quote' };

/** Splits one CSV line into fields; `""` inside a quoted field is a quote. */
export function parseCsvLine(line: string): CsvLineResult {
  const fields: string[] = [];
  let position = 0;
  for (;;) {
    if (line[position] === '"') {
      let value = '';
      position += 1;
      for (;;) {
        const quote = line.indexOf('"', position);
        if (quote < 0) return { ok: false, reason: 'unterminated_quote' };
        value += line.slice(position, quote);
        if (line[quote + 1] === '"') {
          value += '"';
          position = quote + 2;
          continue;
        }
        position = quote + 1;
        break;
      }
      fields.push(value);
      if (position === line.length) return { ok: true, fields };
      if (line[position] !== ',') return { ok: false, reason: 'text_after_quote' };
      position += 1;
    } else {
      const comma = line.indexOf(',', position);
      if (comma < 0) {
        fields.push(line.slice(position));
        return { ok: true, fields };
      }
      fields.push(line.slice(position, comma));
      position = comma + 1;
    }
  }
}

/** The file cannot be read as an extract at all (bad header). The message never quotes the file. */
export class CsvFormatError extends Error {
  override readonly name = 'CsvFormatError';
}

export type ColumnIndex = Partial<Record<Column, number>> & Record<(typeof REQUIRED_COLUMNS)[number], number>;

const HEADER_HELP = `the first line must name the columns ${REQUIRED_COLUMNS.join(', ')} and optionally ${OPTIONAL_COLUMNS.join(', ')}`;

/** Column positions by name. Refuses unknown, repeated or missing columns without echoing them: a file without a header would otherwise print its first identity. */
export function parseHeader(line: string): ColumnIndex {
  const parsed = parseCsvLine(line.replace(/^\uFEFF/, ''));
  if (!parsed.ok) throw new CsvFormatError(`Line 1 is not a valid CSV header: ${HEADER_HELP}.`);
  const names = parsed.fields.map((field) => field.trim().toLowerCase());
  const index: Partial<Record<Column, number>> = {};
  for (const [position, name] of names.entries()) {
    if (!KNOWN_COLUMNS.includes(name)) {
      throw new CsvFormatError(`Column ${position + 1} of the header is not a known column: ${HEADER_HELP}.`);
    }
    if (index[name as Column] !== undefined) {
      throw new CsvFormatError(`The header names the column "${name}" twice.`);
    }
    index[name as Column] = position;
  }
  const missing = REQUIRED_COLUMNS.filter((column) => index[column] === undefined);
  if (missing.length > 0) throw new CsvFormatError(`The header lacks the column(s) ${missing.join(', ')}.`);
  return index as ColumnIndex;
}

export type CsvRow =
  | { line: number; ok: true; identity: RegistryIdentity }
  | { line: number; ok: false; reason: string };

/** Judges one data line against the header: a registry identity, or a value-free reason. */
export function parseDataLine(line: string, lineNumber: number, columns: ColumnIndex): CsvRow {
  const parsed = parseCsvLine(line);
  if (!parsed.ok) return { line: lineNumber, ok: false, reason: parsed.reason };
  const width = Object.keys(columns).length;
  if (parsed.fields.length !== width)
    return { line: lineNumber, ok: false, reason: 'wrong_number_of_columns' };
  const cell = (position: number | undefined) =>
    position === undefined ? undefined : parsed.fields[position];
  const row: RegistryRow = {
    subject: cell(columns.subject) ?? '',
    id: cell(columns.id) ?? '',
    name: cell(columns.name) ?? '',
    ...(columns.status === undefined ? {} : { status: cell(columns.status) ?? '' }),
  };
  const result = parseRegistryRow(row);
  return result.ok
    ? { line: lineNumber, ok: true, identity: result.identity }
    : { line: lineNumber, ok: false, reason: result.reason };
}

/**
 * Streams an extract row by row (constant memory, whatever its size). Blank lines are skipped. Throws a
 * CsvFormatError for an empty file or a bad header.
 */
export async function* readRegistryCsv(input: Readable): AsyncGenerator<CsvRow> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  let columns: ColumnIndex | undefined;
  for await (const line of lines) {
    lineNumber += 1;
    if (columns === undefined) {
      columns = parseHeader(line);
      continue;
    }
    if (line.trim() === '') continue;
    yield parseDataLine(line, lineNumber, columns);
  }
  if (columns === undefined) throw new CsvFormatError(`The file is empty: ${HEADER_HELP}.`);
}

/** Quotes a field when it needs it, for the CSV `registry seed --out` writes. */
export const csvField = (value: string): string =>
  /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;

export const csvLine = (fields: readonly string[]): string => `${fields.map(csvField).join(',')}\n`;
