/**
 * `npm run e2e [-- --target=local|localstack] [vitest filters…]`: the end-to-end suite against a target.
 *
 * - `local` (default): every file starts its own local hub (test/e2e/support/test-hub.ts) on an ephemeral port.
 * - `localstack`: the stacks `npm run deploy:localstack` deployed, found through its outputs file (same shape as
 *   `cdk deploy --outputs-file`). Passed to the files as E2E_TARGET / E2E_OUTPUTS_FILE.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LOCALSTACK_OUTPUTS_FILE } from '../../../infra/localstack/deploy-paths';

const TARGETS = ['local', 'localstack'] as const;
type Target = (typeof TARGETS)[number];

function main(): number {
  const { values, positionals } = parseArgs({
    options: { target: { type: 'string', default: 'local' } },
    allowPositionals: true,
  });
  const target = values.target as Target;
  if (!TARGETS.includes(target)) {
    process.stderr.write(`unknown --target=${values.target}; one of ${TARGETS.join(', ')}\n`);
    return 2;
  }
  const env: NodeJS.ProcessEnv = { ...process.env, E2E_TARGET: target };
  if (target === 'localstack') {
    if (!existsSync(LOCALSTACK_OUTPUTS_FILE)) {
      process.stderr.write(`no ${LOCALSTACK_OUTPUTS_FILE}: run npm run deploy:localstack first\n`);
      return 2;
    }
    env.E2E_OUTPUTS_FILE = LOCALSTACK_OUTPUTS_FILE;
  }
  const files = positionals.length > 0 ? positionals : ['test/e2e'];
  const result = spawnSync('npx', ['vitest', 'run', ...files], { env, stdio: 'inherit' });
  return result.status ?? 1;
}

process.exitCode = main();
