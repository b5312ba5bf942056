import { arch, availableParallelism, cpus, platform, release, totalmem } from 'node:os';

export interface Machine {
  cores: number;
  cpuModel: string;
  node: string;
  platform: string;
  memoryGiB: number;
}

/** What the figures were measured on; ratios travel between machines, raw rates do not. */
export function describeMachine(): Machine {
  const processors = cpus();
  return {
    cores: availableParallelism?.() ?? processors.length,
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${platform()} ${release()} ${arch()}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  };
}
