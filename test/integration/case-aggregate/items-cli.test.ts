import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateCatalogue } from '../../../functions/case-aggregate/catalogue-seed';
import { createCatalogueStore } from '../../../functions/case-aggregate/catalogue-store';
import { type CatalogueItem, catalogueRowOf } from '../../../functions/case-aggregate/domain/catalogue';
import type { CliIo } from '../../../infra/cli/cli';
import { itemsLoad, itemsSeed, writeCatalogueCsv } from '../../../infra/cli/commands/items';
import { csvLine } from '../../../infra/cli/commands/registry-csv';
import { localDynamo, scratchTables } from '../../support/dynamo';

/** `items load` and `items seed` as an operator runs them, against a table of DynamoDB Local. */
const { client, doc } = localDynamo();
const tables = scratchTables(client);
const dir = mkdtempSync(join(tmpdir(), 'zwfw-items-cli-'));
let table: string;

beforeAll(async () => {
  table = await tables.create('catalogue');
});

afterAll(async () => {
  await tables.dropAll();
  rmSync(dir, { recursive: true, force: true });
});

function capture(stream: PassThrough): () => string {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString('utf8');
}

async function run(command: typeof itemsLoad, args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const [out, err] = [capture(stdout), capture(stderr)];
  const io: CliIo = { stdout, stderr, env: {}, cwd: dir };
  const code = await command([...args, '--table', table, '--endpoint', inject('dynamoEndpoint')], io);
  return { code, stdout: out(), stderr: err() };
}

const count = async () => (await doc.send(new ScanCommand({ TableName: table, Select: 'COUNT' }))).Count;

describe('items CLI', () => {
  it('seeds a catalogue and writes the CSV that items load reads back', async () => {
    const seeded = await run(itemsSeed, ['--per-region', '2', '--seed', '5', '--out', 'catalogue.csv']);
    expect(seeded).toMatchObject({
      code: 0,
      stdout: expect.stringContaining(`Seeded 64 items (seed 5) into ${table}`),
    });
    expect(await count()).toBe(64);
    const csv = await readFile(join(dir, 'catalogue.csv'), 'utf8');
    expect(csv.trimEnd().split('\n')).toHaveLength(65);

    const loaded = await run(itemsLoad, ['catalogue.csv']);
    expect(loaded).toMatchObject({ code: 0, stdout: expect.stringContaining('Loaded 64 items') });
    const [first] = generateCatalogue({ seed: 5, itemsPerRegion: 2 });
    const stored = await createCatalogueStore({ doc, table }).getItem(first?.implementationCode ?? '');
    expect(stored).toMatchObject({ ...first, updatedBy: 'cli' });
  });

  it('loads the valid rows and reports the others by line and reason, exiting 1', async () => {
    const items = generateCatalogue({ seed: 6, itemsPerRegion: 1 }).slice(0, 2);
    await writeCatalogueCsv(join(dir, 'two.csv'), items);
    const text = await readFile(join(dir, 'two.csv'), 'utf8');
    const promisingTooMuch = { ...(items[0] as CatalogueItem), promisedDays: 99 };
    writeFileSync(join(dir, 'mixed.csv'), `${text}${csvLine(catalogueRowOf(promisingTooMuch))}`);
    const before = await count();
    const result = await run(itemsLoad, ['mixed.csv']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('line 4: rejected (invalid_statutoryDays)');
    expect(result.stdout).toContain('Loaded 2 items');
    expect(result.stdout).toContain('1 of 3 rows rejected');
    expect(await count()).toBe((before ?? 0) + 2);
  });

  it('checks a file without writing on --dry-run', async () => {
    const before = await count();
    const stdout = new PassThrough();
    const out = capture(stdout);
    const code = await itemsLoad(['mixed.csv', '--dry-run'], {
      stdout,
      stderr: new PassThrough(),
      env: {},
      cwd: dir,
    });
    expect(code).toBe(1);
    expect(out()).toContain('Dry run: 3 rows read, 2 valid, nothing written.');
    expect(await count()).toBe(before);
  });
});
