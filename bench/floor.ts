/**
 * The machine's floor: how many logins/s this machine allows at all, with the bench client on
 * it, whatever the server does. Same client side as bench/login.ts (BenchBrowser sockets and
 * keep-alive "phones", a closed loop of N pairs), against bench/floor-server.ts, a minimal
 * server started as its own OS process. Prints figures, asserts nothing.
 *
 *   npx tsx bench/floor.ts [--level bare|stores|stores2] [--duration 15] [--warmup 3]
 *                          [--concurrency 100] [--users 1000] [--confirm-sql cte|tx]
 *
 *   bare     node:http + ws, sessions in a Map, a fixed dummy token: the network work alone.
 *   stores   plus six Redis round trips (ioredis) and one Postgres round trip per login, in a
 *            scratch database, and a real ES256 signature: the least store work a login that
 *            any instance can serve needs.
 *   stores2  `stores` on two server processes; like login.ts --instances, each socket and each
 *            phone request picks a process at random, so about half the events cross over
 *            Redis pub/sub.
 *
 * --confirm-sql picks how `stores` writes the login: `cte` (default) one statement with
 * data-modifying CTEs; `tx` BEGIN + three statements + COMMIT.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { BenchBrowser, FrameError } from './lib/browser';
import { createHttpClient, errorCodeOf } from './lib/http';
import { describeMachine, fmtMachine } from './lib/machine';
import { cpuMeter } from './lib/proc';
import { deleteRedisKeys, freePort } from './lib/stack';
import { fmtSummary, summarize, Tally, type Summary } from './lib/stats';

const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ORIGIN = 'https://shop.example.com';
const ROOT = resolve(import.meta.dirname, '..');

type Level = 'bare' | 'stores' | 'stores2';

interface FloorOptions {
  level: Level;
  duration: number;
  warmup: number;
  concurrency: number;
  users: number;
  confirmSql: 'cte' | 'tx';
}

const SCHEMA = [
  `create table users (
     id bigint generated always as identity primary key,
     app_id text not null,
     openid text not null,
     login_count integer not null,
     created_at timestamptz not null default now(),
     last_login_at timestamptz not null default now(),
     unique (app_id, openid))`,
  `create table login_events (
     id bigint generated always as identity primary key,
     app_id text not null,
     user_id bigint not null,
     session_id text not null,
     created_at timestamptz not null default now())`,
  `create table outbox (
     id bigint generated always as identity primary key,
     app_id text not null,
     type text not null,
     payload jsonb not null,
     created_at timestamptz not null default now())`,
];

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

async function stopProcess(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((ok) => c.once('exit', () => ok()));
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

/**
 * The whole machine's CPU from /proc/stat, in ticks. The per-process split (bench/lib/proc.ts)
 * misses two things this catches: interrupt and softirq time, which the kernel charges to no
 * process (loopback TCP's receive path runs there), and processes that started and exited
 * within the window (someone else's short test runs).
 */
function machineTicks(): { busy: number; irq: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return { busy: user + nice + system + irq + softirq + steal, irq: irq + softirq };
}

/** Ticks per live process not in `known`, with its name: to say who else was busy during a run. */
function otherProcessTicks(known: Set<number>): Map<number, { comm: string; ticks: number }> {
  const out = new Map<number, { comm: string; ticks: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || known.has(Number(d))) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      if (comm.startsWith('postgres') || comm.startsWith('redis')) continue;
      const fields = stat.slice(close + 2).split(' ');
      out.set(Number(d), { comm, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // exited between readdir and read
    }
  }
  return out;
}

/** Starts one floor server and resolves when it prints `ready`; adds it to `into` at once, so cleanup stops it even if a sibling fails to start. */
function startServer(args: string[], tag: string, into: ChildProcess[]): Promise<void> {
  return new Promise((ok, fail) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'bench/floor-server.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    into.push(proc);
    let lines = 0;
    let ready = false;
    const echo = (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        if (!line.trim()) continue;
        if (!ready && line.trim() === 'ready') {
          ready = true;
          ok();
          continue;
        }
        if (++lines <= 10) console.error(`  [${tag}] ${line.slice(0, 300)}`);
      }
    };
    proc.stdout!.on('data', echo);
    proc.stderr!.on('data', echo);
    proc.once('exit', (code) => {
      if (!ready) fail(new Error(`${tag} exited with ${code} before it was ready`));
    });
    setTimeout(() => {
      if (!ready) fail(new Error(`${tag} was not ready within 30 s`));
    }, 30_000).unref();
  });
}

