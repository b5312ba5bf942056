import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { requestHandler, traced } from './client-options';

export const createEventBridgeClient = (): EventBridgeClient =>
  traced(new EventBridgeClient({ requestHandler }));

let clients: { eventBridge: EventBridgeClient } | undefined;
/**
 * The process's EventBridge client, built on first call and reused across invocations. A function, not a
 * module-level client: a module that merely imports this one neither builds nor bundles EventBridge.
 */
export const eventBridgeClients = (): { eventBridge: EventBridgeClient } => {
  clients ??= { eventBridge: createEventBridgeClient() };
  return clients;
};
