import { readFile } from 'node:fs/promises';
import { CASE_ROUTES } from '../../../functions/case-aggregate/api';
import { EVALUATION_ROUTES } from '../../../functions/evaluation-ingest/api';
import { HubProblemError } from '../../../shared/client';
import { provinceOf } from '../../../shared/regions';
import type { CliIo } from '../cli';
import { parseCommandLine, readableFileSize, resolvePath, wholeNumber } from '../command-kit';
import { CliError, UsageError } from '../errors';
import { apiClient, credentialsFor, HUB_API_HELP, HUB_API_OPTIONS, resolveHubUrl } from '../hub-api';
import { progressBar } from '../progress';
import { parseCsvLine } from './registry-csv';

export const SEND_HELP = `Usage: npm run hub -- send cases|evaluations FILE [options]

Sends case status records (POST /v1/cases:batch) or evaluations (POST /v1/evaluations:batch) from FILE
through the API with the typed client: signed, in batches, each batch with an Idempotency-Key (a retried
batch is never counted twice), with a progress bar. Rejected records are listed by their number in FILE
and the hub's reason, never by value.

FILE is JSON (an array of records, or { "records": [...] }) or CSV (.csv: a header row of field names,
nested fields dotted: applicant.type, applicant.idType, applicant.idNumber, applicant.name,
evaluator.type, evaluator.idType, evaluator.idNumber, dimensions.<name>; numbers and true/false are
converted).

Options:
  --batch N          records per request (default 500, at most 500)
  -h, --help         this help

${HUB_API_HELP}
  Without --client, each province's records go with that province's development client (region-<code>).

Exit status: 0 every record accepted; 1 some rejected or a request failed; 2 usage error.`;