interface FloorResult {
  options: FloorOptions;
  completed: number;
  windowSeconds: number;
  loginsPerSecond: number;
  cores: Record<string, number>;
  whole: Summary;
  scanToScanned: Summary;
  confirmToSuccess: Summary;
  errors: Tally;
  warmupErrors: Tally;
  /** From the floor servers' own counters (all processes), per login completed on the server. */
  perLogin: { redisRoundTrips: number; pgRoundTrips: number; pgCommits: number };
  servers: number;
  /** The whole machine over the window, cores: busy in all, and the interrupt/softirq part of it. */
  machine: { busy: number; irq: number };
  /** The busiest processes in "other" over the window, cores. */
  otherTop: Array<[string, number]>;
}

type Counters = { redisRoundTrips: number; pgRoundTrips: number; logins: number };

async function runFloor(options: FloorOptions): Promise<FloorResult> {
  const tag = randomBytes(4).toString('hex');
  const database = `wslbench_floor_${tag}`;
  const redisPrefix = `wslbench-floor-${tag}`;
  const withStores = options.level !== 'bare';
  const nServers = options.level === 'stores2' ? 2 : 1;
  const key = `pk_test_floor${randomBytes(12).toString('hex')}`;
  const admin = withStores ? postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} }) : undefined;
  const redis = withStores ? new Redis(REDIS_URL, { lazyConnect: false }) : undefined;
  const servers: ChildProcess[] = [];
  let dbCreated = false;

  const cleanup = async () => {
    await Promise.all(servers.map((s) => stopProcess(s)));
    if (admin) {
      if (dbCreated) await admin.unsafe(`drop database if exists ${database} with (force)`).catch((err) => console.error(`could not drop ${database}: ${err}`));
      await admin.end();
    }
    if (redis) {
      await deleteRedisKeys(redis, redisPrefix).catch((err) => console.error(`could not delete Redis keys ${redisPrefix}:*: ${err}`));
      redis.disconnect();
    }
  };
  const onSignal = (sig: NodeJS.Signals) => {
    console.error(`\n${sig}: stopping the floor server(s) and cleaning up…`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const databaseUrl = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${database}`);
    if (admin) {
      await admin.unsafe(`create database ${database}`);
      dbCreated = true;
      const db = postgres(databaseUrl, { max: 1, onnotice: () => {} });
      try {
        for (const s of SCHEMA) await db.unsafe(s);
      } finally {
        await db.end();
      }
    }
    const ports: number[] = [];
    while (ports.length < nServers) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    await Promise.all(
      ports.map((port, i) =>
        startServer(
          [
            '--level', withStores ? 'stores' : 'bare', '--port', String(port), '--key', key, '--origin', ORIGIN, '--instance', `i${i + 1}`,
            ...(withStores ? ['--redis-url', REDIS_URL, '--redis-prefix', redisPrefix, '--database-url', databaseUrl, '--confirm-sql', options.confirmSql] : []),
          ],
          nServers > 1 ? `floor server ${i + 1}` : 'floor server',
          servers,
        ),
      ),
    );
    const pids = servers.map((s) => s.pid!);
    const urls = ports.map((p) => `http://127.0.0.1:${p}`);
    return await drive(options, urls, key, pids, admin, database);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup();
  }
}

