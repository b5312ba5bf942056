import { readFile } from 'node:fs/promises';
import { encodeQuery, signRequest } from '../../../shared/signing';
import type { CliIo } from '../cli';
import { parseCommandLine, resolvePath } from '../command-kit';
import { CliError, UsageError } from '../errors';
import { credentialsFor, HUB_API_HELP, HUB_API_OPTIONS, resolveHubUrl } from '../hub-api';

export const SIGN_HELP = `Usage: npm run hub -- sign METHOD PATH [--data JSON | --body FILE] [options]

Prints the four signature headers (X-Hub-Key, X-Hub-Timestamp, X-Hub-Nonce, X-Hub-Signature) of one
request, and a curl command that sends exactly that request. PATH may carry a query (/v1/stats?from=…);
it is sent RFC 3986-encoded, as signed. A signature is good for 300 s and its nonce for one request.

Options:
  --data JSON        the request body, as text
  --body FILE        the request body, read from FILE (sent byte for byte)
  --headers-only     print the headers only, one per line
  -h, --help         this help

${HUB_API_HELP}

Exit status: 0 printed; 1 failure; 2 usage error.`;

const options = {
  ...HUB_API_OPTIONS,
  data: { type: 'string' },
  body: { type: 'string' },
  'headers-only': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD']);
const shellQuote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;

export async function signCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(args, options);
  if (values.help) {
    io.stdout.write(`${SIGN_HELP}\n`);
    return 0;
  }
  if (positionals.length !== 2) throw new UsageError('sign takes METHOD and PATH.');
  const method = (positionals[0] as string).toUpperCase();
  if (!METHODS.has(method)) throw new UsageError(`${positionals[0]} is not an HTTP method.`);
  const [path = '', rawQuery] = (positionals[1] as string).split('?', 2);
  if (!path.startsWith('/')) throw new UsageError('PATH starts with /.');
  if (values.data !== undefined && values.body !== undefined)
    throw new UsageError('Give --data or --body, not both.');
  const bodyFile = values.body === undefined ? undefined : resolvePath(io.cwd, values.body);
  const body =
    bodyFile === undefined
      ? values.data
      : await readFile(bodyFile, 'utf8').catch(() => {
          throw new CliError(`Cannot read ${bodyFile}.`);
        });
  const url = resolveHubUrl(values, io);
  const credentials = credentialsFor(url, values.client, io, 'ministry-mps');
  const query = rawQuery ? encodeQuery(Object.fromEntries(new URLSearchParams(rawQuery))) : '';
  const basePath = new URL(url).pathname.replace(/\/$/, '');
  const headers = signRequest({
    method,
    path: `${basePath}${path}`,
    query,
    body: body ?? '',
    accessKeyId: credentials.accessKeyId,
    secret: credentials.secret,
  });
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  if (values['headers-only']) {
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  }
  const curl = [
    'curl',
    '-sS',
    '-X',
    method,
    shellQuote(`${url}${path}${query ? `?${query}` : ''}`),
    ...lines.map((line) => `-H ${shellQuote(line)}`),
    ...(body === undefined
      ? []
      : [
          `-H ${shellQuote('content-type: application/json')}`,
          bodyFile === undefined
            ? `--data-binary ${shellQuote(body)}`
            : `--data-binary @${shellQuote(bodyFile)}`,
        ]),
  ];
  io.stdout.write(`${lines.join('\n')}\n\n${curl.join(' \\\n  ')}\n`);
  return 0;
}
