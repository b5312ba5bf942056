import { z } from 'zod';
import {
  type Deployment,
  FUNCTIONS,
  type FunctionKey,
  type FunctionSpec,
  MEASURED_OPERATIONS,
  MEASURED_QUANTITIES,
  type MeasuredInputs,
  type OperationCapacity,
  type OperationName,
  type QuantityName,
} from './model';

/**
 * The capacity model's inputs, read from what the project produces: the measured figures from a bench run's
 * results.json (never typed in) and the function sizes and queue mappings from the synthesised templates.
 * A missing figure is an error that names it — never a silent default.
 */

const capacity = z.object({ wcu: z.number().nonnegative(), rcu: z.number().nonnegative() });

/** What a benchmark writes for each operation it measured (test/bench/support/types.ts `OperationCapacityFigure`). */
export const operationCapacityRecord = capacity.extend({
  operation: z.string(),
  tables: z.record(z.string(), capacity),
  basis: z.string(),
});

export const quantityRecord = z.object({ name: z.string(), value: z.number().positive(), basis: z.string() });

const benchResults = z.object({
  startedAt: z.string(),
  benchmarks: z.array(
    z.looseObject({
      name: z.string(),
      status: z.string(),
      capacity: z.array(operationCapacityRecord).optional(),
      quantities: z.array(quantityRecord).optional(),
    }),
  ),
});

export class MissingInputError extends Error {
  override readonly name = 'MissingInputError';
}

export interface ReadInputs extends MeasuredInputs {
  startedAt: string;
  /** Where each figure came from: benchmark and basis. */
  sources: Record<string, string>;
}

/** The measured inputs of a results.json document; throws MissingInputError naming every figure it lacks. */
export function measuredInputsOf(document: unknown): ReadInputs {
  const parsed = benchResults.safeParse(document);
  if (!parsed.success) {
    throw new MissingInputError(`not a bench results document: ${z.prettifyError(parsed.error)}`);
  }
  const operations = new Map<string, OperationCapacity>();
  const quantities = new Map<string, number>();
  const sources: Record<string, string> = {};
  const notOk: string[] = [];
  for (const benchmark of parsed.data.benchmarks) {
    if (benchmark.status !== 'ok') {
      notOk.push(`${benchmark.name} (${benchmark.status})`);
      continue;
    }
    for (const record of benchmark.capacity ?? []) {
      operations.set(record.operation, { wcu: record.wcu, rcu: record.rcu, tables: record.tables });
      sources[record.operation] = `${benchmark.name}: ${record.basis}`;
    }
    for (const record of benchmark.quantities ?? []) {
      quantities.set(record.name, record.value);
      sources[record.name] = `${benchmark.name}: ${record.basis}`;
    }
  }
  const missing = [
    ...MEASURED_OPERATIONS.filter((name) => !operations.has(name)).map((name) => `capacity of ${name}`),
    ...MEASURED_QUANTITIES.filter((name) => !quantities.has(name)).map((name) => name),
  ];
  if (missing.length > 0) {
    const why = notOk.length > 0 ? ` Benchmarks not ok in that run: ${notOk.join(', ')}.` : '';
    throw new MissingInputError(
      `the bench results lack ${missing.length} measured input(s): ${missing.join(', ')}.${why} ` +
        'Run `npm run bench` (operations and capacity benchmarks) to measure them.',
    );
  }
  return {
    startedAt: parsed.data.startedAt,
    sources,
    operations: Object.fromEntries(MEASURED_OPERATIONS.map((n) => [n, operations.get(n)])) as Record<
      OperationName,
      OperationCapacity
    >,
    quantities: Object.fromEntries(MEASURED_QUANTITIES.map((n) => [n, quantities.get(n)])) as Record<
      QuantityName,
      number
    >,
  };
}

interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

