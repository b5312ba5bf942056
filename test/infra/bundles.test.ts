import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HUB_BUNDLING, HubFunction, hubEsbuildOptions } from '../../infra/constructs/hub-function';
import { createHubApp } from '../../infra/stacks/hub';
import { buildHubBundle, bundledInputs, bundledPackages, sdkClientPackages } from './bundles';
import type { CfnTemplate } from './policies';
import { templateQueries } from './queries';
import { cdkJsonContext, NO_BUNDLING } from './synth';

/**
 * Guards of what goes into a function bundle, on a representative set (bundling all ~20 entries is the bundle
 * benchmark's job): a function carries only the SDK clients its role may use, and zod without its locales.
 * Each bundle is built with HubFunction's own esbuild options.
 */
const REPRESENTATIVE = [
  'functions/case-aggregate/api.ts', // DynamoDB + SQS, no S3
  'functions/case-aggregate/rollup.ts', // the one case function that writes S3 snapshots
  'functions/auth-verify/authorizer.ts', // Secrets Manager only
  'functions/evaluation-ingest/public-submit.ts', // public cloud: EventBridge
];

/** A client may be in a bundle only if the function's role may call its service with these actions. */
const CLIENT_NEEDS_ACTION: Record<string, (action: string) => boolean> = {
  '@aws-sdk/client-s3': (a) => a.startsWith('s3:'),
  '@aws-sdk/client-sqs': (a) => a === 'sqs:SendMessage',
  '@aws-sdk/client-eventbridge': (a) => a === 'events:PutEvents',
  '@aws-sdk/client-dynamodb': (a) => a.startsWith('dynamodb:'),
};

/**
 * Known extras, each with its cause; the test fails when one appears or disappears, so the list stays true.
 * public-submit imports createEvaluationApi from evaluation-ingest/api.ts, whose module also defines the private
 * batch entry point (a top-level `routedHandler(…)` call, which esbuild must keep) that enqueues to SQS. The SQS
 * client is bundled but never built; moving the shared API into its own module would drop it.
 */
const KNOWN_UNUSABLE_CLIENTS: Record<string, string[]> = {
  'functions/evaluation-ingest/public-submit.ts': ['@aws-sdk/client-sqs'],
};

interface Built {
  fn: HubFunction;
  actions: string[];
  metafile: Metafile;
}

const outDir = mkdtempSync(join(tmpdir(), 'zwfw-bundles-test-'));
const built = new Map<string, Built>();

beforeAll(async () => {
  const { app } = createHubApp({ context: { ...cdkJsonContext(), ...NO_BUNDLING, 'zwfw:stage': 'dev' } });
  const functions = app.node.findAll().filter((node): node is HubFunction => node instanceof HubFunction);
  const templates = new Map<Stack, CfnTemplate>();
  const templateOf = (stack: Stack): CfnTemplate => {
    let template = templates.get(stack);
    if (!template) {
      template = Template.fromStack(stack).toJSON() as CfnTemplate;
      templates.set(stack, template);
    }
    return template;
  };
  await Promise.all(
    REPRESENTATIVE.map(async (entry, i) => {
      const fn = functions.find((f) => f.entry === entry);
      if (!fn) throw new Error(`no HubFunction is built from ${entry}`);
      const { grantsOf } = templateQueries(() => templateOf(Stack.of(fn)));
      const actions = grantsOf(fn).flatMap((s) => [s.Action].flat());
      const { metafile } = await buildHubBundle(entry, join(outDir, `${i}.mjs`));
      built.set(entry, { fn, actions, metafile });
    }),
  );
}, 120_000);

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const builtOf = (entry: string): Built => {
  const found = built.get(entry);
  if (!found) throw new Error(`${entry} was not built`);
  return found;
};

describe('function bundles', () => {
  it.each(REPRESENTATIVE)('%s bundles an SDK client only if its role may call that service', (entry) => {
    const { actions, metafile } = builtOf(entry);
    const unusable = sdkClientPackages(metafile).filter((client) => {
      const needs = CLIENT_NEEDS_ACTION[client];
      return needs !== undefined && !actions.some(needs);
    });
    expect(unusable).toEqual(KNOWN_UNUSABLE_CLIENTS[entry] ?? []);
  });

  it('keeps S3 out of functions that do not touch a bucket and in the one that does', () => {
    expect(bundledPackages(builtOf('functions/case-aggregate/api.ts').metafile)).not.toContain(
      '@aws-sdk/client-s3',
    );
    expect(bundledPackages(builtOf('functions/case-aggregate/rollup.ts').metafile)).toContain(
      '@aws-sdk/client-s3',
    );
  });

  it.each(REPRESENTATIVE)('%s bundles zod with its English messages only, not every locale', (entry) => {
    const zodLocales = [...bundledInputs(builtOf(entry).metafile).keys()].filter((path) =>
      /node_modules\/zod\/.*\/locales\//.test(path),
    );
    // zod's classic API installs English messages on import; the other ~45 locales are never loaded.
    expect(zodLocales.map((path) => path.replace(/.*\/locales\//, ''))).toEqual(['en.js']);
  });

  it('a bundle holds no KMS command but the two the token signer sends', () => {
    const kmsCommands = [...bundledInputs(builtOf('functions/case-aggregate/api.ts').metafile).keys()]
      .filter((path) => path.includes('/@aws-sdk/client-kms/') && path.includes('/commands/'))
      .map((path) => path.replace(/.*\/commands\//, ''));
    expect(kmsCommands.sort()).toEqual(['GetPublicKeyCommand.js', 'SignCommand.js']);
  });
});

describe('hubEsbuildOptions', () => {
  it('are the options HubFunction gives CDK', () => {
    const options = hubEsbuildOptions('functions/x.ts', '/tmp/x/index.mjs');
    expect(options).toMatchObject({
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: HUB_BUNDLING.target,
      mainFields: HUB_BUNDLING.mainFields,
      banner: { js: HUB_BUNDLING.banner },
      minify: HUB_BUNDLING.minify,
      sourcemap: HUB_BUNDLING.sourceMap,
      sourcesContent: HUB_BUNDLING.sourcesContent,
    });
    expect(options.external).toEqual(HUB_BUNDLING.bundleAwsSDK ? [] : ['@aws-sdk/*']);
  });

  it('leave @aws-sdk/* to the runtime only when asked, as CDK does without bundleAwsSDK', () => {
    expect(hubEsbuildOptions('functions/x.ts', '/tmp/x/index.mjs', { bundleAwsSDK: false }).external).toEqual(
      ['@aws-sdk/*'],
    );
  });
});
