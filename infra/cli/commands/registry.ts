import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import {
  DEFAULT_SEED,
  DEMO_REGISTRY,
  generateSyntheticRegistry,
  identitiesOf,
  type SyntheticRegistry,
  writeIdentities,
} from '../../../functions/auth-verify/registry-seed';
import { createRegistryStore } from '../../../functions/auth-verify/registry-store';
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
import { documentClientFor, type RegistryTarget, resolveIdHmacKey, resolveTarget } from '../target';
import { csvLine } from './registry-csv';
import { LoadInterruptedError, type LoadReport, loadRegistryCsv } from './registry-load';

const TARGET_HELP = `Target (default: the local hub started by npm start):
  --table NAME       registry table; default: output RegistryTableName of stack zwfw-<stage>-private
                     in <state-dir>/outputs.json. With --table and no --endpoint, the AWS SDK's own
                     endpoint, region and credentials are used (a deployed table).
  --endpoint URL     DynamoDB endpoint; default: the local hub's DynamoDB Local (<state-dir>/endpoints.json)
  --stage NAME       stage of the local hub's stacks (default: dev)
  --state-dir DIR    the local hub's state folder (default: HUB_STATE_DIR, else .hub in the repository)

Key: HUB_ID_HMAC_KEY, else the Secrets Manager secret HUB_ID_HMAC_SECRET_ID; against a local
endpoint (127.0.0.1, localhost) the local hub's dev key when neither is set. It must be the key the
hub's functions use, or no one loaded will ever match.`;

export const LOAD_HELP = `Usage: npm run hub -- registry load FILE [options]

Loads a CSV extract of the population and legal-person registry into the hub's identity registry.
Every row is validated (check characters, birth dates, names); valid rows are stored as keyed HMACs
of the number and the name with a masked id — never the number or the name. Rows already present
are overwritten. Rejected rows are reported by line number and reason, never by their values.

FILE: UTF-8 CSV with a header row (LF or CRLF; RFC 4180 quotes; a field may not span lines):
  subject,id,name,status
  person,11010519491231002X,张三,active
  enterprise,91330106MA2K111119,王五,
    subject  person | enterprise
    id       citizen ID number (person) or unified social credit code (enterprise)
    name     the person's name, or the enterprise's legal representative
    status   optional column: active (default when empty) | cancelled (verifies as not_found)

Options:
  --dry-run          validate every row and report; write nothing (needs no hub, no key)
  -h, --help         this help

${TARGET_HELP}

Exit status: 0 every row loaded; 1 some rows rejected or the load failed; 2 usage error.`;

export const SEED_HELP = `Usage: npm run hub -- registry seed [--persons N] [--enterprises M] [options]

Writes a synthetic registry: N persons and M enterprises with valid generated numbers (right check
characters, real province codes, possible birth dates) and made-up names, plus the fixed demo
identities (functions/auth-verify/registry-seed.ts). The same --seed gives the same identities.
For development and benchmarks only: never seed a shared environment.

Options:
  --persons N        persons to generate (default 0)
  --enterprises M    enterprises to generate (default 0)
  --seed S           seed of the generator, a whole number (default ${DEFAULT_SEED})
  --out FILE         also write the identities seeded (demo ones included) to FILE as a CSV that
                     registry load reads, so you know whom to verify
  -h, --help         this help

${TARGET_HELP}

Exit status: 0 seeded; 1 failure; 2 usage error.`;

const MAX_GENERATED = 10_000_000;

interface Connected {
  target: RegistryTarget;
  doc: ReturnType<typeof documentClientFor>;
  key: Uint8Array;
}

async function connect(values: TargetValues, io: CliIo): Promise<Connected> {
  const stateDir = localStateDir(values, io);
  const target = resolveTarget(
    { table: values.table, endpoint: values.endpoint, stage: values.stage, stateDir },
    io.cwd,
  );
  const key = await resolveIdHmacKey(target, io.env);
  return { target, key, doc: documentClientFor(target) };
}

