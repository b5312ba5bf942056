import {
  FUNCTIONS,
  type FunctionKey,
  MEASURED_OPERATIONS,
  type OperationName,
} from '../../infra/capacity/model';

/**
 * Hand-made inputs of the capacity model: a results.json whose every operation consumes nothing but what a test
 * sets, and CloudFormation templates with the hub's functions (memory, SQS mappings, STATS_SHARDS), so expected
 * figures can be computed by hand.
 */

export type OperationFixture = Partial<Record<OperationName, Record<string, { wcu: number; rcu: number }>>>;

/** A bench results document as `npm run bench` writes it, with the given capacities (others zero). */
export function resultsDocument(
  operations: OperationFixture,
  options: { statusChangesPerCase?: number; omit?: OperationName[] } = {},
) {
  const capacity = MEASURED_OPERATIONS.filter((name) => !options.omit?.includes(name)).map((operation) => {
    const tables = operations[operation] ?? { nonces: { wcu: 0, rcu: 0 } };
    const sum = (key: 'wcu' | 'rcu') => Object.values(tables).reduce((s, t) => s + t[key], 0);
    return { operation, wcu: sum('wcu'), rcu: sum('rcu'), tables, basis: 'fixture' };
  });
  return {
    startedAt: '2026-11-22T00:00:00.000Z',
    seconds: 1,
    machine: { cores: 2 },
    benchmarks: [
      {
        name: 'operations',
        status: 'ok',
        figures: [],
        capacity: capacity.filter((c) => c.operation !== 'case.statusChange'),
      },
      {
        name: 'capacity',
        status: 'ok',
        figures: [],
        capacity: capacity.filter((c) => c.operation === 'case.statusChange'),
        quantities: [
          { name: 'case.statusChangesPerCase', value: options.statusChangesPerCase ?? 3, basis: 'fixture' },
        ],
      },
    ],
  };
}

const CONSUMERS: Partial<Record<FunctionKey, number>> = {
  caseIngest: 50,
  evaluationEvents: 50,
  evaluationConsumer: 50,
  evaluationCaseEvents: 50,
  licenceCaseEvents: 50,
  licenceUploads: 10,
};

/** The private stack's functions as CDK synthesises them: every one 1024 MB unless `memory` says otherwise. */
export function privateTemplate(
  options: { memory?: Partial<Record<FunctionKey, number>>; without?: FunctionKey[] } = {},
) {
  const resources: Record<string, unknown> = {};
  for (const [key, path] of Object.entries(FUNCTIONS) as [FunctionKey, string][]) {
    if (options.without?.includes(key)) continue;
    const logicalId = `${path.replace('/', '')}ABCD1234`;
    resources[logicalId] = {
      Type: 'AWS::Lambda::Function',
      Properties: {
        MemorySize: options.memory?.[key] ?? 1024,
        Environment: { Variables: key === 'caseIngest' ? { STATS_SHARDS: '8' } : {} },
      },
      Metadata: { 'aws:cdk:path': `zwfw-dev-private/${path}/Resource` },
    };
    const batchSize = CONSUMERS[key];
    if (batchSize !== undefined) {
      resources[`${logicalId}Mapping`] = {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          BatchSize: batchSize,
          MaximumBatchingWindowInSeconds: 1,
          FunctionName: { Ref: logicalId },
        },
      };
    }
  }
  return { Resources: resources };
}
