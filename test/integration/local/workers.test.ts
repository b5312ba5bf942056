import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionModel, LocalEndpoints } from '../../../infra/local/model';
import {
  DEV_CLIENTS_FILE,
  FunctionError,
  FunctionTimeoutError,
  type LocalFunctionHost,
  startFunctionHost,
} from '../../../infra/local/workers';
import { emptyModel } from '../../support/model';

const bundleDir = join(import.meta.dirname, '../../fixtures/templates/hub/asset.fixture01');
const endpoints: LocalEndpoints = {
  dynamodb: 'http://127.0.0.1:1001',
  sqs: 'http://127.0.0.1:1002',
  s3: 'http://127.0.0.1:1003',
  eventbridge: 'http://127.0.0.1:1004',
};

function fn(name: string, handler: string, overrides: Partial<FunctionModel> = {}): FunctionModel {
  return {
    key: `test/${name}`,
    functionName: `test-${name}`,
    arn: `arn:aws:lambda:us-east-1:000000000000:function:test-${name}`,
    bundleDir,
    handler,
    runtime: 'nodejs20.x',
    timeoutSeconds: 5,
    memoryMb: 256,
    environment: {},
    ...overrides,
  };
}

const functions = [
  fn('echo', 'index.handler', { environment: { CASES_TABLE: 'cases-echo' }, memoryMb: 384 }),
  fn('other', 'index.handler', { environment: { CASES_TABLE: 'cases-other' } }),
  fn('slow', 'index.slow', { timeoutSeconds: 1 }),
  fn('fail', 'index.fail'),
  fn('crash', 'index.crash'),
  fn('callback', 'index.callback'),
  fn('pooled', 'index.slow'),
];
const model = emptyModel({ functions });

let host: LocalFunctionHost;
const lines: string[] = [];

beforeAll(async () => {
  host = await startFunctionHost({ model, endpoints, poolSize: 2, log: (line) => lines.push(line) });
});

afterAll(async () => {
  await host.stop();
});

interface Echo {
  event: unknown;
  functionName: string;
  awsRequestId: string;
  memoryLimitInMB: string;
  remainingMs: number;
  coldStartAt: number;
  threadEnv: Record<string, unknown>;
}

describe('function host', () => {
  it('runs a handler with the event, a Lambda-like context and the function environment', async () => {
    const result = (await host.invoke('test/echo', { hello: 'world' })) as Echo;
    expect(result.event).toEqual({ hello: 'world' });
    expect(result.functionName).toBe('test-echo');
    expect(result.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.memoryLimitInMB).toBe('384');
    expect(result.remainingMs).toBeGreaterThan(0);
    expect(result.remainingMs).toBeLessThanOrEqual(5_000);
    expect(result.threadEnv).toEqual({
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
      AWS_ENDPOINT_URL_SQS: endpoints.sqs,
      AWS_ENDPOINT_URL_S3: endpoints.s3,
      AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.eventbridge,
      AWS_LAMBDA_FUNCTION_NAME: 'test-echo',
      AWS_REGION: 'us-east-1',
      CASES_TABLE: 'cases-echo',
      HUB_CLIENTS_FILE: DEV_CLIENTS_FILE,
      HUB_ID_HMAC_KEY_SET: true,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    });
  });

  it('gives each function its own environment, even from the same bundle', async () => {
    const [echo, other] = (await Promise.all([
      host.invoke('test/echo', {}),
      host.invoke('test/other', {}),
    ])) as Echo[];
    expect(echo?.threadEnv.CASES_TABLE).toBe('cases-echo');
    expect(other?.threadEnv.CASES_TABLE).toBe('cases-other');
    expect(process.env.CASES_TABLE).toBeUndefined();
  });

  it('reuses a warm worker between invocations', async () => {
    const first = (await host.invoke('test/other', {})) as Echo;
    const second = (await host.invoke('test/other', {})) as Echo;
    expect(second.coldStartAt).toBe(first.coldStartAt);
  });

  it('rejects with the handler error type and message', async () => {
    const error = await host.invoke('test/fail', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FunctionError);
    expect(error).toMatchObject({ errorType: 'ValidationError', message: 'handler said no' });
  });

  it('supports callback-style handlers', async () => {
    expect(await host.invoke('test/callback', { n: 1 })).toEqual({ echoed: { n: 1 } });
  });

  it('kills an invocation that outlives the timeout, then serves the next one from a fresh worker', async () => {
    const error = await host.invoke('test/slow', { ms: 10_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FunctionTimeoutError);
    expect(String(error)).toMatch(/Task timed out after 1 seconds/);
    expect(await host.invoke('test/slow', { ms: 1 })).toEqual({ sleptMs: 1 });
    expect(host.stats()['test/slow']).toMatchObject({ timeouts: 1, coldStarts: 2 });
  });

  it('rejects the invocation of a worker that crashes and restarts it', async () => {
    const error = await host.invoke('test/crash', { crash: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FunctionError);
    expect(String((error as Error).message)).toMatch(/crashed: uncaught in a timer/);
    expect(await host.invoke('test/crash', { crash: false })).toBe('alive');
    expect(host.stats()['test/crash']).toMatchObject({ crashes: 1, invocations: 2, coldStarts: 2 });
  });

  it('runs up to poolSize invocations of one function at once and queues the rest', async () => {
    const results = await Promise.all([1, 2, 3].map(() => host.invoke('test/pooled', { ms: 300 })));
    expect(results).toEqual([{ sleptMs: 300 }, { sleptMs: 300 }, { sleptMs: 300 }]);
    expect(host.stats()['test/pooled']).toMatchObject({ invocations: 3, coldStarts: 2 });
  });

  it('forwards worker output prefixed with the function name', async () => {
    const withLog = await startFunctionHost({
      model: { ...model, functions: [fn('partial', 'index.partial')] },
      endpoints,
      log: (line) => lines.push(line),
    });
    try {
      await withLog.invoke('test/partial', { Records: [{ messageId: 'm1', body: 'ok' }] });
      await expect
        .poll(() => lines.some((line) => line.startsWith('[test-partial] ') && line.includes('"size":1')))
        .toBe(true);
    } finally {
      await withLog.stop();
    }
  });

  it('refuses to start when a bundle is missing', async () => {
    const broken = { ...model, functions: [fn('missing', 'nothere.handler')] };
    await expect(startFunctionHost({ model: broken, endpoints })).rejects.toThrow(
      /test\/missing: bundle .*nothere/,
    );
  });
});
