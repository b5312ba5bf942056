/**
 * Entry point of one function worker thread (started by workers.ts). It imports the function's bundle once,
 * like a Lambda cold start, then runs one invocation at a time with a Lambda-like context. Kept free of
 * project imports: workers.ts compiles it with esbuild into a single file any Node can start.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

export interface WorkerInit {
  bundleDir: string;
  /** `index.handler` or `dir/file.exportName`. */
  handler: string;
  functionName: string;
  functionArn: string;
  memoryMb: number;
}

export interface InvokeMessage {
  type: 'invoke';
  requestId: string;
  event: unknown;
  /** Epoch ms at which the runtime kills the invocation. */
  deadline: number;
}

export type ResultMessage =
  | { type: 'result'; requestId: string; ok: true; value: unknown }
  | {
      type: 'result';
      requestId: string;
      ok: false;
      error: { errorType: string; errorMessage: string; stack?: string };
    };

type Handler = (
  event: unknown,
  context: unknown,
  callback?: (error: unknown, result?: unknown) => void,
) => unknown;

const init = workerData as WorkerInit;
let handlerPromise: Promise<Handler> | undefined;

function loadHandler(): Promise<Handler> {
  handlerPromise ??= (async () => {
    const dot = init.handler.lastIndexOf('.');
    const modulePath = init.handler.slice(0, dot);
    const exportName = init.handler.slice(dot + 1);
    const file = ['.mjs', '.js', '.cjs']
      .map((extension) => join(init.bundleDir, modulePath + extension))
      .find((candidate) => existsSync(candidate));
    if (!file) throw new Error(`Runtime.ImportModuleError: ${modulePath} not found in ${init.bundleDir}`);
    const module = (await import(pathToFileURL(file).href)) as Record<string, unknown> & {
      default?: Record<string, unknown>;
    };
    const handler = module[exportName] ?? module.default?.[exportName];
    if (typeof handler !== 'function')
      throw new Error(`Runtime.HandlerNotFound: ${init.handler} is not a function`);
    return handler as Handler;
  })();
  return handlerPromise;
}

function lambdaContext(message: InvokeMessage) {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: init.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: init.functionArn,
    memoryLimitInMB: String(init.memoryMb),
    awsRequestId: message.requestId,
    logGroupName: `/aws/lambda/${init.functionName}`,
    logStreamName: `local/${init.functionName}`,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** Promise handlers and callback handlers both end here, as in the Node.js Lambda runtime. */
function runHandler(handler: Handler, message: InvokeMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const callback = (error: unknown, result?: unknown) => (error ? reject(error) : resolve(result));
    try {
      const returned = handler(message.event, lambdaContext(message), callback);
      if (returned && typeof (returned as Promise<unknown>).then === 'function') {
        (returned as Promise<unknown>).then(resolve, reject);
      } else if (handler.length < 3) {
        resolve(returned);
      }
    } catch (error) {
      reject(error);
    }
  });
}

function toErrorPayload(error: unknown) {
  if (error instanceof Error)
    return { errorType: error.name, errorMessage: error.message, stack: error.stack };
  return { errorType: 'Error', errorMessage: String(error) };
}

parentPort?.on('message', async (message: InvokeMessage) => {
  let reply: ResultMessage;
  try {
    const value = await runHandler(await loadHandler(), message);
    // Lambda hands back JSON; anything that does not survive JSON must not survive here either.
    reply = {
      type: 'result',
      requestId: message.requestId,
      ok: true,
      value: value === undefined ? null : JSON.parse(JSON.stringify(value)),
    };
  } catch (error) {
    reply = { type: 'result', requestId: message.requestId, ok: false, error: toErrorPayload(error) };
  }
  parentPort?.postMessage(reply);
});
