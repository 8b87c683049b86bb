import { readdirSync, readFileSync } from 'node:fs';

/** Resident memory of a process in KB, from /proc/<pid>/status (VmRSS). */
export function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

const TICKS_PER_SECOND = 100;

function cpuTicksOf(pid: string): { comm: string; ticks: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // After "pid (comm) ": state is fields[0], utime fields[11], stime fields[12].
    return { comm, ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

type Groups = Record<string, number>;

/** Named groups of pids of their own (e.g. `wechat simulator`), each its own column. */
type ExtraGroups = Record<string, number[]>;

function sampleGroups(serverPids: number[], workerPids: number[] = [], extra: ExtraGroups = {}): { groups: Groups; perPid: Map<string, { group: string; ticks: number }> } {
  const perPid = new Map<string, { group: string; ticks: number }>();
  const groups: Groups = {};
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const s = cpuTicksOf(pid);
    if (!s) continue;
    const named = Object.entries(extra).find(([, pids]) => pids.includes(Number(pid)))?.[0];
    const group =
      named !== undefined ? named :
      serverPids.includes(Number(pid)) ? 'server' :
      workerPids.includes(Number(pid)) ? 'workers' :
      Number(pid) === process.pid ? 'bench client' :
      s.comm.startsWith('postgres') ? 'postgres' :
      s.comm.startsWith('redis') ? 'redis' : 'other';
    perPid.set(pid, { group, ticks: s.ticks });
  }
  for (const v of perPid.values()) groups[v.group] = (groups[v.group] ?? 0) + v.ticks;
  return { groups, perPid };
}

/**
 * Where the machine's CPU went between start() and stop(), in cores (1.0 = one core busy
 * for the whole window), split into the server process(es, all instances together), the
 * benchmark client, Postgres, Redis and everything else (other people's tests share these cores).
 * `extra` names further groups of pids shown as columns of their own (e.g. `wechat simulator`).
 */
export function cpuMeter(serverPid: number | number[], workerPids: number[] = [], extra: ExtraGroups = {}) {
  const serverPids = Array.isArray(serverPid) ? serverPid : [serverPid];
  let t0 = 0;
  let before = sampleGroups(serverPids, workerPids, extra);
  return {
    start() {
      t0 = performance.now();
      before = sampleGroups(serverPids, workerPids, extra);
    },
    stop(): Record<string, number> {
      const seconds = (performance.now() - t0) / 1000;
      const after = sampleGroups(serverPids, workerPids, extra);
      const used: Groups = {};
      // Per pid, so processes that started during the window count from zero and exited ones drop out.
      for (const [pid, a] of after.perPid) {
        const b = before.perPid.get(pid)?.ticks ?? 0;
        used[a.group] = (used[a.group] ?? 0) + Math.max(0, a.ticks - b);
      }
      const cores: Record<string, number> = {};
      for (const [g, ticks] of Object.entries(used)) cores[g] = ticks / TICKS_PER_SECOND / seconds;
      return cores;
    },
  };
}

/** `serverProcesses` > 1 labels the summed server group `server (N processes)`. Named extra groups come after the workers. */
export function fmtCores(cores: Record<string, number>, serverProcesses = 1): string {
  const fixed = ['server', 'workers', 'postgres', 'redis', 'bench client', 'other'];
  const order = [...fixed.slice(0, 2), ...Object.keys(cores).filter((g) => !fixed.includes(g)), ...fixed.slice(2)];
  const label = (g: string) => (g === 'server' && serverProcesses > 1 ? `server (${serverProcesses} processes)` : g);
  return order.filter((g) => g in cores).map((g) => `${label(g)} ${cores[g]!.toFixed(2)}`).join(', ');
}
