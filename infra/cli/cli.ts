import { CAPACITY_HELP, capacityCommand } from './commands/capacity';
import { ITEMS_LOAD_HELP, ITEMS_SEED_HELP, itemsLoad, itemsSeed } from './commands/items';
import { REDRIVE_HELP, redrive } from './commands/redrive';
import { LOAD_HELP, registryLoad, registrySeed, SEED_HELP } from './commands/registry';
import { ROLLUP_HELP, rollupCommand } from './commands/rollup';
import { SEED_TRAFFIC_HELP, seedCommand } from './commands/seed';
import { SEND_HELP, sendCommand } from './commands/send';
import { SIGN_HELP, signCommand } from './commands/sign';
import { SIGN_IN_HELP, signIn } from './commands/sign-in';
import { STATUS_HELP, statusCommand } from './commands/status';
import { TAIL_EVENTS_HELP, tailEvents } from './commands/tail-events';
import { CliError, UsageError } from './errors';

/**
 * The operator tool, `npm run hub -- <command>`. Each command parses its own options (node:util parseArgs),
 * answers --help, prints results on stdout and progress and rejections on stderr, and ends with an exit status:
 * 0 done, 1 failed (or partly failed), 2 the command line was wrong.
 */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** Relative FILE paths are taken from here. */
  cwd: string;
}

interface Command {
  words: readonly string[];
  summary: string;
  help: string;
  run: (args: string[], io: CliIo) => Promise<number>;
}

const COMMANDS: readonly Command[] = [
  {
    words: ['seed'],
    summary:
      'synthetic catalogue, cases and evaluations for all 32 regions, through the API, with progress bars',
    help: SEED_TRAFFIC_HELP,
    run: seedCommand,
  },
  {
    words: ['send', 'cases'],
    summary: 'send case status records from a CSV or JSON file (POST /v1/cases:batch)',
    help: SEND_HELP,
    run: (args, io) => sendCommand(['cases', ...args], io),
  },
  {
    words: ['send', 'evaluations'],
    summary: 'send evaluations from a CSV or JSON file (POST /v1/evaluations:batch)',
    help: SEND_HELP,
    run: (args, io) => sendCommand(['evaluations', ...args], io),
  },
  {
    words: ['sign'],
    summary: 'print the signature headers of one request, and a curl command that sends it',
    help: SIGN_HELP,
    run: signCommand,
  },
  {
    words: ['tail', 'events'],
    summary: "print (and with -f follow) the events on the local hub's bus",
    help: TAIL_EVENTS_HELP,
    run: tailEvents,
  },
  {
    words: ['status'],
    summary: 'health, queue and DLQ depths, and the last rollup of the local hub',
    help: STATUS_HELP,
    run: statusCommand,
  },
  {
    words: ['registry', 'load'],
    summary: 'load a CSV extract of the population / legal-person registry (HMACs only)',
    help: LOAD_HELP,
    run: registryLoad,
  },
  {
    words: ['registry', 'seed'],
    summary: 'write a synthetic registry of generated valid identities, plus the demo identities',
    help: SEED_HELP,
    run: registrySeed,
  },
  {
    words: ['items', 'load'],
    summary: 'load an item catalogue (事项实施清单) CSV, with a progress bar',
    help: ITEMS_LOAD_HELP,
    run: itemsLoad,
  },
  {
    words: ['items', 'seed'],
    summary: 'write a synthetic item catalogue for all 32 regions (optionally as a loadable CSV)',
    help: ITEMS_SEED_HELP,
    run: itemsSeed,
  },
  {
    words: ['rollup'],
    summary: 'roll a range of days (and their months) into assessments: backfill of the daily rollup',
    help: ROLLUP_HELP,
    run: rollupCommand,
  },
  {
    words: ['redrive'],
    summary:
      "move a queue's dead-lettered messages back to it once their cause is fixed (lists DLQs without QUEUE)",
    help: REDRIVE_HELP,
    run: redrive,
  },
  {
    words: ['capacity'],
    summary: 'capacity model: a month of national load × --scale, cost and limits',
    help: CAPACITY_HELP,
    run: capacityCommand,
  },
  {
    words: ['sign-in'],
    summary:
      'sign a registry person in at the local hub (dev): ticket, redirect and, with --validate, a token',
    help: SIGN_IN_HELP,
    run: signIn,
  },
];

export const TOOL_HELP = `Usage: npm run hub -- <command> [options]

Operator commands for zwfw-hub. By default they act on the local hub (npm start).

Commands:
${COMMANDS.map((c) => `  ${c.words.join(' ').padEnd(18)} ${c.summary}`).join('\n')}

Run \`npm run hub -- <command> --help\` for a command's options.`;

const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h' || arg === 'help';

function findCommand(argv: readonly string[]): Command | undefined {
  return COMMANDS.find((command) => command.words.every((word, i) => argv[i] === word));
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || isHelp(argv[0])) {
    io.stdout.write(`${TOOL_HELP}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  const command = findCommand(argv);
  try {
    if (!command) {
      // A group word alone (`registry --help`) lists its commands; anything else is unknown.
      if (COMMANDS.some((c) => c.words[0] === argv[0]) && (argv.length === 1 || isHelp(argv[1]))) {
        io.stdout.write(`${TOOL_HELP}\n`);
        return argv.length === 1 ? 2 : 0;
      }
      throw new UsageError(`Unknown command: ${argv.slice(0, 2).join(' ')}.`);
    }
    return await command.run(argv.slice(command.words.length), io);
  } catch (error) {
    return reportFailure(error, io, command);
  }
}

function reportFailure(error: unknown, io: CliIo, command: Command | undefined): number {
  if (error instanceof UsageError) {
    const help = command ? `npm run hub -- ${command.words.join(' ')} --help` : 'npm run hub -- --help';
    io.stderr.write(`error: ${error.message}\nSee \`${help}\`.\n`);
    return error.exitCode;
  }
  if (error instanceof CliError) {
    io.stderr.write(`error: ${error.message}\n`);
    return error.exitCode;
  }
  // An AWS or file system failure: its name and message (they carry table names and codes, not rows).
  const { name, message } = error as Error;
  io.stderr.write(`error: ${name ?? 'Error'}: ${message ?? String(error)}\n`);
  return 1;
}
