import type { Redis } from 'ioredis';
import type { Sql } from 'postgres';

/** Server-side request time by route, from the server's own Prometheus histogram (two scrapes, diffed). */
export type RouteTimes = Map<string, { count: number; sumSeconds: number }>;

const LINE = /^wsl_http_request_duration_seconds_(sum|count)\{([^}]*)\} ([0-9.eE+-]+)$/;

export interface Scrape {
  routes: RouteTimes;
  /** Event-loop delay since the previous scrape (prom-client resets its histogram on collect), ms. */
  loopLag: { p50: number; p99: number; max: number };
}

export async function scrapeServer(baseUrl: string): Promise<Scrape> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^${name} ([0-9.eE+-]+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return {
    routes: parseRouteTimes(text),
    loopLag: { p50: gauge('nodejs_eventloop_lag_p50_seconds'), p99: gauge('nodejs_eventloop_lag_p99_seconds'), max: gauge('nodejs_eventloop_lag_max_seconds') },
  };
}

export interface MergedScrape {
  /** Route times summed over every instance (counts and sums add up, so diffs stay exact). */
  routes: RouteTimes;
  /** The worst instance for each figure (p50, p99 and max may come from different instances), ms. */
  loopLag: Scrape['loopLag'];
  /** Each instance's event-loop delay, in the order of `baseUrls`. */
  loopLagPerInstance: Array<Scrape['loopLag']>;
}

/** Scrapes every instance at once and merges: routes summed, event-loop delay the worst instance's (and each). */
export async function scrapeServers(baseUrls: string[]): Promise<MergedScrape> {
  const scrapes = await Promise.all(baseUrls.map((u) => scrapeServer(u)));
  const routes: RouteTimes = new Map();
  for (const s of scrapes) {
    for (const [k, v] of s.routes) {
      const e = routes.get(k) ?? { count: 0, sumSeconds: 0 };
      routes.set(k, { count: e.count + v.count, sumSeconds: e.sumSeconds + v.sumSeconds });
    }
  }
  const worst = (f: keyof Scrape['loopLag']) => Math.max(...scrapes.map((s) => s.loopLag[f]));
  return { routes, loopLag: { p50: worst('p50'), p99: worst('p99'), max: worst('max') }, loopLagPerInstance: scrapes.map((s) => s.loopLag) };
}

function parseRouteTimes(text: string): RouteTimes {
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

/** Activity of one Postgres database (ours alone, so exact): transactions, including autocommitted statements, and rows written. */
export async function pgActivity(sql: Sql, database: string) {
  const [row] = await sql`select xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted from pg_stat_database where datname = ${database}`;
  return { commits: Number(row?.xact_commit ?? 0), rollbacks: Number(row?.xact_rollback ?? 0), written: Number(row?.tup_inserted ?? 0) + Number(row?.tup_updated ?? 0) + Number(row?.tup_deleted ?? 0) };
}

/** Calls per Redis command, all clients together (other people's tests share this Redis: an upper bound). */
export async function redisCommands(redis: Redis): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

export function diffCounts(before: Map<string, number>, after: Map<string, number>): Array<[string, number]> {
  return [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as [string, number]).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
}
