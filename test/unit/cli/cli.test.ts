import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliIo, runCli } from '../../../infra/cli/cli';
import { resolveIdHmacKey, resolveTarget } from '../../../infra/cli/target';
import { DEV_ID_HMAC_KEY } from '../../../infra/local/workers';

const dir = mkdtempSync(join(tmpdir(), 'zwfw-cli-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(stream: PassThrough): () => string {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString('utf8');
}

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = capture(stdout);
  const err = capture(stderr);
  const io: CliIo = { stdout, stderr, env, cwd: dir };
  const code = await runCli(args, io);
  return { code, stdout: out(), stderr: err() };
}

describe('hub CLI', () => {
  it('prints the tool help listing its commands', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Usage: npm run hub -- <command>/);
    expect(stdout).toMatch(/registry load/);
    expect(stdout).toMatch(/registry seed/);
    expect((await run(['registry', '--help'])).stdout).toBe(stdout);
  });

  it('prints the help of each command', async () => {
    const load = await run(['registry', 'load', '--help']);
    expect(load.code).toBe(0);
    expect(load.stdout).toMatch(/Usage: npm run hub -- registry load FILE/);
    const seed = await run(['registry', 'seed', '-h']);
    expect(seed.code).toBe(0);
    expect(seed.stdout).toMatch(/--persons N/);
  });

  it.each([
    [[], /Usage/],
    [['registry', 'frob'], /Unknown command: registry frob/],
    [['registry', 'load'], /exactly one FILE/],
    [['registry', 'load', 'a.csv', '--colour'], /Unknown option '--colour'/],
    [['registry', 'seed', '--persons=-3'], /--persons must be a whole number/],
    [['registry', 'seed', '--persons', '-3'], /Option '--persons' argument is ambiguous/],
    [['registry', 'seed', '--persons', '1e3'], /--persons must be a whole number/],
  ])('exits 2 on the usage error %j', async (args, message) => {
    const { code, stdout, stderr } = await run(args);
    expect(code).toBe(2);
    expect(stdout + stderr).toMatch(message);
  });

  it('exits 1 with a clear message for a file that does not exist', async () => {
    const { code, stderr } = await run(['registry', 'load', 'missing.csv', '--dry-run']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/Cannot read .*missing\.csv: no such file/);
  });

  it('checks a file in a dry run, listing rejected rows by line and reason only', async () => {
    writeFileSync(
      join(dir, 'extract.csv'),
      'subject,id,name\nperson,11010519491231002X,张三\nperson,110105194912310021,李四\nenterprise,91330106MA2K111119,王五\n',
    );
    const { code, stdout, stderr } = await run(['registry', 'load', 'extract.csv', '--dry-run']);
    expect(code).toBe(1);
    expect(stderr).toContain('line 3: rejected (citizen_id:check_character_mismatch)');
    expect(stdout).toContain(
      'Dry run: 3 rows read, 2 identities (1 persons, 1 enterprises) valid, nothing written.',
    );
    expect(stdout).toContain('1 of 3 rows rejected: citizen_id:check_character_mismatch 1.');
    expect(stdout + stderr).not.toMatch(/110105194912310021|李四|张三/);
  });

  it('refuses a file without a header', async () => {
    writeFileSync(join(dir, 'headless.csv'), 'person,11010519491231002X,张三\n');
    const { code, stderr } = await run(['registry', 'load', 'headless.csv', '--dry-run']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/first line must name the columns subject, id, name/);
    expect(stderr).not.toMatch(/11010519491231002X|张三/);
  });

  it('explains how to target a hub when no local hub state exists', async () => {
    const { code, stderr } = await run(['registry', 'seed', '--state-dir', join(dir, 'nowhere')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /No local hub state .*start the hub \(npm start\) once, or pass --table and --endpoint/,
    );
  });
});

describe('CLI target', () => {
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(
    join(stateDir, 'outputs.json'),
    JSON.stringify({ 'zwfw-dev-private': { RegistryTableName: 'zwfw-dev-private-Registry' } }),
  );
  writeFileSync(join(stateDir, 'endpoints.json'), JSON.stringify({ dynamodb: 'http://127.0.0.1:8123' }));

  it("defaults to the local hub's table and DynamoDB Local", () => {
    expect(resolveTarget({ stage: 'dev', stateDir }, dir)).toEqual({
      table: 'zwfw-dev-private-Registry',
      endpoint: 'http://127.0.0.1:8123',
      local: true,
    });
  });

  it('takes --table and --endpoint over the local hub, and treats a bare --table as deployed', () => {
    expect(resolveTarget({ stage: 'dev', stateDir, endpoint: 'http://localhost:9000' }, dir)).toEqual({
      table: 'zwfw-dev-private-Registry',
      endpoint: 'http://localhost:9000',
      local: true,
    });
    expect(resolveTarget({ stage: 'dev', stateDir, table: 'prod-registry' }, dir)).toEqual({
      table: 'prod-registry',
      local: false,
    });
  });

  it('names the missing output of another stage', () => {
    expect(() => resolveTarget({ stage: 'test', stateDir }, dir)).toThrow(
      /no RegistryTableName output for stack zwfw-test-private/,
    );
  });

  it('uses the dev key only against a local endpoint', async () => {
    const local = { table: 't', endpoint: 'http://127.0.0.1:1', local: true };
    expect(Buffer.from(await resolveIdHmacKey(local, {})).toString()).toBe(DEV_ID_HMAC_KEY);
    const key = 'operator-supplied-key-of-32-characters-or-more';
    expect(Buffer.from(await resolveIdHmacKey(local, { HUB_ID_HMAC_KEY: key })).toString()).toBe(key);
    await expect(resolveIdHmacKey({ table: 't', local: false }, {})).rejects.toThrow(/Set HUB_ID_HMAC_KEY/);
    await expect(resolveIdHmacKey(local, { HUB_ID_HMAC_KEY: 'short' })).rejects.toThrow(/at least 32/);
  });
});