const template = z.object({
  Resources: z.record(
    z.string(),
    z.looseObject({
      Type: z.string(),
      Properties: z.record(z.string(), z.unknown()).optional(),
      Metadata: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
});

/** `AuthVerification/IdentityFunction` from `zwfw-dev-private/AuthVerification/IdentityFunction/Resource`. */
const constructPathOf = (resource: TemplateResource): string | undefined => {
  const path = resource.Metadata?.['aws:cdk:path'];
  return typeof path === 'string' ? path.split('/').slice(1, -1).join('/') : undefined;
};

/**
 * Memory sizes, SQS mappings and STATS_SHARDS of the hub's functions, from synthesised CloudFormation templates
 * (cdk.out/*.template.json). Throws MissingInputError naming each function the model needs and did not find.
 */
export function deploymentOf(templates: readonly unknown[]): Deployment {
  const resources = templates.flatMap((t) => Object.entries(template.parse(t).Resources));
  const byLogicalId = new Map(resources);
  const specs = new Map<string, FunctionSpec & { logicalId: string; environment: Record<string, unknown> }>();
  for (const [logicalId, resource] of resources) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const path = constructPathOf(resource);
    const memoryMb = resource.Properties?.MemorySize;
    if (!path) continue;
    const environment = ((
      resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined
    )?.Variables ?? {}) as Record<string, unknown>;
    // CloudFormation's default when MemorySize is absent.
    specs.set(path, { logicalId, memoryMb: typeof memoryMb === 'number' ? memoryMb : 128, environment });
  }
  for (const [, resource] of resources) {
    if (resource.Type !== 'AWS::Lambda::EventSourceMapping') continue;
    const target = (resource.Properties?.FunctionName as { Ref?: string } | undefined)?.Ref;
    const fn = target ? byLogicalId.get(target) : undefined;
    const path = fn ? constructPathOf(fn) : undefined;
    const spec = path ? specs.get(path) : undefined;
    if (!spec) continue;
    const batchSize = resource.Properties?.BatchSize;
    const window = resource.Properties?.MaximumBatchingWindowInSeconds;
    // Lambda's default batch size for SQS is 10 when the mapping does not say.
    spec.batchSize = typeof batchSize === 'number' ? batchSize : 10;
    if (typeof window === 'number') spec.batchingWindowSeconds = window;
  }
  const missing = Object.entries(FUNCTIONS).filter(([, path]) => !specs.has(path));
  if (missing.length > 0) {
    throw new MissingInputError(
      `the templates lack ${missing.length} function(s) the model needs: ${missing.map(([, p]) => p).join(', ')}`,
    );
  }
  const consumers: FunctionKey[] = [
    'caseIngest',
    'evaluationConsumer',
    'evaluationCaseEvents',
    'evaluationEvents',
    'licenceCaseEvents',
    'licenceUploads',
  ];
  const unmapped = consumers.filter((key) => specs.get(FUNCTIONS[key])?.batchSize === undefined);
  if (unmapped.length > 0) {
    throw new MissingInputError(
      `no SQS event-source mapping in the templates for ${unmapped.map((k) => FUNCTIONS[k]).join(', ')}`,
    );
  }
  const shards = Number(specs.get(FUNCTIONS.caseIngest)?.environment.STATS_SHARDS);
  if (!Number.isInteger(shards) || shards < 1) {
    throw new MissingInputError(`${FUNCTIONS.caseIngest} has no STATS_SHARDS in its environment`);
  }
  const functions = Object.fromEntries(
    (Object.keys(FUNCTIONS) as FunctionKey[]).map((key) => {
      const { memoryMb, batchSize, batchingWindowSeconds } = specs.get(FUNCTIONS[key]) as FunctionSpec;
      return [
        key,
        {
          memoryMb,
          ...(batchSize === undefined ? {} : { batchSize }),
          ...(batchingWindowSeconds === undefined ? {} : { batchingWindowSeconds }),
        },
      ];
    }),
  ) as Record<FunctionKey, FunctionSpec>;
  return { functions, statsShards: shards };
}
