import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HubOptions, type RunningHub, startHub } from '../../../infra/local/hub';
import { findPersonalData, recordFindings, scanFolder } from '../../support/pii-scan';
import { sharedAssembly } from './assembly';

export interface TestHub {
  hub: RunningHub;
  /** Every line the hub and its functions printed, for assertions that nothing personal was logged. */
  logs: string[];
  /** The hub's state folder (its logs, the bus's event log), removed by stop(). */
  stateDir: string;
  stop(): Promise<void>;
}

/** A whole local hub in a fresh state folder of its own; stop() ends it and removes the folder. */
export async function startTestHub(
  prefix: string,
  options: Omit<HubOptions, 'port' | 'stateDir' | 'log'> = {},
): Promise<TestHub> {
  const stateDir = mkdtempSync(join(tmpdir(), `zwfw-${prefix}-`));
  const logs: string[] = [];
  try {
    const hub = await startHub({
      ...(await sharedAssembly()),
      ...options,
      port: 0,
      stateDir,
      log: (line) => void logs.push(line),
    });
    return {
      hub,
      logs,
      stateDir,
      stop: async () => {
        try {
          await hub.stop();
          // Function logs and the bus's event log, then the hub's own lines: no personal data in clear.
          scanFolder(stateDir, `hub ${prefix}`);
          recordFindings(findPersonalData(logs.join('\n'), `hub ${prefix} output`));
        } finally {
          rmSync(stateDir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    rmSync(stateDir, { recursive: true, force: true });
    throw error;
  }
}

/** The concrete path of a route's resource, each `{param}` replaced by what `values` gives (else `x`). */
export function concretePath(resourcePath: string, values: Record<string, string> = {}): string {
  return resourcePath.replace(/\{([^}+]+)\+?\}/g, (_, name: string) =>
    encodeURIComponent(values[name] ?? 'x'),
  );
}
