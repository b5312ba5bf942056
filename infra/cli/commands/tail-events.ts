import { createReadStream, existsSync, statSync, watch } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { CliIo } from '../cli';
import { localStateDir, parseCommandLine, wholeNumber } from '../command-kit';
import { CliError, UsageError } from '../errors';

export const TAIL_EVENTS_HELP = `Usage: npm run hub -- tail events [options]

Prints the events the local hub's bus carried (the local EventBridge appends every one to
<state-dir>/logs/events.jsonl), one line each: time, detail-type, source, id and correlation id; --json
prints the whole envelope. Details carry masked identifiers only. Ctrl-C stops --follow.

Options:
  --lines N          the last N events first (default 10; 0 for none)
  --follow, -f       keep printing events as they arrive
  --for SECONDS      with --follow, stop after SECONDS (scripts, tests)
  --type TYPE        only this detail-type (repeatable)
  --json             whole envelopes, one JSON document a line
  --state-dir DIR    the local hub's state folder (default: HUB_STATE_DIR, else .hub in the repository)
  -h, --help         this help

Exit status: 0 done; 1 no event log; 2 usage error.`;

const options = {
  lines: { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  for: { type: 'string' },
  type: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  'state-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const EVENTS_LOG = join('logs', 'events.jsonl');

interface Envelope {
  id?: string;
  time?: string;
  source?: string;
  'detail-type'?: string;
  detail?: { correlationId?: string };
}

export async function tailEvents(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(args, options, false);
  if (values.help) {
    io.stdout.write(`${TAIL_EVENTS_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError('tail events takes no arguments.');
  const lines = wholeNumber('lines', values.lines, 10, { max: 1_000_000 });
  const seconds = wholeNumber('for', values.for, 0, { max: 86_400 });
  if (values.for !== undefined && !values.follow) throw new UsageError('--for goes with --follow.');
  const file = join(localStateDir(values, io), EVENTS_LOG);
  if (!existsSync(file)) throw new CliError(`No event log at ${file}: start the hub (npm start) first.`);
  const types = new Set(values.type ?? []);
  const print = (line: string) => {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(line) as Envelope;
    } catch {
      return; // a line still being written
    }
    if (types.size > 0 && !types.has(envelope['detail-type'] ?? '')) return;
    io.stdout.write(values.json ? `${line}\n` : `${summaryOf(envelope)}\n`);
  };

  const { lines: existing, size } = await readLines(file, 0);
  for (const line of existing
    .filter((l) => types.size === 0 || matchesType(l, types))
    .slice(-lines || existing.length)) {
    if (lines > 0) print(line);
  }
  if (!values.follow) return 0;
  await follow(file, size, print, seconds);
  return 0;
}

const matchesType = (line: string, types: Set<string>) => {
  try {
    return types.has((JSON.parse(line) as Envelope)['detail-type'] ?? '');
  } catch {
    return false;
  }
};

export function summaryOf(envelope: Envelope): string {
  return [
    envelope.time ?? '-',
    (envelope['detail-type'] ?? '-').padEnd(26),
    (envelope.source ?? '-').padEnd(24),
    envelope.id ?? '-',
    envelope.detail?.correlationId ? `correlation ${envelope.detail.correlationId}` : '',
  ]
    .join('  ')
    .trimEnd();
}

/** The complete lines from `start` on, and where the last complete one ends. */
async function readLines(file: string, start: number): Promise<{ lines: string[]; size: number }> {
  const size = statSync(file).size;
  if (size <= start) return { lines: [], size: start };
  const lines: string[] = [];
  let consumed = start;
  const reader = createInterface({
    input: createReadStream(file, { start, end: size - 1 }),
    crlfDelay: Infinity,
  });
  let buffered = '';
  for await (const line of reader) {
    if (buffered) lines.push(buffered);
    buffered = line;
  }
  // The last line counts only when the file ends with its newline (the bus appends whole lines).
  const endsWithNewline = size > 0 && (await lastByte(file, size)) === '\n';
  if (buffered && endsWithNewline) lines.push(buffered);
  for (const line of lines) consumed += Buffer.byteLength(line, 'utf8') + 1;
  return { lines, size: consumed };
}

async function lastByte(file: string, size: number): Promise<string> {
  for await (const chunk of createReadStream(file, { start: size - 1, end: size - 1 })) return String(chunk);
  return '';
}

/** Prints lines appended after `offset` until Ctrl-C (or `seconds`, when not 0). */
function follow(file: string, offset: number, print: (line: string) => void, seconds: number): Promise<void> {
  return new Promise((resolve) => {
    let position = offset;
    let reading = Promise.resolve();
    const readMore = () => {
      reading = reading.then(async () => {
        const { lines, size } = await readLines(file, position);
        position = size;
        for (const line of lines) print(line);
      });
    };
    const watcher = watch(file, readMore);
    // fs.watch can miss appends on some file systems: poll as well.
    const poll = setInterval(readMore, 500);
    const stop = () => {
      watcher.close();
      clearInterval(poll);
      clearTimeout(timer);
      process.off('SIGINT', stop);
      reading.then(resolve, resolve);
    };
    const timer = seconds > 0 ? setTimeout(stop, seconds * 1000) : undefined;
    process.once('SIGINT', stop);
  });
}
