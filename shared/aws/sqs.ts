import { SQSClient } from '@aws-sdk/client-sqs';
import { requestHandler, traced } from './client-options';

export const createSqsClient = (): SQSClient => traced(new SQSClient({ requestHandler }));

let clients: { sqs: SQSClient } | undefined;
/**
 * The process's SQS client, built on first call and reused across invocations. A function, not a module-level
 * client: a module that merely imports this one (for a contract, say) neither builds nor bundles SQS.
 */
export const sqsClients = (): { sqs: SQSClient } => {
  clients ??= { sqs: createSqsClient() };
  return clients;
};
