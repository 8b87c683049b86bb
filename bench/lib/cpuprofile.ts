import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Which package or source folder a script URL belongs to. */
function ownerOf(url: string): string {
  if (!url) return '(native: socket writes, crypto, program)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const m = /\/(server\/(?:features\/[^/]+|lib|db)?)/.exec(url);
  return m ? m[1]! : url;
}

/**
 * Self time of a V8 .cpuprofile, grouped by package/folder and by function: where the
 * server's one thread spends its time. Idle time is left out of the percentages.
 */
export function summarizeCpuProfile(file: string, top = 15): { byOwner: Array<[string, number]>; byFunction: Array<[string, number]>; busyMs: number } {
  return summarizeCpuProfiles([file], top);
}

/**
 * The same over several profiles together (one per server instance): self times are added
 * up before the percentages, so each instance weighs by how busy it was.
 */
export function summarizeCpuProfiles(files: string[], top = 15): { byOwner: Array<[string, number]>; byFunction: Array<[string, number]>; busyMs: number } {
  const owners = new Map<string, number>();
  const fns = new Map<string, number>();
  let busy = 0;
  for (const file of files) {
    const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const self = new Map<number, number>();
    for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
    for (const [id, us] of self) {
      const n = byId.get(id)!;
      const name = n.callFrame.functionName || '(anonymous)';
      if (name === '(idle)') continue;
      busy += us;
      const owner = name === '(garbage collector)' ? '(gc)' : ownerOf(n.callFrame.url);
      owners.set(owner, (owners.get(owner) ?? 0) + us);
      const fnKey = `${name} ${n.callFrame.url ? `${n.callFrame.url.replace(/^.*\/(node_modules|server)\//, '$1/')}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
      fns.set(fnKey, (fns.get(fnKey) ?? 0) + us);
    }
  }
  const pct = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => [k, (100 * v) / busy] as [string, number]);
  return { byOwner: pct(owners), byFunction: pct(fns), busyMs: busy / 1000 };
}
