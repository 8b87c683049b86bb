import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';

export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  loadavg: string;
}

/** The machine a figure was measured on; figures mean little without it. */
export function describeMachine(): Machine {
  let cpuModel = 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux: the model stays unknown
  }
  return {
    nproc: availableParallelism(),
    cpuModel,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    loadavg: loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}

export function fmtMachine(m: Machine): string {
  return `${m.nproc} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB RAM, Node ${m.node}, load average ${m.loadavg}`;
}
