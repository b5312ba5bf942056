/**
 * Files through which tests and tools find the running hub: outputs.json has the shape of
 * `cdk deploy --outputs-file` ({ [stack]: { [outputKey]: value } }), so the same suite reads resource names
 * from a local hub, LocalStack or AWS; endpoints.json lists the local engines.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type HubModel, LOCAL_ACCOUNT, LOCAL_REGION, type LocalEndpoints } from './model';

export type StackOutputs = Record<string, Record<string, string>>;

export interface HubEndpoints extends LocalEndpoints {
  /** Base URL of the gateway: every route and GET /health. */
  gateway: string;
  /** Base URL of the public cloud's API alone. */
  publicGateway?: string;
  region: string;
  account: string;
}

export const OUTPUTS_FILE = 'outputs.json';
export const ENDPOINTS_FILE = 'endpoints.json';

export function writeHubFiles(
  stateDir: string,
  model: HubModel,
  endpoints: LocalEndpoints,
  gatewayPort: number,
  publicGatewayPort?: number,
): HubEndpoints {
  const hubEndpoints: HubEndpoints = {
    gateway: `http://127.0.0.1:${gatewayPort}`,
    ...(publicGatewayPort === undefined ? {} : { publicGateway: `http://127.0.0.1:${publicGatewayPort}` }),
    ...endpoints,
    region: LOCAL_REGION,
    account: LOCAL_ACCOUNT,
  };
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, OUTPUTS_FILE), `${JSON.stringify(model.outputs, null, 2)}\n`);
  writeFileSync(join(stateDir, ENDPOINTS_FILE), `${JSON.stringify(hubEndpoints, null, 2)}\n`);
  return hubEndpoints;
}

export function readOutputs(stateDir: string): StackOutputs {
  return JSON.parse(readFileSync(join(stateDir, OUTPUTS_FILE), 'utf8')) as StackOutputs;
}

export function readEndpoints(stateDir: string): HubEndpoints {
  return JSON.parse(readFileSync(join(stateDir, ENDPOINTS_FILE), 'utf8')) as HubEndpoints;
}
