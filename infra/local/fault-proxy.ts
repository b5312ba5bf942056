/**
 * Fault injection for the reliability suite: an HTTP proxy on loopback between the functions and a local
 * engine that answers a share of requests with the error the real service gives when it throttles. It sits
 * outside the function bundles on purpose — what runs under faults is byte for byte what deploys, and no
 * production code path carries a switch for it. Only the local hub starts it, and only when asked.
 *
 * Two kinds of failure: `before` (the request never reaches the engine: a clean, retryable refusal) and
 * `after` (the engine applied the request, the caller still sees the error — the ambiguous failure that
 * makes a retry a duplicate, which is what exactly-once processing must absorb).
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { seededRandom } from '../../shared/identifiers/generate';
import type { RunningEngine } from './engines/dynamodb';
import { listenOnLoopback } from './engines/ports';

export interface FaultPlan {
  /** Share (0..1) of requests answered with a throttling error. */
  throttleRate: number;
  /** Of the throttled requests, the share forwarded first (applied, yet reported failed). Default 0.5. */
  ambiguousShare?: number;
  /** Share (0..1) of requests held back `slowMs` before they are forwarded. */
  slowRate?: number;
  slowMs?: number;
  /** Makes the sequence of faults repeatable. */
  seed?: number;
  /** Outcomes of the first requests, in order, before the rates apply (tests of one precise failure). */
  script?: readonly ('pass' | 'refuse' | 'ambiguous')[];
  /** Only these operations (`X-Amz-Target` suffixes such as `TransactWriteItems`) meet faults; default all. */
  operations?: readonly string[];
}

export interface FaultCounters {
  requests: number;
  refused: number;
  ambiguous: number;
  slowed: number;
}

export interface RunningFaultProxy extends RunningEngine {
  counters(): FaultCounters;
  /** Changes the plan from the next request on ("the outage is over"); the script and counters carry on. */
  update(plan: FaultPlan): void;
}

/** DynamoDB's own throttling answer (JSON 1.0 protocol); the SDK classifies it as a throttling error and retries. */
const THROTTLED_BODY = JSON.stringify({
  __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  message: 'The level of configured provisioned throughput for the table was exceeded (injected fault).',
});

export async function startFaultProxy(target: string, initialPlan: FaultPlan): Promise<RunningFaultProxy> {
  let plan = initialPlan;
  const random = seededRandom(plan.seed ?? 1);
  const counters: FaultCounters = { requests: 0, refused: 0, ambiguous: 0, slowed: 0 };
  const upstream = new URL(target);

  const server = createServer(async (req, res) => {
    counters.requests++;
    const body = await readBody(req);
    if (!targeted(plan, req)) return forwardAsIs(upstream, req, body, res);
    const scripted = plan.script?.[counters.requests - 1];
    const throttled = scripted ? scripted !== 'pass' : random() < plan.throttleRate;
    const ambiguous = scripted
      ? scripted === 'ambiguous'
      : throttled && random() < (plan.ambiguousShare ?? 0.5);
    if (plan.slowRate && random() < plan.slowRate) {
      counters.slowed++;
      await new Promise((resolve) => setTimeout(resolve, plan.slowMs ?? 1000));
    }
    if (throttled && !ambiguous) {
      counters.refused++;
      return throttle(res);
    }
    if (!ambiguous) return forwardAsIs(upstream, req, body, res);
    try {
      await forward(upstream, req, body);
    } catch {
      // The engine's answer is discarded either way: the caller sees the throttle.
    }
    counters.ambiguous++;
    throttle(res);
  });
  const port = await listenOnLoopback(server, 0);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counters: () => ({ ...counters }),
    update: (next) => {
      plan = next;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function targeted(plan: FaultPlan, req: IncomingMessage): boolean {
  if (!plan.operations) return true;
  const operation =
    String(req.headers['x-amz-target'] ?? '')
      .split('.')
      .pop() ?? '';
  return plan.operations.includes(operation);
}

async function forwardAsIs(
  upstream: URL,
  req: IncomingMessage,
  body: Buffer,
  res: ServerResponse,
): Promise<void> {
  try {
    const answer = await forward(upstream, req, body);
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  } catch (error) {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`fault proxy: ${(error as Error).message}`);
  }
}

function throttle(res: ServerResponse): void {
  res.writeHead(400, {
    'content-type': 'application/x-amz-json-1.0',
    'x-amzn-errortype': 'ProvisionedThroughputExceededException',
    'content-length': Buffer.byteLength(THROTTLED_BODY),
  });
  res.end(THROTTLED_BODY);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function forward(
  upstream: URL,
  req: IncomingMessage,
  body: Buffer,
): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        readBody(answer)
          .then((buffer) =>
            resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: buffer }),
          )
          .catch(reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
