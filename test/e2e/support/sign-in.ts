import type { DevClient } from './dev-clients';
import { type HubAddress, postJson } from './signed-fetch';

/**
 * A person signed in through the hub as a connected platform sees it: the dev sign-in route issues a ticket
 * for the platform and its registered redirect, and the platform's server redeems it for an access token.
 */

export interface SignedIn {
  ticket: string;
  accessToken: string;
  identity: Record<string, unknown>;
}

export async function signInThroughHub(
  port: HubAddress,
  platform: DevClient,
  person: { idNumber: string; name: string },
): Promise<SignedIn> {
  const redirectUri = platform.redirectUris?.[0];
  if (!redirectUri) throw new Error(`${platform.clientId} has no registered redirect`);
  const signIn = await postJson(port, platform, '/v1/dev/sign-in', {
    clientId: platform.clientId,
    redirectUri,
    ...person,
  });
  if (signIn.status !== 200)
    throw new Error(`dev sign-in answered ${signIn.status}: ${await problemType(signIn)}`);
  const { ticket } = (await signIn.json()) as { ticket: string };
  const validated = await postJson(port, platform, '/v1/tickets/validate', { ticket, redirectUri });
  if (validated.status !== 200) {
    throw new Error(`ticket validation answered ${validated.status}: ${await problemType(validated)}`);
  }
  const { accessToken, identity } = (await validated.json()) as {
    accessToken: string;
    identity: Record<string, unknown>;
  };
  return { ticket, accessToken, identity };
}

/** Only the problem's type: a body may echo what was sent, and these errors end up in logs. */
async function problemType(response: Response): Promise<string> {
  try {
    return String(((await response.json()) as { type?: unknown }).type);
  } catch {
    return 'no JSON body';
  }
}
