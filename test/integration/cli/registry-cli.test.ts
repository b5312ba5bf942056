import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { personIdHmac } from '../../../functions/auth-verify/domain/registry-record';
import {
  pseudonymiseClaim,
  verificationRequestSchema,
  verify,
} from '../../../functions/auth-verify/domain/verification';
import { DEMO_PERSONS, generateSyntheticRegistry } from '../../../functions/auth-verify/registry-seed';
import { createRegistryStore } from '../../../functions/auth-verify/registry-store';
import { runCli } from '../../../infra/cli/cli';
import { DEV_ID_HMAC_KEY, REPO_ROOT } from '../../../infra/local/workers';
import { localDynamo, scratchTables } from '../../support/dynamo';

const KEY = 'cli-integration-test-id-hmac-key-0123456789';
const dynamo = localDynamo();
const tables = scratchTables(dynamo.client);
const endpoint = inject('dynamoEndpoint');
const dir = mkdtempSync(join(tmpdir(), 'zwfw-cli-'));

afterAll(async () => {
  await tables.dropAll();
  rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await runCli(args, { stdout, stderr, env, cwd: dir });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

const scan = async (table: string) =>
  (await dynamo.doc.send(new ScanCommand({ TableName: table }))).Items ?? [];

async function verdict(table: string, key: string, body: Record<string, unknown>) {
  const claim = pseudonymiseClaim(verificationRequestSchema.parse(body), key);
  return verify(await createRegistryStore({ doc: dynamo.doc, table }).findRecord(claim.lookup), claim).result;
}

describe('npm run hub -- registry load', () => {
  it('loads valid rows as HMACs, reports bad rows by line, and exits 1 when some were rejected', async () => {
    const table = await tables.create('cli-registry');
    const { persons, enterprises } = generateSyntheticRegistry({ persons: 60, enterprises: 8, seed: 99 });
    const lines = [
      'subject,id,name',
      ...persons.map((p) => `person,${p.idNumber},${p.name}`),
      'person,110105194912310021,错号',
      ...enterprises.map((e) => `enterprise,${e.creditCode},${e.legalRepresentative}`),
      'enterprise,91330106MA2K111119,',
      'person,11010519491231002X,"未闭合',
    ];
    writeFileSync(join(dir, 'extract.csv'), `${lines.join('\n')}\n`);

    const { code, stdout, stderr } = await run(
      ['registry', 'load', 'extract.csv', '--table', table, '--endpoint', endpoint],
      { HUB_ID_HMAC_KEY: KEY },
    );
    expect(code).toBe(1);
    expect(stderr).toContain('line 62: rejected (citizen_id:check_character_mismatch)');
    expect(stderr).toContain('line 71: rejected (legal_representative:name_missing)');
    expect(stderr).toContain('line 72: rejected (unterminated_quote)');
    expect(stdout).toContain(`Loaded 68 identities (60 persons, 8 enterprises) into ${table}.`);
    expect(stdout).toContain('3 of 71 rows rejected');

    const items = await scan(table);
    expect(items).toHaveLength(68);
    const stored = JSON.stringify(items);
    const printed = stdout + stderr;
    for (const p of persons) {
      for (const text of [stored, printed]) {
        expect(text).not.toContain(p.idNumber);
        expect(text).not.toContain(p.name);
      }
    }
    for (const e of enterprises) {
      for (const text of [stored, printed]) {
        expect(text).not.toContain(e.creditCode);
        expect(text).not.toContain(e.legalRepresentative);
      }
    }
    for (const value of ['110105194912310021', '错号', '未闭合']) expect(printed).not.toContain(value);

    const [someone] = persons;
    expect(
      await verdict(table, KEY, { subject: 'person', idNumber: someone?.idNumber, name: someone?.name }),
    ).toBe('match');
    expect(await verdict(table, KEY, { subject: 'person', idNumber: someone?.idNumber, name: '别人' })).toBe(
      'mismatch',
    );
  });

  it("defaults to the local hub's table and endpoint, hashing with the dev key", async () => {
    const table = await tables.create('cli-local-hub');
    const stateDir = join(dir, 'hub-state');
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(
      join(stateDir, 'outputs.json'),
      JSON.stringify({ 'zwfw-dev-private': { RegistryTableName: table } }),
    );
    writeFileSync(join(stateDir, 'endpoints.json'), JSON.stringify({ dynamodb: endpoint }));
    const [demo] = DEMO_PERSONS;
    writeFileSync(
      join(dir, 'one.csv'),
      `\uFEFFsubject,id,name,status\r\nperson,${demo?.idNumber},${demo?.name},active\r\n`,
    );

    const { code, stdout } = await run(['registry', 'load', 'one.csv', '--state-dir', stateDir]);
    expect(code).toBe(0);
    expect(stdout).toContain(`Loaded 1 identities (1 persons, 0 enterprises) into ${table}.`);
    const [item] = await scan(table);
    expect(item?.pk).toBe(`PERSON#${personIdHmac(DEV_ID_HMAC_KEY, demo?.idNumber ?? '')}`);
  });

  it('seeds a synthetic registry whose --out file loads back in full', async () => {
    const table = await tables.create('cli-seed');
    const args = ['--table', table, '--endpoint', endpoint];
    const seeded = await run(
      [
        'registry',
        'seed',
        '--persons',
        '30',
        '--enterprises',
        '4',
        '--seed',
        '5',
        '--out',
        'seeded.csv',
        ...args,
      ],
      { HUB_ID_HMAC_KEY: KEY },
    );
    expect(seeded.code).toBe(0);
    expect(seeded.stdout).toContain(
      `Seeded 30 persons and 4 enterprises (seed 5) plus 4 demo identities into ${table}.`,
    );
    expect(await scan(table)).toHaveLength(38);

    const csv = readFileSync(join(dir, 'seeded.csv'), 'utf8').trimEnd().split('\n');
    expect(csv[0]).toBe('subject,id,name');
    expect(csv).toHaveLength(39);
    const reloaded = await run(['registry', 'load', 'seeded.csv', ...args], { HUB_ID_HMAC_KEY: KEY });
    expect(reloaded.code).toBe(0);
    expect(reloaded.stdout).toContain('Loaded 38 identities (33 persons, 5 enterprises)');
    expect(await scan(table)).toHaveLength(38);
  });

  it('runs as `npm run hub` does: a process that prints, exits with the status, and leaves nothing running', async () => {
    const table = await tables.create('cli-process');
    writeFileSync(
      join(dir, 'bad.csv'),
      'subject,id,name\nperson,110105194912310021,张三\nperson,11010519491231002X,张三\n',
    );
    const result = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        join(REPO_ROOT, 'infra/cli/main.ts'),
        'registry',
        'load',
        join(dir, 'bad.csv'),
        '--table',
        table,
        '--endpoint',
        endpoint,
      ],
      { cwd: REPO_ROOT, env: { ...process.env, HUB_ID_HMAC_KEY: KEY }, timeout: 60_000 },
    ).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('line 2: rejected (citizen_id:check_character_mismatch)');
    expect(result.stdout).toContain('Loaded 1 identities (1 persons, 0 enterprises)');
    expect(await scan(table)).toHaveLength(1);
  });
});
