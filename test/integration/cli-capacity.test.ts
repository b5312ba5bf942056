import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapacityReport } from '../../infra/capacity/model';
import { runCli } from '../../infra/cli/cli';
import { privateTemplate, resultsDocument } from '../unit/capacity-fixtures';

/**
 * `npm run hub -- capacity` end to end, as an operator runs it: a fixture results.json and a fixture cloud assembly
 * on disk, the command line parsed, the report printed (table and --json) and the exit status.
 */
let dir: string;
const operations = {
  'auth.verification': { registry: { wcu: 0, rcu: 0.5 } },
  'request.signed': { nonces: { wcu: 1, rcu: 0 } },
  'case.statusChange': { cases: { wcu: 3.9, rcu: 1.7 }, statistics: { wcu: 1.6, rcu: 0 } },
};

async function run(args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await runCli(['capacity', ...args], { stdout, stderr, env: {}, cwd: dir });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'zwfw-cli-capacity-'));
  mkdirSync(join(dir, 'assembly'));
  writeFileSync(join(dir, 'assembly', 'zwfw-dev-private.template.json'), JSON.stringify(privateTemplate()));
  writeFileSync(
    join(dir, 'results.json'),
    JSON.stringify(resultsDocument(operations, { statusChangesPerCase: 3 })),
  );
  writeFileSync(
    join(dir, 'partial.json'),
    JSON.stringify(resultsDocument(operations, { omit: ['licence.retrieval'] })),
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const fixture = ['--results', 'results.json', '--assembly', 'assembly'];

describe('npm run hub -- capacity', () => {
  it('prints the month as JSON from the fixture results and templates', async () => {
    const { code, stdout } = await run([
      '--scale',
      '10',
      '--days',
      '53',
      '--peak-factor',
      '3',
      '--json',
      ...fixture,
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as CapacityReport & { inputs: { benchRunAt: string } };
    expect(report.inputs.benchRunAt).toBe('2026-11-22T00:00:00.000Z');
    expect(report.options).toEqual({ scale: 10, peakFactor: 3, days: 53 });
    // 10 × 26.78 M verifications, each 1 nonce write and 0.5 RCU on the registry
    expect(report.load.find((l) => l.name === 'verifications')?.perMonth).toBeCloseTo(267_800_000, 0);
    expect(report.dynamodb.find((t) => t.table === 'registry')?.rcu).toBeCloseTo(133_900_000, 0);
    // 10 × 49.89 M cases × 3 changes × 3.9 WCU on the cases table
    expect(report.dynamodb.find((t) => t.table === 'cases')?.wcu).toBeCloseTo(5_837_130_000, -1);
    expect(report.totalUsd).toBeCloseTo(
      report.cost.reduce((sum, c) => sum + c.usd, 0),
      1,
    );
    expect(report.lambda).toHaveLength(14);
  });

  it('prints tables, the assumptions, and every limit the peak exceeds', async () => {
    const { code, stdout } = await run(['--scale', '2000', ...fixture]);
    expect(code).toBe(0);
    expect(stdout).toContain('Capacity per month of 30 days at scale 2000');
    expect(stdout).toMatch(/DynamoDB statistics: hottest partition WCU\/s .* EXCEEDED/);
    expect(stdout).toMatch(/API Gateway requests\/s \(account\) .* EXCEEDED/);
    expect(stdout).toContain('Assumptions (infra/capacity/profile.ts):');
    const calm = await run(['--scale', '1', ...fixture]);
    expect(calm.stdout).toContain('No limit exceeded.');
  });

  it('exits 1 and names the measured input a results file lacks, instead of defaulting it', async () => {
    const { code, stderr, stdout } = await run([
      '--scale',
      '1',
      '--results',
      'partial.json',
      '--assembly',
      'assembly',
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain('capacity of licence.retrieval');
    expect(stdout).toBe('');
    const missingFile = await run(['--scale', '1', '--results', 'nowhere.json', '--assembly', 'assembly']);
    expect(missingFile.code).toBe(1);
    expect(missingFile.stderr).toContain('Cannot read bench results');
  });

  it('exits 2 on a bad command line', async () => {
    expect((await run(fixture)).code).toBe(2);
    const bad = await run(['--scale', '0', ...fixture]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--scale must be a number above 0');
    expect((await run(['--help'])).stdout).toContain('Usage: npm run hub -- capacity --scale N');
  });
});
