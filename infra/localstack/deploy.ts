/**
 * `npm run deploy:localstack [-- --stage dev]`: deploys both stacks of a stage to a running LocalStack with
 * cdklocal (aws-cdk-local, which points the project's own `cdk` CLI at LocalStack), and writes the stack outputs in
 * the shape of `cdk deploy --outputs-file` to `.hub/localstack/outputs.json` — the file `npm run e2e --
 * --target=localstack` reads. Needs Docker and LocalStack listening on AWS_ENDPOINT_URL (default
 * http://localhost:4566); not runnable on the machines that build this project (no Docker there).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../constructs/paths';
import { CDKLOCAL, LOCALSTACK_OUTPUTS_FILE } from './deploy-paths';

function main(): number {
  const { values } = parseArgs({ options: { stage: { type: 'string', default: 'dev' } } });
  const stage = values.stage ?? 'dev';
  mkdirSync(join(REPO_ROOT, '.hub', 'localstack'), { recursive: true });
  const env = {
    ...process.env,
    AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL ?? 'http://localhost:4566',
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
  };
  const context = ['-c', `zwfw:stage=${stage}`];
  const steps: string[][] = [
    ['bootstrap', ...context],
    ['deploy', '--all', '--require-approval', 'never', '--outputs-file', LOCALSTACK_OUTPUTS_FILE, ...context],
  ];
  for (const step of steps) {
    const result = spawnSync('npx', ['--yes', CDKLOCAL, ...step], { cwd: REPO_ROOT, env, stdio: 'inherit' });
    if (result.status !== 0) return result.status ?? 1;
  }
  process.stdout.write(`outputs: ${LOCALSTACK_OUTPUTS_FILE}\n`);
  return 0;
}

process.exitCode = main();
