/** Latency samples in milliseconds, summarised the same way everywhere in the benches. */
export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
  };
}

export function fmtMs(v: number): string {
  return Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'n/a';
}

export function fmtSummary(s: Summary): string {
  return `p50 ${fmtMs(s.p50)}   p99 ${fmtMs(s.p99)}   max ${fmtMs(s.max)}   (n=${s.n})`;
}

/** Counts of named things, e.g. errors by code. */
export class Tally {
  private readonly counts = new Map<string, number>();
  add(key: string, by = 1) {
    this.counts.set(key, (this.counts.get(key) ?? 0) + by);
  }
  get total(): number {
    let t = 0;
    for (const v of this.counts.values()) t += v;
    return t;
  }
  entries(): Array<[string, number]> {
    return [...this.counts.entries()].sort((a, b) => b[1] - a[1]);
  }
  toString(): string {
    return this.total === 0 ? 'none' : this.entries().map(([k, v]) => `${k}=${v}`).join(', ');
  }
}
