import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import postgres from 'postgres';
import { z } from 'zod';

export const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ORIGIN = 'https://shop.example.com';
const BENCH_STRIPE_KEY = 'sk_test_bench_standin';
const BENCH_STRIPE_WHSEC = 'whsec_bench_standin';
const ROOT = resolve(import.meta.dirname, '..', '..');

export interface StackOptions {
  label: string;
  /** SQL run on the fresh database after the app exists and before the server starts. */
  prepareSql?: string[];
  /** Write a V8 CPU profile of each server process into this directory on exit (one file per process). */
  cpuProfDir?: string;
  /** Open the inspector on loopback (first instance only), so the bench can ask for a full GC before reading memory. */
  inspect?: boolean;
  env?: Record<string, string>;
  /**
   * How many apps (tenants' sites) to create; the first through the CLI, the rest through the
   * apps store. More than one spreads per-app hot rows, to show what they cost.
   */
  apps?: number;
  /**
   * Worker-only processes (ROLE=worker) beside the server, which then runs ROLE=api: the
   * scale-out the README describes, using both cores. 0 = one ROLE=all process.
   */
  workers?: number;
  /**
   * Full server processes (ROLE=all, or ROLE=api with `workers`), each on its own port, all
   * sharing the database, the Redis prefix, MASTER_KEY and the apps: the stateless
   * horizontal scale-out, with the bench as the load balancer. Default 1.
   */
  instances?: number;
  /**
   * Where the servers' test-mode WeChat calls go. `mounted` (default): the simulator mounted
   * in each server process (`/sandbox/wechat`), phones get codes through the server's
   * `/sandbox/phone/code`. `external`: one standalone simulator process
   * (`server/features/sandbox/simulator/standalone.ts`, state in its own memory, accepting the
   * sandbox AppIDs derived from the stack's MASTER_KEY) shared by every instance, the servers
   * pointed at it with SANDBOX_WECHAT_API_BASE, as live servers call WeChat's.
   */
  wechat?: 'mounted' | 'external';
  /**
   * Live mode: the first app gets these WeChat credentials (so live keys), the external
   * simulator knows them, and the servers call it as WECHAT_API_BASE. Needs `wechat: 'external'`.
   */
  live?: { appid: string; secret: string };
  /**
   * Billing on: a Stripe stand-in in a process of its own (as Stripe is elsewhere: its CPU is
   * neither the server's nor the load generator's), the servers pointed at it (STRIPE_*), and
   * every tenant on Pro with a Stripe customer, so each new monthly user becomes a meter event.
   */
  billing?: boolean;
}

export interface BenchApp {
  appId: string;
  /** The live key when the stack is live, else the test key. */
  publishableKey: string;
  secretKey: string;
}

export interface Stack {
  /** The first instance's base URL and pid (the only ones when `instances` is 1). */
  url: string;
  pid: number;
  /** Every server instance's base URL and pid, in the same order (first = `url`/`pid`). */
  urls: string[];
  pids: number[];
  /** Worker-only processes, when started with `workers`. */
  workerPids: number[];
  /** The standalone WeChat simulator process (`wechat: 'external'`), else undefined. */
  simulator: { url: string; pid: number } | undefined;
  /** The Stripe stand-in process (`billing`), else undefined. */
  stripe: { url: string; pid: number } | undefined;
  appId: string;
  publishableKey: string;
  secretKey: string;
  /** Every app created, the CLI's first. */
  apps: BenchApp[];
  redisPrefix: string;
  database: string;
  redis: Redis;
  /** Lines the server processes (all instances and workers) wrote to stdout/stderr (LOG_LEVEL=warn), counted; the first few are echoed. */
  serverLogLines(): number;
  /** A full, synchronous GC in the (first) server via the inspector (needs `inspect: true`). */
  collectGarbage(): Promise<void>;
  /** Stops every server process and the simulator (SIGTERM, then SIGKILL after 20 s), drops the database, deletes the Redis keys. */
  dispose(): Promise<void>;
}

