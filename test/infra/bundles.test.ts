import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  'functions/evaluation-ingest/public-submit.ts', // public cloud: EventBridge, KMS for the token key
];

/** A client may be in a bundle only if the function's role may call its service with these actions. */
const CLIENT_NEEDS_ACTION: Record<string, (action: string) => boolean> = {
  '@aws-sdk/client-s3': (a) => a.startsWith('s3:'),
  '@aws-sdk/client-sqs': (a) => a === 'sqs:SendMessage',
  '@aws-sdk/client-eventbridge': (a) => a === 'events:PutEvents',
  '@aws-sdk/client-dynamodb': (a) => a.startsWith('dynamodb:'),
  '@aws-sdk/client-kms': (a) => a.startsWith('kms:'),
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
    expect(unusable).toEqual([]);
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

  it('bundles the KMS client only in the public cloud, which reads the token key from KMS', () => {
    // Private functions verify tokens against the hub's JWKS URL (shared/user-token.ts); only public entry points
    // pass shared/published-token-key.ts, so only they carry KMS.
    expect(bundledPackages(builtOf('functions/case-aggregate/api.ts').metafile)).not.toContain(
      '@aws-sdk/client-kms',
    );
    expect(bundledPackages(builtOf('functions/evaluation-ingest/public-submit.ts').metafile)).toContain(
      '@aws-sdk/client-kms',
    );
  });

  it('keeps the private batch ingestion and its queue out of the public submission', () => {
    const inputs = [
      ...bundledInputs(builtOf('functions/evaluation-ingest/public-submit.ts').metafile).keys(),
    ];
    expect(inputs).not.toContain('functions/evaluation-ingest/api.ts');
    expect(inputs).toContain('functions/evaluation-ingest/evaluation-routes.ts');
  });
});

describe('event schemas in bundles', () => {
  it('a module that reads only a helper of an event module does not build its schema', async () => {
    // events/*.v1.ts build their schema in a call marked pure: unused, esbuild drops it, and the catalogue builds
    // its own copy on first use (events/catalogue.ts). Without the mark every importer of changeIdOf built it.
    const { file } = await buildHubBundle(
      {
        contents: "export { changeIdOf } from './events/case-status-changed.v1';\n",
        name: 'change-id-only.ts',
      },
      join(outDir, 'change-id-only.mjs'),
    );
    const withSchema = await buildHubBundle(
      {
        contents: "export { caseStatusChangedV1 } from './events/case-status-changed.v1';\n",
        name: 'schema.ts',
      },
      join(outDir, 'schema.mjs'),
    );
    const description = 'CaseStatusChanged v1: a status change applied to a case';
    expect(readFileSync(withSchema.file, 'utf8')).toContain(description);
    expect(readFileSync(file, 'utf8')).not.toContain(description);
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