async function drive(options: FloorOptions, urls: string[], key: string, pids: number[], admin: postgres.Sql | undefined, database: string): Promise<FloorResult> {
  const clients = urls.map((u) => createHttpClient(u, options.concurrency * 2));
  const wsUrls = urls.map((u) => `${u.replace(/^http/, 'ws')}/v1/ws?key=${encodeURIComponent(key)}`);
  const pick = () => (clients.length === 1 ? 0 : Math.floor(Math.random() * clients.length));
  const samples = { whole: [] as number[], scan: [] as number[], confirm: [] as number[] };
  const errors = new Tally();
  const warmupErrors = new Tally();
  let completed = 0;
  let measuring = false;
  let stopping = false;
  let seq = 0;
  const open = new Set<BenchBrowser>();

  // The same steps and checks as bench/login.ts loginOnce (without the QR fetch, off there by default).
  async function loginOnce(): Promise<void> {
    const t0 = performance.now();
    const browser = await BenchBrowser.open(wsUrls[pick()]!, ORIGIN);
    open.add(browser);
    try {
      const { frame: s } = await browser.next('session');
      const scene = String(s.session);
      const openid = `o_bench_user_${(seq++ % options.users).toString().padStart(6, '0')}`;
      const code = await clients[pick()]!.postJson('/sandbox/phone/code', { scene, openid });
      if (code.status !== 200) throw new FrameError(`phone_code_${errorCodeOf(code)}`, 'no sandbox code');
      const tScan = performance.now();
      const scan = await clients[pick()]!.postJson('/v1/mp/scan', { scene, code: code.json.code });
      if (scan.status !== 200) throw new FrameError(`scan_${errorCodeOf(scan)}`, 'scan refused');
      const scanned = await browser.next('scanned');
      const tConfirm = performance.now();
      const confirm = await clients[pick()]!.postJson('/v1/mp/confirm', { scene, ticket: scan.json.ticket });
      if (confirm.status !== 200) throw new FrameError(`confirm_${errorCodeOf(confirm)}`, 'confirm refused');
      const success = await browser.next('success');
      if (typeof success.frame.token !== 'string') throw new FrameError('success_without_token', 'no token');
      if (measuring) {
        completed++;
        samples.whole.push(success.at - t0);
        samples.scan.push(scanned.at - tScan);
        samples.confirm.push(success.at - tConfirm);
      }
    } finally {
      browser.close();
      open.delete(browser);
    }
  }

  async function worker(): Promise<void> {
    while (!stopping) {
      try {
        await loginOnce();
      } catch (err) {
        if (stopping) return;
        (measuring ? errors : warmupErrors).add(err instanceof FrameError ? err.code : (err as NodeJS.ErrnoException).code ?? (err as Error).message.slice(0, 60));
        await sleep(50);
      }
    }
  }

  const readCounters = async (): Promise<Counters> => {
    const all = await Promise.all(clients.map(async (c) => JSON.parse((await c.get('/floor/stats')).body.toString()) as Counters));
    return all.reduce((a, b) => ({ redisRoundTrips: a.redisRoundTrips + b.redisRoundTrips, pgRoundTrips: a.pgRoundTrips + b.pgRoundTrips, logins: a.logins + b.logins }));
  };
  const pgCommits = async (): Promise<number> => {
    if (!admin) return 0;
    // Postgres publishes backend statistics with a delay of up to a second; over 15 s that is a few percent.
    const [r] = await admin<Array<{ c: string }>>`select xact_commit::text as c from pg_stat_database where datname = ${database}`;
    return Number(r?.c ?? 0);
  };

  const cpu = cpuMeter(pids);
  const known = new Set([...pids, process.pid]);
  let machine = { busy: NaN, irq: NaN };
  let otherTop: Array<[string, number]> = [];
  let windowSeconds = 0;
  let cores: Record<string, number> = {};
  const perLogin = { redisRoundTrips: NaN, pgRoundTrips: NaN, pgCommits: NaN };
  const workers = Array.from({ length: options.concurrency }, () => worker());
  try {
    console.error(`floor: level ${options.level}, ${options.concurrency} browser/phone pairs (closed loop), ${options.warmup} s warm-up, ${options.duration} s measured${options.level !== 'bare' ? `, confirm SQL ${options.confirmSql}` : ''}`);
    await sleep(options.warmup * 1000);
    const before = await readCounters();
    const commitsBefore = await pgCommits();
    const others0 = otherProcessTicks(known);
    const m0 = machineTicks();
    cpu.start();
    const w0 = performance.now();
    measuring = true;
    await sleep(options.duration * 1000);
    measuring = false;
    windowSeconds = (performance.now() - w0) / 1000;
    cores = cpu.stop();
    const m1 = machineTicks();
    const others1 = otherProcessTicks(known);
    const toCores = (ticks: number) => ticks / 100 / windowSeconds;
    machine = { busy: toCores(m1.busy - m0.busy), irq: toCores(m1.irq - m0.irq) };
    otherTop = [...others1]
      .map(([pid, a]): [string, number] => [`${a.comm}[${pid}]`, toCores(a.ticks - (others0.get(pid)?.ticks ?? 0))])
      .filter(([, c]) => c >= 0.01)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4);
    const after = await readCounters();
    const commitsAfter = await pgCommits();
    // Server-side logins, so that logins finished on the server but not yet seen by the client don't skew the ratio.
    const served = after.logins - before.logins;
    perLogin.redisRoundTrips = (after.redisRoundTrips - before.redisRoundTrips) / served;
    perLogin.pgRoundTrips = (after.pgRoundTrips - before.pgRoundTrips) / served;
    perLogin.pgCommits = (commitsAfter - commitsBefore) / served;
    stopping = true;
    await Promise.race([Promise.allSettled(workers), sleep(20_000)]);
    for (const b of open) b.close();
  } finally {
    stopping = true;
    for (const c of clients) c.close();
  }

  return {
    options,
    completed,
    windowSeconds,
    loginsPerSecond: completed / windowSeconds,
    cores,
    whole: summarize(samples.whole),
    scanToScanned: summarize(samples.scan),
    confirmToSuccess: summarize(samples.confirm),
    errors,
    warmupErrors,
    perLogin,
    servers: pids.length,
    machine,
    otherTop,
  };
}