const appCreated = z.object({
  appId: z.string(),
  keys: z.object({ test: z.object({ publishable: z.string(), secret: z.string() }), live: z.object({ publishable: z.string(), secret: z.string() }).optional() }),
});

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((ok) => srv.close(() => ok()));
  return port;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? ok(out) : fail(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim()}`))));
  });
}

export async function deleteRedisKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** Sum of MEMORY USAGE over this stack's keys, in bytes, and how many keys. */
export async function redisKeyBytes(redis: Redis, prefix: string): Promise<{ keys: number; bytes: number }> {
  let cursor = '0';
  let keys = 0;
  let bytes = 0;
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (batch.length) {
      const pipe = redis.pipeline();
      for (const k of batch) pipe.memory('USAGE', k, 'SAMPLES', '0');
      for (const [, v] of (await pipe.exec()) ?? []) bytes += Number(v ?? 0);
      keys += batch.length;
    }
  } while (cursor !== '0');
  return { keys, bytes };
}

export async function redisUsedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
}

async function createMoreApps(env: NodeJS.ProcessEnv, n: number): Promise<BenchApp[]> {
  const { loadConfig } = await import('../../server/config');
  const { openDatabase } = await import('../../server/db/client');
  const { createAppsStore } = await import('../../server/features/apps/store');
  const config = loadConfig(env);
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, max: 2 });
  try {
    const store = createAppsStore({ db: database.db, config });
    const out: BenchApp[] = [];
    for (let i = 0; i < n; i++) {
      const tenantId = await store.ensureDefaultTenant(`Bench tenant ${i + 2}`);
      const { app, keys } = await store.createApp({ tenantId, name: `Bench Shop ${i + 2}`, allowedOrigins: [ORIGIN] });
      out.push({ appId: app.id, publishableKey: keys.test.publishable, secretKey: keys.test.secret });
    }
    return out;
  } finally {
    await database.close();
  }
}

/** `npm run stripe-standin` on the given address, sending no events (the bench buys nothing). */
async function startStandinProcess(url: string): Promise<ChildProcess> {
  const { port } = new URL(url);
  const proc = spawn(process.execPath, ['--import', 'tsx', 'server/features/billing/stripe-standin/standalone.ts'], {
    cwd: ROOT,
    env: { ...process.env, STRIPE_SECRET_KEY: BENCH_STRIPE_KEY, STRIPE_WEBHOOK_SECRET: BENCH_STRIPE_WHSEC, STANDIN_HOST: '127.0.0.1', STANDIN_PORT: port, STANDIN_WEBHOOK_URL: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the Stripe stand-in exited with ${proc.exitCode} during start-up`);
    if (await fetch(`${url}/__standin/requests`).then((r) => r.ok, () => false)) return proc;
    if (Date.now() > deadline) throw new Error('the Stripe stand-in was not ready within 30 s');
    await new Promise((ok) => setTimeout(ok, 200));
  }
}

const isRunning = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

/** SIGTERM, then SIGKILL if it has not exited after `killAfterMs`; resolves once it has exited. */
async function stopProcess(c: ChildProcess, killAfterMs = 20_000): Promise<void> {
  if (!isRunning(c)) return;
  const exited = new Promise<void>((ok) => c.once('exit', () => ok()));
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(t);
}

const live = new Set<Stack>();
let handlersInstalled = false;
function installSignalHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      console.error(`\n${sig}: stopping the server and cleaning up…`);
      void Promise.allSettled([...live].map((s) => s.dispose())).finally(() => process.exit(130));
    });
  }
}

