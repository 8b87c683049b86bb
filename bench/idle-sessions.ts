/**
 * Memory per waiting session: opens many idle widget sockets (each with its pending session)
 * against the real server running as its own process, and reads the server's resident
 * memory (VmRSS) and Redis memory before and after. Prints figures, asserts nothing.
 *
 *   npx tsx bench/idle-sessions.ts [--sessions 10000] [--open-concurrency 200]
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { BenchBrowser, FrameError } from './lib/browser';
import { describeMachine, fmtMachine } from './lib/machine';
import { rssKb } from './lib/proc';
import { ORIGIN, redisKeyBytes, redisUsedMemory, startStack } from './lib/stack';
import { Tally } from './lib/stats';

export interface IdleOptions {
  sessions: number;
  openConcurrency: number;
}

export interface IdleResult {
  options: IdleOptions;
  opened: number;
  openSeconds: number;
  rssBeforeKb: number;
  rssAfterKb: number;
  /** After a full GC in the server, before and after. */
  kbPerSession: number;
  /** Without the GC: what a ps would show a few seconds after opening. */
  rawKbPerSession: number;
  heapBytesPerSession: number;
  redisUsedBytesPerSession: number;
  redisKeyBytesPerSession: number;
  redisKeysPerSession: number;
  errors: Tally;
  fdLimit: number;
}

export const DEFAULT_IDLE_OPTIONS: IdleOptions = { sessions: 10_000, openConcurrency: 200 };

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** This process's open-files limit (soft), which the spawned server inherits. */
export function fdLimit(): number {
  const r = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  return Number.isFinite(n) ? n : Infinity;
}

/** Several samples a little apart, median: RSS moves as the allocator and GC settle. */
async function steadyRss(pid: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) {
    xs.push(rssKb(pid));
    await sleep(300);
  }
  return xs.sort((a, b) => a - b)[2]!;
}

async function heapUsed(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes ([0-9.eE+]+)$/m.exec(text)?.[1] ?? NaN);
}

async function openMany(wsUrl: string, n: number, concurrency: number, errors: Tally, into: BenchBrowser[]): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) {
      next++;
      try {
        const b = await BenchBrowser.open(wsUrl, ORIGIN);
        into.push(b);
        await b.next('session', 30_000);
      } catch (err) {
        errors.add(err instanceof FrameError ? err.code : (err as Error).message.slice(0, 60));
      }
    }
  }));
}

export async function runIdleBench(options: IdleOptions): Promise<IdleResult> {
  const limit = fdLimit();
  // Each socket is one fd here and one in the server (which inherits this limit); keep headroom.
  if (limit < options.sessions + 1000) {
    throw new Error(`open-files limit ${limit} is too low for ${options.sessions} sockets; run under \`ulimit -n ${options.sessions + 2000}\` (bench/run.ts does this itself)`);
  }
  // Sessions must outlive the measurement: the default 120 s could expire some while 10,000 open.
  const stack = await startStack({ label: 'idle', prepareSql: ['update apps set session_ttl_seconds = 600'], inspect: true });
  const wsUrl = `${stack.url.replace(/^http/, 'ws')}/v1/ws?key=${encodeURIComponent(stack.publishableKey)}`;
  const errors = new Tally();
  const sockets: BenchBrowser[] = [];
  try {
    console.error(`idle sessions: opening ${options.sessions} waiting sessions (${options.openConcurrency} at a time)…`);
    // Warm-up: load every code path a session touches, then let them go.
    const warm: BenchBrowser[] = [];
    await openMany(wsUrl, 200, 50, new Tally(), warm);
    for (const b of warm) b.close();
    await sleep(3000);

    // Read as-is first, then after a full GC: garbage from opening is not memory a session holds.
    const rawBefore = rssKb(stack.pid);
    await stack.collectGarbage();
    const rssBefore = await steadyRss(stack.pid);
    const heapBefore = await heapUsed(stack.url);
    const redisBefore = await redisUsedMemory(stack.redis);
    const keysBefore = await redisKeyBytes(stack.redis, stack.redisPrefix);

    const t0 = performance.now();
    await openMany(wsUrl, options.sessions, options.openConcurrency, errors, sockets);
    const openSeconds = (performance.now() - t0) / 1000;
    const opened = sockets.filter((s) => !s.closed).length;
    await sleep(3000);

    const rawAfter = rssKb(stack.pid);
    await stack.collectGarbage();
    const rssAfter = await steadyRss(stack.pid);
    const heapAfter = await heapUsed(stack.url);
    const redisAfter = await redisUsedMemory(stack.redis);
    const keysAfter = await redisKeyBytes(stack.redis, stack.redisPrefix);
    const stillOpen = sockets.filter((s) => !s.closed).length;
    if (stillOpen < opened) errors.add('closed_while_idle', opened - stillOpen);

    return {
      options,
      opened,
      openSeconds,
      rssBeforeKb: rssBefore,
      rssAfterKb: rssAfter,
      kbPerSession: (rssAfter - rssBefore) / opened,
      rawKbPerSession: (rawAfter - rawBefore) / opened,
      heapBytesPerSession: (heapAfter - heapBefore) / opened,
      redisUsedBytesPerSession: (redisAfter - redisBefore) / opened,
      redisKeyBytesPerSession: (keysAfter.bytes - keysBefore.bytes) / opened,
      redisKeysPerSession: (keysAfter.keys - keysBefore.keys) / opened,
      errors,
      fdLimit: limit,
    };
  } finally {
    for (const s of sockets) s.close();
    await stack.dispose();
  }
}

export function printIdleResult(r: IdleResult): void {
  console.log(`\n== idle sessions: ${r.opened} of ${r.options.sessions} waiting sessions opened in ${r.openSeconds.toFixed(1)} s (${(r.opened / r.openSeconds).toFixed(0)}/s), open-files limit ${r.fdLimit}`);
  console.log(`  server RSS            ${(r.rssBeforeKb / 1024).toFixed(1)} MB → ${(r.rssAfterKb / 1024).toFixed(1)} MB  =  ${r.kbPerSession.toFixed(2)} KB per waiting session (after a full GC each side)`);
  console.log(`  server RSS, no GC     ${r.rawKbPerSession.toFixed(2)} KB per waiting session (as ps shows it 3 s after opening)`);
  console.log(`  server JS heap used   ${(r.heapBytesPerSession / 1024).toFixed(2)} KB per session (after a full GC)`);
  console.log(`  Redis used_memory     ${(r.redisUsedBytesPerSession / 1024).toFixed(2)} KB per session (whole Redis; others share it)`);
  console.log(`  Redis keys (ours)     ${(r.redisKeyBytesPerSession / 1024).toFixed(2)} KB per session by MEMORY USAGE, ${r.redisKeysPerSession.toFixed(2)} keys per session`);
  console.log(`  errors                ${r.errors.toString()}`);
}

export function idleOptionsFromArgs(args: string[]): IdleOptions {
  const { values } = parseArgs({ args, options: { sessions: { type: 'string' }, 'open-concurrency': { type: 'string' } }, strict: false });
  const num = (v: unknown, d: number) => (typeof v === 'string' && Number(v) > 0 ? Math.floor(Number(v)) : d);
  return { sessions: num(values.sessions, DEFAULT_IDLE_OPTIONS.sessions), openConcurrency: num(values['open-concurrency'], DEFAULT_IDLE_OPTIONS.openConcurrency) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`machine: ${fmtMachine(describeMachine())}`);
  printIdleResult(await runIdleBench(idleOptionsFromArgs(process.argv.slice(2))));
}
