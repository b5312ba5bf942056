import { statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { HubFunction, hubEsbuildOptions } from '../../infra/constructs/hub-function';
import { createHubApp } from '../../infra/stacks/hub';
import { cdkJsonContext, NO_BUNDLING } from './synth';

/**
 * Function bundles as HubFunction builds them, for the bundle benchmark (test/bench/bundles.bench.ts) and the
 * bundle tests: the entries come from the CDK app itself, the esbuild options from `hubEsbuildOptions`, so
 * neither can drift from what deploys.
 */

export const REPO_ROOT = join(import.meta.dirname, '../..');

/** One entry file and every function of the app built from it (the same entry may serve both clouds). */
export interface FunctionEntry {
  entry: string;
  functions: string[];
}

/** Every HubFunction of both stacks of a stage (dev unless told), grouped by entry; nothing is bundled. */
export function hubFunctionEntries(stage = 'dev'): FunctionEntry[] {
  const { app } = createHubApp({ context: { ...cdkJsonContext(), ...NO_BUNDLING, 'zwfw:stage': stage } });
  const byEntry = new Map<string, string[]>();
  for (const node of app.node.findAll()) {
    if (!(node instanceof HubFunction)) continue;
    byEntry.set(node.entry, [...(byEntry.get(node.entry) ?? []), node.node.path]);
  }
  return [...byEntry]
    .map(([entry, functions]) => ({ entry, functions: functions.sort() }))
    .sort((a, b) => a.entry.localeCompare(b.entry));
}

export interface BuiltBundle {
  /** Absolute path of the .mjs written (its source map beside it). */
  file: string;
  /** Bytes of the .mjs alone, without the source map: what Lambda loads and parses. */
  bytes: number;
  metafile: Metafile;
}

/**
 * Builds one entry (repo-relative, or `{ contents }` for a generated baseline handler) with HubFunction's
 * options into `outfile`; `bundleAwsSDK: false` leaves `@aws-sdk/*` to the runtime as CDK's default would.
 */
export async function buildHubBundle(
  entry: string | { contents: string; name: string },
  outfile: string,
  options: { bundleAwsSDK?: boolean } = {},
): Promise<BuiltBundle> {
  const base = hubEsbuildOptions(typeof entry === 'string' ? entry : entry.name, outfile, options);
  const { entryPoints: _entryPoints, ...rest } = base;
  const input =
    typeof entry === 'string'
      ? { entryPoints: [entry] }
      : {
          stdin: {
            contents: entry.contents,
            resolveDir: REPO_ROOT,
            sourcefile: entry.name,
            loader: 'ts' as const,
          },
        };
  const result = await build({
    ...rest,
    ...input,
    absWorkingDir: REPO_ROOT,
    metafile: true,
    logLevel: 'error',
  });
  return { file: outfile, bytes: statSync(outfile).size, metafile: result.metafile };
}

/** The package (`zod`, `@smithy/core`) or, for repository code, the folder (`functions/case-aggregate`) of an input. */
export function contributorOf(inputPath: string): string {
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(inputPath);
  if (inPackage?.[1]) return inPackage[1];
  const parts = inputPath.split('/');
  return parts.length > 2 ? parts.slice(0, 2).join('/') : inputPath;
}

/** The input files that put code into the bundle (tree-shaken files are parsed, hence listed, but add nothing). */
export function bundledInputs(metafile: Metafile): Map<string, number> {
  // The source map is an output too, with no inputs of its own.
  const output = Object.entries(metafile.outputs).find(([path]) => !path.endsWith('.map'))?.[1];
  if (!output) throw new Error('the metafile has no output');
  return new Map(
    Object.entries(output.inputs)
      .filter(([, input]) => input.bytesInOutput > 0)
      .map(([path, input]) => [path, input.bytesInOutput]),
  );
}

/** Bytes each contributor puts into the bundle, largest first. */
export function contributors(metafile: Metafile): { name: string; bytes: number }[] {
  const bytes = new Map<string, number>();
  for (const [path, inOutput] of bundledInputs(metafile)) {
    const name = contributorOf(path);
    bytes.set(name, (bytes.get(name) ?? 0) + inOutput);
  }
  return [...bytes].map(([name, b]) => ({ name, bytes: b })).sort((a, b) => b.bytes - a.bytes);
}

/** Every package the bundle holds code of. */
export function bundledPackages(metafile: Metafile): Set<string> {
  return new Set(
    contributors(metafile)
      .map((c) => c.name)
      .filter((name) => !/^(functions|shared|events)\b/.test(name)),
  );
}

/**
 * The AWS SDK packages a function uses: the service clients (`@aws-sdk/client-*`), the libraries over them
 * (`@aws-sdk/lib-dynamodb`) and the S3 presigner. Everything else of `@aws-sdk/*` (core, credential providers,
 * middleware) comes with those.
 */
export function sdkClientPackages(metafile: Metafile): string[] {
  return [...bundledPackages(metafile)]
    .filter((name) => /^@aws-sdk\/(client-|lib-|s3-request-presigner$)/.test(name))
    .sort();
}

/**
 * A handler that does nothing but import the given SDK packages (each package's `…Client` class, or every export
 * of a package without one, like the presigner): the baseline a function's cold import is compared with.
 */
export async function sdkBaselineSource(packages: readonly string[]): Promise<string> {
  const imports: string[] = [];
  const used: string[] = [];
  for (const [i, name] of packages.entries()) {
    const exports = Object.keys(await import(name));
    const client = exports.find((e) => /^[A-Z][A-Za-z0-9]*Client$/.test(e));
    if (client) {
      imports.push(`import { ${client} as used${i} } from '${name}';`);
    } else {
      imports.push(`import * as used${i} from '${name}';`);
    }
    used.push(`used${i}`);
  }
  return [
    ...imports,
    // Referenced, so the bundler keeps them; never called, like a handler that imports its clients.
    `export const sdk = [${used.join(', ')}];`,
    'export const handler = async () => sdk.length;',
    '',
  ].join('\n');
}

export const relativeToRepo = (file: string) => relative(REPO_ROOT, file);
