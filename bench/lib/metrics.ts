/** Server-side request time by route, from the server's own Prometheus histogram (two scrapes, diffed). */
export type RouteTimes = Map<string, { count: number; sumSeconds: number }>;

const LINE = /^wsl_http_request_duration_seconds_(sum|count)\{([^}]*)\} ([0-9.eE+-]+)$/;

export async function scrapeRouteTimes(baseUrl: string): Promise<RouteTimes> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const out: RouteTimes = new Map();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const key = `${labels.method} ${labels.route} ${labels.status}`;
    const entry = out.get(key) ?? { count: 0, sumSeconds: 0 };
    if (m[1] === 'sum') entry.sumSeconds += Number(m[3]);
    else entry.count += Number(m[3]);
    out.set(key, entry);
  }
  return out;
}

export function diffRouteTimes(before: RouteTimes, after: RouteTimes): Array<{ route: string; count: number; meanMs: number }> {
  const rows = [];
  for (const [route, a] of after) {
    const b = before.get(route) ?? { count: 0, sumSeconds: 0 };
    const count = a.count - b.count;
    if (count > 0) rows.push({ route, count, meanMs: ((a.sumSeconds - b.sumSeconds) / count) * 1000 });
  }
  return rows.sort((x, y) => y.count - x.count);
}
