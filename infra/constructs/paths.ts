import { fileURLToPath } from 'node:url';

/** Repository root, so entries are written `functions/<capability>/api.ts` whatever the cwd of `cdk synth`. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function repoPath(relative: string): string {
  return fileURLToPath(new URL(`../../${relative}`, import.meta.url));
}