/**
 * The real server as its own OS process, the way an operator runs it (NODE_ENV=production,
 * a generated MASTER_KEY), on a fresh Postgres database and a Redis key prefix of its own,
 * with one app created through the CLI.
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  installSignalHandlers();
  const tag = randomBytes(4).toString('hex');
  const database = `wslbench_${opts.label}_${tag}`;
  const redisPrefix = `wslbench-${opts.label}-${tag}`;
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  const redis = new Redis(REDIS_URL, { lazyConnect: false });
  const dataDir = mkdtempSync(join(tmpdir(), 'wslbench-'));
  const instances = Math.max(1, Math.floor(opts.instances ?? 1));
  const servers: ChildProcess[] = [];
  const workers: ChildProcess[] = [];
  let simulator: ChildProcess | undefined;
  let standin: ChildProcess | undefined;
  let logLines = 0;
  let simLogLines = 0;

  const cleanup = async () => {
    await Promise.all(workers.map((w) => stopProcess(w)));
    await Promise.all(servers.map((s) => stopProcess(s)));
    if (simulator) await stopProcess(simulator);
    if (standin) await stopProcess(standin);
    await admin.unsafe(`drop database if exists ${database} with (force)`).catch((err) => console.error(`could not drop ${database}: ${err}`));
    await admin.end();
    await deleteRedisKeys(redis, redisPrefix).catch((err) => console.error(`could not delete Redis keys ${redisPrefix}*: ${err}`));
    redis.disconnect();
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    await admin.unsafe(`create database ${database}`);
    const external = opts.wechat === 'external';
    if (opts.live && !external) throw new Error('a live stack needs the external WeChat simulator');
    const ports: number[] = [];
    // Distinct ports: freePort() releases its port, so ask until there are enough different
    // ones (the instances', then the external simulator's, then the Stripe stand-in's).
    while (ports.length < instances + (external ? 1 : 0) + (opts.billing ? 1 : 0)) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    const port = ports[0]!;
    const simUrl = external ? `http://127.0.0.1:${ports[instances]}` : undefined;
    const standinUrl = opts.billing ? `http://127.0.0.1:${ports[ports.length - 1]}` : undefined;
    if (standinUrl) standin = await startStandinProcess(standinUrl);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'production',
      MASTER_KEY: randomBytes(32).toString('base64'),
      DATABASE_URL: PG_ADMIN_URL.replace(/\/[^/]*$/, `/${database}`),
      // A cluster bench names its nodes instead (the server refuses both).
      ...(opts.env?.REDIS_CLUSTER_NODES ? {} : { REDIS_URL }),
      REDIS_PREFIX: redisPrefix,
      LOG_LEVEL: 'warn',
      // Every simulated browser comes from 127.0.0.1.
      SESSION_RATE_LIMIT: '100000000',
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: dataDir,
      ...(opts.workers ? { ROLE: 'api' } : {}),
      ...(simUrl ? { SANDBOX_WECHAT_API_BASE: simUrl } : {}),
      ...(simUrl && opts.live ? { WECHAT_API_BASE: simUrl } : {}),
      ...(standinUrl ? {
        STRIPE_SECRET_KEY: BENCH_STRIPE_KEY, STRIPE_WEBHOOK_SECRET: BENCH_STRIPE_WHSEC, STRIPE_API_BASE: standinUrl,
        STRIPE_PRICE_PRO: 'price_standin_pro', STRIPE_PRICE_PRO_MAU: 'price_standin_mau',
      } : {}),
      ...opts.env,
    };
    const out = await run('npm', ['run', '--silent', 'cli', '--', 'apps:create', '--name', 'Bench Shop', '--origin', ORIGIN,
      ...(opts.live ? ['--appid', opts.live.appid, '--secret', opts.live.secret] : [])], env);
    const created = appCreated.parse(JSON.parse(out.slice(out.indexOf('{'))));
    const keys = opts.live ? created.keys.live! : created.keys.test;
    const apps: BenchApp[] = [{ appId: created.appId, publishableKey: keys.publishable, secretKey: keys.secret }];
    if ((opts.apps ?? 1) > 1) apps.push(...(await createMoreApps(env, (opts.apps ?? 1) - 1)));
    const prepareSql = [...(opts.prepareSql ?? []), ...(standin ? ["update tenants set plan = 'pro', billing_status = 'active', stripe_customer_id = 'cus_' || id"] : [])];
    if (prepareSql.length) {
      const db = postgres(env.DATABASE_URL!, { max: 1, onnotice: () => {} });
      try {
        for (const sql of prepareSql) await db.unsafe(sql);
      } finally {
        await db.end();
      }
    }

    const inspectPort = opts.inspect ? await freePort() : 0;
    const echoAs = (tag: string) => (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        if (!line.trim() || /^(Debugger (listening|attached|ending)|For help, see)/.test(line)) continue;
        if (++logLines <= 10) console.error(`  [${tag}] ${line.slice(0, 300)}`);
        else if (logLines === 11) console.error('  [server] … (further lines counted, not shown)');
      }
    };
    const urls = ports.slice(0, instances).map((p) => `http://127.0.0.1:${p}`);

    if (simUrl) {
      // WeChat's side, one process for all instances, started first so the servers find it.
      // Its start-up line is expected; anything else it prints is echoed (not counted as server lines).
      simulator = spawn(process.execPath, ['--import', 'tsx', 'server/features/sandbox/simulator/standalone.ts'], {
        cwd: ROOT,
        env: {
          ...process.env,
          NODE_ENV: 'production',
          LOG_LEVEL: 'warn',
          SIM_HOST: '127.0.0.1',
          SIM_PORT: String(ports[instances]),
          // The same key as the servers', so it accepts the sandbox AppIDs/secrets they derive.
          MASTER_KEY: env.MASTER_KEY,
          // Scanned codes point at the phone page of (the first) server, as the mounted one's do.
          PUBLIC_URL: urls[0],
          ...(opts.live ? { SIM_APPID: opts.live.appid, SIM_SECRET: opts.live.secret } : {}),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const echoSim = (d: Buffer) => {
        for (const line of d.toString().split('\n')) {
          if (!line.trim() || line.startsWith('WeChat simulator on ')) continue;
          if (++simLogLines <= 10) console.error(`  [wechat simulator] ${line.slice(0, 300)}`);
        }
      };
      simulator.stdout!.on('data', echoSim);
      simulator.stderr!.on('data', echoSim);
      const simDeadline = Date.now() + 30_000;
      for (;;) {
        if (simulator.exitCode !== null) throw new Error(`the WeChat simulator exited with ${simulator.exitCode} during start-up`);
        if (await fetch(`${simUrl}/__sim/stats`).then((r) => r.ok, () => false)) break;
        if (Date.now() > simDeadline) throw new Error('the WeChat simulator was not ready within 30 s');
        await new Promise((ok) => setTimeout(ok, 200));
      }
    }
    // All instances start at once: each migrates on start under a Postgres advisory lock.
    for (let i = 0; i < instances; i++) {
      const nodeArgs = [
        ...(opts.inspect && i === 0 ? [`--inspect=127.0.0.1:${inspectPort}`] : []),
        ...(opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : []),
        '--import', 'tsx', 'server/main.ts',
      ];
      const proc = spawn(process.execPath, nodeArgs, { cwd: ROOT, env: i === 0 ? env : { ...env, PORT: String(ports[i]), PUBLIC_URL: urls[i] }, stdio: ['ignore', 'pipe', 'pipe'] });
      const echo = echoAs(instances > 1 ? `server ${i + 1}` : 'server');
      proc.stdout!.on('data', echo);
      proc.stderr!.on('data', echo);
      servers.push(proc);
    }
    const deadline = Date.now() + 60_000;
    await Promise.all(
      servers.map(async (proc, i) => {
        for (;;) {
          if (proc.exitCode !== null) throw new Error(`server instance ${i + 1} exited with ${proc.exitCode} during start-up`);
          const ready = await fetch(`${urls[i]}/readyz`).then((r) => r.ok, () => false);
          if (ready) return;
          if (Date.now() > deadline) throw new Error(`server instance ${i + 1} was not ready within 60 s`);
          await new Promise((ok) => setTimeout(ok, 200));
        }
      }),
    );
    const url = urls[0]!;

    for (let i = 0; i < (opts.workers ?? 0); i++) {
      const w = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: ROOT, env: { ...env, ROLE: 'worker' }, stdio: ['ignore', 'pipe', 'pipe'] });
      const echo = echoAs('worker');
      w.stdout!.on('data', echo);
      w.stderr!.on('data', echo);
      workers.push(w);
    }
    // Workers log nothing at LOG_LEVEL=warn when healthy; give them a moment to connect.
    if (workers.length) await new Promise((ok) => setTimeout(ok, 3_000));

    const stack: Stack = {
      url,
      pid: servers[0]!.pid!,
      urls,
      pids: servers.map((s) => s.pid!),
      workerPids: workers.map((w) => w.pid!),
      simulator: simulator && simUrl ? { url: simUrl, pid: simulator.pid! } : undefined,
      stripe: standin && standinUrl ? { url: standinUrl, pid: standin.pid! } : undefined,
      appId: created.appId,
      publishableKey: keys.publishable,
      secretKey: keys.secret,
      apps,
      redisPrefix,
      database,
      redis,
      serverLogLines: () => logLines,
      async collectGarbage() {
        if (!inspectPort) throw new Error('start the stack with inspect: true');
        const [target] = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
        const ws = new WebSocket(target!.webSocketDebuggerUrl);
        await new Promise<void>((ok, fail) => {
          ws.once('open', () => ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })));
          ws.on('message', (d) => ((JSON.parse(d.toString()) as { id?: number }).id === 1 ? ok() : undefined));
          ws.once('error', fail);
        });
        ws.close();
      },
      async dispose() {
        live.delete(stack);
        await cleanup();
      },
    };
    live.add(stack);
    return stack;
  } catch (err) {
    await cleanup();
    throw err;
  }
}
