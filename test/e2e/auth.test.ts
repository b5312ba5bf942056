import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ENTERPRISES, DEMO_PERSONS } from '../../functions/auth-verify/registry-seed';
import { runCli } from '../../infra/cli/cli';
import { generateCitizenId, seededRandom } from '../../shared/identifiers/generate';
import { devClient } from './support/dev-clients';
import { signInThroughHub } from './support/sign-in';
import { postJson } from './support/signed-fetch';
import { type E2eTarget, startTarget } from './support/target';

/**
 * Issue 3's acceptance through the whole hub, on any target (test/e2e/support/target.ts): sign-in → ticket → token
 * → introspect → revoke → introspect inactive, TokenRevoked on the bus, and real-name verification over HTTP with
 * a registry that holds no clear identifier. The bus's event log, the operator CLI's local sign-in and the hub's
 * own log lines exist only on a local hub.
 */

let target: E2eTarget;

beforeAll(async () => {
  target = await startTarget('auth-e2e');
}, 180_000);

afterAll(async () => {
  await target?.stop();
});

const app = () => devClient('app-citizen');
const platform = () => devClient('region-330000');
const [zhangSan, liSi] = DEMO_PERSONS as [
  { idNumber: string; name: string },
  { idNumber: string; name: string },
];

async function introspect(token: string): Promise<Record<string, unknown>> {
  const response = await postJson(target.apiUrl, platform(), '/v1/tokens/introspect', { token });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

function eventsOnTheBus(stateDir: string): { 'detail-type': string; detail: Record<string, unknown> }[] {
  const file = join(stateDir, 'logs', 'events.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('single sign-on and tokens through the hub', () => {
  it('signs a registry person in, and the token introspects, revokes and stops being active', async () => {
    const signedIn = await signInThroughHub(target.apiUrl, app(), zhangSan);
    expect(signedIn.identity).toMatchObject({ assuranceLevel: 'L2', authMethod: 'dev' });
    expect(String(signedIn.identity.maskedId)).toMatch(/^110105\*+002X$/);

    // A ticket is single use.
    const again = await postJson(target.apiUrl, app(), '/v1/tickets/validate', {
      ticket: signedIn.ticket,
      redirectUri: app().redirectUris?.[0],
    });
    expect(again.status).toBe(410);

    // Anyone can check the signature against the published key set.
    const jwks = await fetch(`${target.apiUrl}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    const { payload } = await jwtVerify(
      signedIn.accessToken,
      createLocalJWKSet((await jwks.json()) as JSONWebKeySet),
    );
    expect(payload.aud).toBe('app-citizen');

    const active = await introspect(signedIn.accessToken);
    expect(active).toMatchObject({
      active: true,
      sub: signedIn.identity.sub,
      aud: 'app-citizen',
      jti: payload.jti,
      assurance_level: 'L2',
      auth_method: 'dev',
    });

    const revoked = await postJson(target.apiUrl, app(), '/v1/tokens/revoke', {
      token: signedIn.accessToken,
    });
    expect(revoked.status).toBe(200);
    // Each function instance refreshes its revocation cache at least every 500 ms (the bound itself is proven
    // with injected clocks in test/integration/auth-verify); here: it turns inactive on whichever instance answers.
    const after = await until(
      () => introspect(signedIn.accessToken),
      (body) => body.active === false,
      5_000,
    );
    expect(after).toEqual({ active: false });

    await target.drained({ timeoutMs: 10_000 });
    // The bus's own log is the local hub's; a LocalStack bus keeps none to read back.
    if (target.local) {
      const announced = eventsOnTheBus(target.local.stateDir).filter(
        (e) => e['detail-type'] === 'TokenRevoked',
      );
      expect(announced.map((e) => e.detail.jti)).toContain(payload.jti);
    }
  });

  it('signs a person in from the operator CLI as well (local hub: the CLI signs in at its state)', async (ctx) => {
    const stateDir = target.local?.stateDir;
    if (!stateDir) return ctx.skip();
    let stdout = '';
    const sink = (write: (text: string) => void) => ({
      write: (chunk: string) => {
        write(chunk);
        return true;
      },
    });
    const code = await runCli(
      ['sign-in', '--id', zhangSan.idNumber, '--name', zhangSan.name, '--validate', '--state-dir', stateDir],
      {
        stdout: sink((text) => {
          stdout += text;
        }) as unknown as NodeJS.WritableStream,
        stderr: sink(() => {}) as unknown as NodeJS.WritableStream,
        env: {},
        cwd: process.cwd(),
      },
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ticket {4}\S+/m);
    expect(stdout).not.toContain(zhangSan.idNumber);
    const { accessToken } = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { accessToken: string };
    expect((await introspect(accessToken)).active).toBe(true);
  });

  it('refuses to revoke a token issued to another platform', async () => {
    const signedIn = await signInThroughHub(target.apiUrl, app(), liSi);
    const response = await postJson(target.apiUrl, platform(), '/v1/tokens/revoke', {
      token: signedIn.accessToken,
    });
    expect(response.status).toBe(403);
    expect((await introspect(signedIn.accessToken)).active).toBe(true);
  });
});

describe('real-name verification through the hub', () => {
  const verify = (body: unknown) => postJson(target.apiUrl, platform(), '/v1/identity/verifications', body);

  it('answers match, mismatch and not_found, and 422 for a wrong check character', async () => {
    const match = await verify({ subject: 'person', name: zhangSan.name, idNumber: zhangSan.idNumber });
    expect(match.status).toBe(200);
    expect(await match.json()).toMatchObject({ result: 'match', assuranceLevel: 'L2' });

    const mismatch = await verify({ subject: 'person', name: liSi.name, idNumber: zhangSan.idNumber });
    expect(await mismatch.json()).toMatchObject({ result: 'mismatch' });

    const stranger = generateCitizenId(seededRandom(99), { regionCode: '330106' });
    const notFound = await verify({ subject: 'person', name: '赵六', idNumber: stranger });
    expect(await notFound.json()).toMatchObject({ result: 'not_found' });

    const enterprise = DEMO_ENTERPRISES[0] as { creditCode: string; legalRepresentative: string };
    const org = await verify({ subject: 'enterprise', ...enterprise });
    expect(await org.json()).toMatchObject({ result: 'match' });

    const wrongCheck = await verify({
      subject: 'person',
      name: zhangSan.name,
      idNumber: '110105194912310021',
    });
    expect(wrongCheck.status).toBe(422);
    expect(wrongCheck.headers.get('content-type')).toContain('application/problem+json');
    expect(await wrongCheck.text()).not.toContain('110105194912310021');
  });

  it('keeps no clear ID number or name in the registry table or in any log line', async () => {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient(target.aws('dynamodb')));
    let items = 0;
    let stored = '';
    for await (const page of paginateScan(
      { client: doc },
      { TableName: target.output('private', 'RegistryTableName') },
    )) {
      items += page.Items?.length ?? 0;
      stored += JSON.stringify(page.Items ?? []);
    }
    expect(items).toBeGreaterThan(DEMO_PERSONS.length);
    const text = target.local?.logs.join('\n') ?? '';
    for (const person of DEMO_PERSONS) {
      for (const haystack of [stored, text]) {
        expect(haystack).not.toContain(person.idNumber);
        expect(haystack).not.toContain(person.name);
      }
    }
    for (const enterprise of DEMO_ENTERPRISES) {
      expect(stored).not.toContain(enterprise.creditCode);
      expect(stored).not.toContain(enterprise.legalRepresentative);
    }
  });
});
