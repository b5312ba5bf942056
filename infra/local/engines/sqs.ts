import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSqsServer } from 'local-aws-sqs';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../model';
import type { RunningEngine } from './dynamodb';

export interface SqsOptions {
  /** 0 picks a free port. */
  port: number;
}

/**
 * local-aws-sqs on 127.0.0.1, in this process. Queue URLs are http://127.0.0.1:<port>/<account>/<name> and
 * ARNs use the local account and region, as template.ts expects. Messages live in memory only; the hub carries
 * them over a clean restart with queue-snapshot.ts. Its behaviour the poller relies on is pinned in test/integration/local/sqs.test.ts.
 */
export async function startSqs(options: SqsOptions): Promise<RunningEngine> {
  const server: Server = await createSqsServer({
    port: options.port,
    hostname: '127.0.0.1',
    accountId: LOCAL_ACCOUNT,
    region: LOCAL_REGION,
    // A restarted hub recreates its queues at once; AWS's 60 s wait after a delete would only slow tests.
    emulateQueueCreationLifecycle: false,
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Long polls and keep-alive sockets would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