const options = {
  ...HUB_API_OPTIONS,
  batch: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const KINDS = ['cases', 'evaluations'];

const NUMERIC = /^(promisedDays|statutoryDays|level|dimensions\.[A-Za-z]+)$/;
const BOOLEAN = /^(fullyOnline)$/;

/** Records of FILE, in order; the record number is its index + 1. */
export async function readRecords(path: string): Promise<Record<string, unknown>[]> {
  const text = (await readFile(path, 'utf8')).replace(/^\uFEFF/, '');
  if (path.toLowerCase().endsWith('.csv')) return recordsOfCsv(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not JSON (name a CSV file *.csv).`);
  }
  const records = Array.isArray(parsed) ? parsed : (parsed as { records?: unknown })?.records;
  if (!Array.isArray(records)) throw new CliError(`${path} holds neither an array nor { "records": [...] }.`);
  return records as Record<string, unknown>[];
}

export function recordsOfCsv(text: string): Record<string, unknown>[] {
  const lines = text.split(/\r?\n/).filter((line) => line.length > 0);
  const header = parseCsvLine(lines[0] ?? '');
  if (!header.ok || header.fields.length === 0)
    throw new CliError('The CSV file has no readable header row.');
  return lines.slice(1).map((line, index) => {
    const row = parseCsvLine(line);
    if (!row.ok) throw new CliError(`CSV line ${index + 2}: ${row.reason.replaceAll('_', ' ')}.`);
    const record: Record<string, unknown> = {};
    header.fields.forEach((name, column) => {
      const raw = row.fields[column];
      if (raw === undefined || raw === '') return;
      const value =
        NUMERIC.test(name) && /^-?\d+(\.\d+)?$/.test(raw)
          ? Number(raw)
          : BOOLEAN.test(name)
            ? raw === 'true'
            : raw;
      setPath(record, name.split('.'), value);
    });
    return record;
  });
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const child = (target[head] ?? {}) as Record<string, unknown>;
  target[head] = child;
  setPath(child, rest, value);
}

/** The province a record belongs to, for picking its development client; undefined when it names none. */
function provinceOfRecord(record: Record<string, unknown>): string | undefined {
  const region = record.regionCode;
  if (typeof region !== 'string' || !/^\d{6}$/.test(region)) return undefined;
  try {
    return provinceOf(region);
  } catch {
    return undefined;
  }
}

export interface SendReport {
  accepted: number;
  rejected: { record: number; reason: string }[];
}

/** Sends indexed records in batches with one client; rejected ones by their record number. */
export async function sendInBatches(
  io: CliIo,
  send: (records: unknown[]) => Promise<{ accepted: number; rejected: { index: number; reason: string }[] }>,
  indexed: { record: number; value: unknown }[],
  batchSize: number,
  onBatch: (count: number) => void,
): Promise<SendReport> {
  const report: SendReport = { accepted: 0, rejected: [] };
  for (let start = 0; start < indexed.length; start += batchSize) {
    const batch = indexed.slice(start, start + batchSize);
    try {
      const reply = await send(batch.map((entry) => entry.value));
      report.accepted += reply.accepted;
      for (const { index, reason } of reply.rejected) {
        report.rejected.push({ record: batch[index]?.record ?? -1, reason });
      }
    } catch (error) {
      if (!(error instanceof HubProblemError)) throw error;
      // A batch refused whole (every record invalid, or a problem of the request): each record with the reason.
      const rejected = (error.problem.rejected as { index: number; reason: string }[] | undefined) ?? [];
      const reasonOf = (i: number) => rejected.find((r) => r.index === i)?.reason ?? error.slug;
      for (const [i, entry] of batch.entries())
        report.rejected.push({ record: entry.record, reason: reasonOf(i) });
      if (rejected.length === 0) io.stderr.write(`batch from record ${batch[0]?.record}: ${error.message}\n`);
    }
    onBatch(batch.length);
  }
  return report;
}

export async function sendCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(args, options);
  if (values.help) {
    io.stdout.write(`${SEND_HELP}\n`);
    return 0;
  }
  const [kind, file] = positionals;
  if (positionals.length !== 2 || !(kind && KINDS.includes(kind)) || !file) {
    throw new UsageError('send takes cases|evaluations and one FILE.');
  }
  const batchSize = wholeNumber('batch', values.batch, 500, { min: 1, max: 500 });
  const path = resolvePath(io.cwd, file);
  await readableFileSize(path);
  const records = await readRecords(path);
  if (records.length === 0) throw new CliError(`${path} holds no records.`);
  const url = resolveHubUrl(values, io);

  // One client for everything when named (or a deployed hub's), else each province's own.
  const groups = new Map<string, { record: number; value: unknown }[]>();
  records.forEach((value, index) => {
    const clientId =
      values.client ?? (io.env.HUB_ACCESS_KEY_ID ? '' : `region-${provinceOfRecord(value) ?? '000000'}`);
    const group = groups.get(clientId) ?? [];
    group.push({ record: index + 1, value });
    groups.set(clientId, group);
  });

  const progress = progressBar(io.stderr, `sending ${kind}`, 'records');
  progress.start(records.length);
  let sent = 0;
  const total: SendReport = { accepted: 0, rejected: [] };
  try {
    for (const [clientId, indexed] of groups) {
      const unknownProvince = clientId === 'region-000000';
      if (unknownProvince) {
        for (const entry of indexed) total.rejected.push({ record: entry.record, reason: 'invalid_region' });
        sent += indexed.length;
        progress.update(sent, sent);
        continue;
      }
      const client = apiClient(url, credentialsFor(url, clientId || undefined, io, 'ministry-mps'));
      const report = await sendInBatches(
        io,
        async (records) =>
          kind === 'cases'
            ? (await client.call(CASE_ROUTES.ingest, { body: { records } })).body
            : (await client.call(EVALUATION_ROUTES.ingestBatch, { body: { records } })).body,
        indexed,
        batchSize,
        (count) => {
          sent += count;
          progress.update(sent, sent);
        },
      );
      total.accepted += report.accepted;
      total.rejected.push(...report.rejected);
    }
  } finally {
    progress.stop();
  }
  total.rejected.sort((a, b) => a.record - b.record);
  for (const { record, reason } of total.rejected.slice(0, 100)) {
    io.stderr.write(`record ${record}: rejected (${reason})\n`);
  }
  if (total.rejected.length > 100)
    io.stderr.write(`… and ${total.rejected.length - 100} more rejected records.\n`);
  io.stdout.write(
    `Sent ${records.length} ${kind}: ${total.accepted} accepted, ${total.rejected.length} rejected.\n`,
  );
  return total.rejected.length === 0 ? 0 : 1;
}