export async function registryLoad(args: string[], io: CliIo): Promise<number> {
  const commandLine = await parseLoadCommandLine(args, io, { name: 'registry load', help: LOAD_HELP });
  if (!commandLine) return 0;
  const { values, path, size, dryRun } = commandLine;
  const connected = dryRun ? undefined : await connect(values, io);
  const store = connected && createRegistryStore({ doc: connected.doc, table: connected.target.table });
  try {
    const report = await loadFileWithProgress(io, { path, size, dryRun }, (input, onProgress) =>
      loadRegistryCsv({
        input,
        key: connected?.key ?? 'dry-run: nothing is hashed for storage',
        ...(store ? { write: (records) => store.putRecords(records) } : {}),
        onProgress,
      }),
    );
    printLoadReport(io, report, dryRun ? undefined : connected?.target.table);
    return report.rejectedCount > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof LoadInterruptedError) {
      throw new CliError(
        `The load stopped: ${error.message}. Rows before it were written; fix the cause and load the file again (rows are upserts).`,
      );
    }
    throw error;
  } finally {
    connected?.doc.destroy();
  }
}

function printLoadReport(io: CliIo, report: LoadReport, table: string | undefined): void {
  printRejectedRows(io, report);
  const valid = report.valid.person + report.valid.enterprise;
  const what = `${valid} identities (${report.valid.person} persons, ${report.valid.enterprise} enterprises)`;
  io.stdout.write(
    table === undefined
      ? `Dry run: ${report.rows} rows read, ${what} valid, nothing written.\n`
      : `Loaded ${what} into ${table}.\n`,
  );
  if (report.duplicates > 0) {
    io.stdout.write(`${report.duplicates} rows repeated an earlier row's number; the later row was kept.\n`);
  }
  if (report.rejectedCount > 0) {
    const reasons = Object.entries(report.rejectedByReason)
      .sort(([, a], [, b]) => b - a)
      .map(([reason, count]) => `${reason} ${count}`)
      .join(', ');
    io.stdout.write(`${report.rejectedCount} of ${report.rows} rows rejected: ${reasons}.\n`);
  }
}

export async function registrySeed(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(args, {
    ...TARGET_OPTIONS,
    persons: { type: 'string' },
    enterprises: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
  });
  if (values.help) {
    io.stdout.write(`${SEED_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError('registry seed takes no positional arguments.');
  const persons = wholeNumber('persons', values.persons, 0, { max: MAX_GENERATED });
  const enterprises = wholeNumber('enterprises', values.enterprises, 0, { max: MAX_GENERATED });
  const seed = wholeNumber('seed', values.seed, DEFAULT_SEED, { max: 2 ** 32 - 1 });

  const connected = await connect(values, io);
  const generated = generateSyntheticRegistry({ persons, enterprises, seed });
  const identities = [...identitiesOf(DEMO_REGISTRY), ...identitiesOf(generated)];
  const progress = progressBar(io.stderr, 'seeding', 'identities');
  progress.start(identities.length);
  try {
    await writeIdentities(
      {
        doc: connected.doc,
        table: connected.target.table,
        key: connected.key,
        onProgress: (written) => progress.update(written, written),
      },
      identities,
    );
  } finally {
    progress.stop();
    connected.doc.destroy();
  }
  if (values.out !== undefined) await writeSeedCsv(resolvePath(io.cwd, values.out), DEMO_REGISTRY, generated);
  io.stdout.write(
    `Seeded ${persons} persons and ${enterprises} enterprises (seed ${seed}) plus ${identitiesOf(DEMO_REGISTRY).length} demo identities into ${connected.target.table}.\n`,
  );
  if (values.out !== undefined) io.stdout.write(`Identities written to ${values.out}.\n`);
  return 0;
}

async function writeSeedCsv(path: string, ...registries: SyntheticRegistry[]): Promise<void> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  // Waits for the file to drain, so a seed of millions does not buffer them all in memory.
  const write = async (fields: string[]) => {
    if (!out.write(csvLine(fields))) await once(out, 'drain');
  };
  await write(['subject', 'id', 'name']);
  for (const registry of registries) {
    for (const p of registry.persons) await write(['person', p.idNumber, p.name]);
    for (const e of registry.enterprises) await write(['enterprise', e.creditCode, e.legalRepresentative]);
  }
  out.end();
  await finished(out);
}
