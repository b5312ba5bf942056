import { SQSClient } from '@aws-sdk/client-sqs';
import type { RunningEngine } from '../../infra/local/engines/dynamodb';
import { startSqs } from '../../infra/local/engines/sqs';
import { localAwsConfig } from './aws';

export interface LocalSqs {
  engine: RunningEngine;
  sqs: SQSClient;
}

/** local-aws-sqs on a free port, with an SDK client for it. */
export async function startLocalSqs(): Promise<LocalSqs> {
  const engine = await startSqs({ port: 0 });
  return { engine, sqs: new SQSClient(localAwsConfig(engine.endpoint)) };
}

/** Closes what startLocalSqs() opened; either part may be missing when beforeAll failed early. */
export async function stopLocalSqs({ engine, sqs }: Partial<LocalSqs>): Promise<void> {
  sqs?.destroy();
  await engine?.stop();
}