function printFloorResult(r: FloorResult): void {
  const o = r.options;
  const serverLabel = r.servers > 1 ? `floor server (${r.servers} processes)` : 'floor server';
  console.log(`\n== floor: level ${o.level}, closed loop, ${o.concurrency} concurrent browser+phone pairs, ${r.windowSeconds.toFixed(1)} s measured after ${o.warmup} s warm-up, ${o.users} distinct users${o.level !== 'bare' ? `, confirm SQL ${o.confirmSql}` : ''}`);
  console.log(`  completed logins      ${r.completed}  →  ${r.loginsPerSecond.toFixed(0)} logins/s`);
  console.log(`  whole login           ${fmtSummary(r.whole)}`);
  console.log(`  scan → scanned        ${fmtSummary(r.scanToScanned)}`);
  console.log(`  confirm → success     ${fmtSummary(r.confirmToSuccess)}`);
  console.log(`  errors                ${r.errors.toString()}`);
  if (r.warmupErrors.total) console.log(`  errors in warm-up     ${r.warmupErrors.toString()}`);
  const groups: Array<[string, string]> = [['server', serverLabel], ['postgres', 'postgres'], ['redis', 'redis'], ['bench client', 'bench client'], ['other', 'other']];
  const total = Object.values(r.cores).reduce((a, b) => a + b, 0);
  console.log(`  CPU (cores busy)      ${groups.map(([g, label]) => `${label} ${(r.cores[g] ?? 0).toFixed(2)}`).join(', ')}; total ${total.toFixed(2)}`);
  const perLoginMs = (cores: number) => (r.completed ? (cores * r.windowSeconds * 1000) / r.completed : NaN);
  console.log(`  CPU per login         ${groups.map(([g, label]) => `${label} ${perLoginMs(r.cores[g] ?? 0).toFixed(2)} ms`).join(', ')}; total ${perLoginMs(total).toFixed(2)} ms`);
  console.log(`  whole machine         ${r.machine.busy.toFixed(2)} of ${describeMachine().nproc} cores busy (/proc/stat), of which interrupts/softirq ${r.machine.irq.toFixed(2)} (charged to the processes above); in none of them (processes that exited within the window) ${(r.machine.busy - total).toFixed(2)}`);
  if (r.otherTop.length) console.log(`  busiest "other"       ${r.otherTop.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
  if (o.level !== 'bare') console.log(`  per login (server)    ${r.perLogin.redisRoundTrips.toFixed(2)} Redis round trips, ${r.perLogin.pgRoundTrips.toFixed(2)} Postgres round trips, ${r.perLogin.pgCommits.toFixed(2)} Postgres commits (pg_stat_database)`);
}

function optionsFromArgs(argv: string[]): FloorOptions {
  const { values } = parseArgs({
    args: argv,
    options: { level: { type: 'string' }, duration: { type: 'string' }, warmup: { type: 'string' }, concurrency: { type: 'string' }, users: { type: 'string' }, 'confirm-sql': { type: 'string' } },
    strict: true,
  });
  const num = (v: string | undefined, d: number) => (v !== undefined && Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : d);
  const level = values.level ?? 'bare';
  if (level !== 'bare' && level !== 'stores' && level !== 'stores2') throw new Error(`--level must be bare, stores or stores2, not ${level}`);
  const confirmSql = values['confirm-sql'] ?? 'cte';
  if (confirmSql !== 'cte' && confirmSql !== 'tx') throw new Error(`--confirm-sql must be cte or tx, not ${confirmSql}`);
  return {
    level,
    duration: num(values.duration, 15),
    warmup: num(values.warmup, 3),
    concurrency: Math.floor(num(values.concurrency, 100)),
    users: Math.floor(num(values.users, 1000)),
    confirmSql,
  };
}

const options = optionsFromArgs(process.argv.slice(2));
console.log(`machine: ${fmtMachine(describeMachine())}`);
printFloorResult(await runFloor(options));
