import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHubApp, type HubApp } from '../../infra/stacks/hub';
import type { CfnTemplate } from './policies';

/** The context cdk.json gives the CLI (feature flags included), so tests synthesise what `cdk synth` does. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));
  return cdkJson.context;
}

/** Skips esbuild for tests that look only at names and settings (bundling costs seconds per function). */
export const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] } as const;

export interface SynthesisedHub extends HubApp {
  assembly: ReturnType<HubApp['app']['synth']>;
  outdir: string;
  template(stackName: string): CfnTemplate;
  cleanUp(): void;
}

/** Builds and synthesises the hub once; any unacknowledged cdk-nag finding makes this throw. */
export function synthHub(context: Record<string, unknown> = {}): SynthesisedHub {
  const outdir = mkdtempSync(join(tmpdir(), 'zwfw-synth-'));
  // The CLI turns asset metadata on; the local runtime finds each bundle through `aws:asset:path`.
  const cliContext = { 'aws:cdk:enable-asset-metadata': true };
  const hub = createHubApp({ outdir, context: { ...cdkJsonContext(), ...cliContext, ...context } });
  const assembly = hub.app.synth();
  return {
    ...hub,
    assembly,
    outdir,
    template: (stackName) => assembly.getStackByName(stackName).template as CfnTemplate,
    cleanUp: () => rmSync(outdir, { recursive: true, force: true }),
  };
}
