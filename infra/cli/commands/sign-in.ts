import { readFileSync } from 'node:fs';
import { signRequest } from '../../../shared/signing';
import { readEndpoints } from '../../local/outputs';
import { DEV_CLIENTS_FILE } from '../../local/workers';
import type { CliIo } from '../cli';
import { localStateDir, parseCommandLine } from '../command-kit';
import { CliError, UsageError } from '../errors';

export const SIGN_IN_HELP = `Usage: npm run hub -- sign-in --id ID_NUMBER --name NAME [options]

Signs a person of the identity registry in at the local hub (POST /v1/dev/sign-in, dev stage only) for a
connected platform, and prints the one-time ticket and the redirect the browser would follow. With --validate it
also redeems the ticket as the platform's server would (POST /v1/tickets/validate) and prints the access token.
The demo identities the local hub seeds are listed in functions/auth-verify/README.md.

Options:
  --id ID_NUMBER        citizen ID number of a registry person
  --name NAME           the person's name as registered
  --client CLIENT_ID    the platform signing in (default app-citizen, from infra/local/clients.dev.json)
  --second-factor KIND  face | e_id: report a second factor (assurance L3)
  --validate            redeem the ticket and print the identity and access token
  --state-dir DIR       the local hub's state folder (default .hub, or HUB_STATE_DIR)
  -h, --help            this text`;

const OPTIONS = {
  id: { type: 'string' },
  name: { type: 'string' },
  client: { type: 'string', default: 'app-citizen' },
  'second-factor': { type: 'string' },
  validate: { type: 'boolean', default: false },
  'state-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface DevClient {
  clientId: string;
  accessKeyId: string;
  secret: string;
  redirectUris?: string[];
}

function devClient(clientId: string): DevClient {
  const { clients } = JSON.parse(readFileSync(DEV_CLIENTS_FILE, 'utf8')) as { clients: DevClient[] };
  const client = clients.find((c) => c.clientId === clientId);
  if (!client) throw new UsageError(`--client: no development client ${clientId} in ${DEV_CLIENTS_FILE}.`);
  return client;
}

async function postSigned(gateway: string, client: DevClient, path: string, body: unknown): Promise<unknown> {
  const raw = JSON.stringify(body);
  const headers = signRequest({
    method: 'POST',
    path,
    body: raw,
    accessKeyId: client.accessKeyId,
    secret: client.secret,
  });
  let response: Response;
  try {
    response = await fetch(`${gateway}${path}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: raw,
    });
  } catch {
    throw new CliError(`the local hub does not answer at ${gateway}: is npm start running?`);
  }
  const answer = (await response.json().catch(() => ({}))) as { type?: string; title?: string };
  // The problem's type and title only: its detail could echo what was sent.
  if (!response.ok)
    throw new CliError(
      `${path} answered ${response.status} ${answer.type ?? ''} ${answer.title ?? ''}`.trim(),
    );
  return answer;
}

export async function signIn(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandLine(args, OPTIONS, false);
  if (values.help) {
    io.stdout.write(`${SIGN_IN_HELP}\n`);
    return 0;
  }
  if (!values.id || !values.name) throw new UsageError('--id and --name are required.');
  const client = devClient(values.client);
  const redirectUri = client.redirectUris?.[0];
  if (!redirectUri) throw new UsageError(`--client: ${client.clientId} has no registered redirect.`);
  let gateway: string;
  try {
    gateway = readEndpoints(localStateDir(values, io)).gateway;
  } catch {
    throw new CliError('no local hub state found: start the hub with npm start first.');
  }
  const secondFactor = values['second-factor'];
  const { ticket, redirect } = (await postSigned(gateway, client, '/v1/dev/sign-in', {
    clientId: client.clientId,
    redirectUri,
    idNumber: values.id,
    name: values.name,
    ...(secondFactor ? { secondFactor } : {}),
  })) as { ticket: string; redirect: string };
  io.stdout.write(`ticket    ${ticket}\nredirect  ${redirect}\n`);
  if (!values.validate) return 0;
  const validated = await postSigned(gateway, client, '/v1/tickets/validate', { ticket, redirectUri });
  io.stdout.write(`${JSON.stringify(validated, null, 2)}\n`);
  return 0;
}
