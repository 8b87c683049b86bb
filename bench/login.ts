/**
 * Login throughput and latency: many concurrent "browsers" (WebSockets, as the widget opens
 * them) and "phones" (keep-alive HTTP, as the sandbox phone / mini-program calls the API)
 * drive the whole loop against the real server running as its own process, on loopback.
 * Prints figures, asserts nothing.
 *
 *   npx tsx bench/login.ts [--duration 20] [--warmup 3] [--concurrency 100] [--users 1000]
 *                          [--logins N] [--qr] [--apps 1] [--rate R] [--cpu-prof DIR]
 *                          [--workers N] [--instances N] [--wechat external|mounted]
 *                          [--live] [--billing on|off] [--cluster]
 *
 * --wechat external (default) plays WeChat's servers with one standalone simulator process
 * (server/features/sandbox/simulator/standalone.ts, sharing the stack's MASTER_KEY so it
 * accepts the derived sandbox AppIDs), shared by all instances; the servers reach it through
 * SANDBOX_WECHAT_API_BASE as live servers reach api.weixin.qq.com, and each phone gets its
 * wx.login code straight from it (`POST {simulator}/__sim/phone/login {appid, openid}`, the
 * request the sandbox feature's phoneCode makes), as a real phone gets it from WeChat. Its CPU is
 * its own column, not the server's. --wechat mounted: the simulator inside each server process
 * (`/sandbox/wechat`), phones get codes through the server's `POST /sandbox/phone/code`, so the
 * server also does WeChat's work (serving jscode2session, issuing codes, its state in Redis).
 *
 * --live logs in with the app's live keys (WeChat credentials the external simulator knows, the
 * servers' WECHAT_API_BASE pointed at it): the logins billing counts. --billing on starts a
 * Stripe stand-in in the bench process and puts the tenant on Pro with a Stripe customer, so
 * every user's first login of the month writes a meter outbox row and becomes a meter event;
 * off (default), no STRIPE_* is set. Compare the two in one sitting with bench/billing.ts.
 *
 * --cluster runs the same load twice in one sitting, first on the shared single Redis, then on
 * a Redis Cluster of its own (3 masters + 3 replicas on loopback, test/helpers/redis-cluster.ts,
 * REDIS_CLUSTER_NODES), and prints both and a side-by-side summary. Redis commands per login on
 * the cluster are summed over its masters (ours alone, so exact; the single Redis is shared).
 *
 * --instances N starts N full server processes (ROLE=all; ROLE=api with --workers), each on
 * its own port, sharing the database, Redis prefix, MASTER_KEY and apps. The bench is the load
 * balancer, without stickiness: each browser socket and each phone HTTP request picks an
 * instance at random, independently, so about (N-1)/N of the session events cross instances
 * through Redis pub/sub. CPU, route times and log lines are summed over the instances; the
 * event-loop delay is the worst instance's, each instance's listed below it; --cpu-prof
 * writes one profile per instance and summarises them together.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { BenchBrowser, FrameError } from './lib/browser';
import { summarizeCpuProfiles } from './lib/cpuprofile';
import { createHttpClient, errorCodeOf } from './lib/http';
import { describeMachine, fmtMachine } from './lib/machine';
import { diffCounts, diffRouteTimes, pgActivity, redisCommands, scrapeServers } from './lib/metrics';
import { cpuMeter, fmtCores } from './lib/proc';
import postgres from 'postgres';
import { ORIGIN, PG_ADMIN_URL, startStack } from './lib/stack';
import { sandboxAppId } from '../server/features/sandbox/simulator/credentials';
import { fmtMs, fmtSummary, summarize, Tally, type Summary } from './lib/stats';
import { startRedisCluster } from '../test/helpers/redis-cluster';

export interface LoginOptions {
  /** Measured window, seconds (after the warm-up). */
  duration: number;
  warmup: number;
  concurrency: number;
  /** Size of the pool of WeChat users (openids) the phones pick from; returning users are the common case. */
  users: number;
  /** Stop the window early after this many completed logins. */
  logins: number | undefined;
  /**
   * Fetch the QR image of every session, as a real widget does. Off by default: in test mode
   * the image is drawn by the simulator (PNG encoding, ~15 ms of CPU per image: the simulator
   * process's with --wechat external, the server's with mounted), a cost live mode pays at
   * WeChat, not here. The server still fetches it (getwxacodeunlimit) and serves it.
   */
  qr: boolean;
  cpuProfDir: string | undefined;
  /** Spread the browsers over this many apps (1 = one busy site, the default). */
  apps: number;
  /** Run on a Redis Cluster of the bench's own instead of the single Redis (see --cluster). */
  cluster: boolean;
  /** Worker-only processes beside a ROLE=api server (0 = one ROLE=all process). */
  workers: number;
  /** Server processes behind the bench's own non-sticky load balancing (1 = one server). */
  instances: number;
  /**
   * Open loop: start this many logins per second whatever the server does (latency at a
   * given load). Unset: closed loop, `concurrency` pairs each starting the next login when
   * the last ends (maximum throughput; latency is then concurrency / throughput).
   */
  rate: number | undefined;
  /**
   * Who plays WeChat: `external`, one standalone simulator process the servers call over HTTP
   * and the phones get their codes from (as in production, where both talk to WeChat); or
   * `mounted`, the simulator inside each server process, phone codes through the server.
   */
  wechat: 'external' | 'mounted';
  /** Live keys (the app has WeChat credentials the external simulator knows): what billing meters and limits. */
  live: boolean;
  /** Billing on (a Stripe stand-in, the tenant on Pro with a customer): the cost of metering and the scan-time check. */
  billing: boolean;
  /**
   * Runs started side by side (bench/billing.ts) wait here once their stacks are up, so their
   * windows cover the same seconds of the same machine.
   */
  together?: { arrive(): Promise<void> };
}

export interface LoginResult {
  options: LoginOptions;
  completed: number;
  windowSeconds: number;
  loginsPerSecond: number;
  scanToScanned: Summary;
  confirmToSuccess: Summary;
  openToSession: Summary;
  qrFetch: Summary;
  scanHttp: Summary;
  confirmHttp: Summary;
  wholeLogin: Summary;
  errors: Tally;
  warmupErrors: Tally;
  cores: Record<string, number>;
  serverRoutes: Array<{ route: string; count: number; meanMs: number }>;
  /** Server event-loop delay over the window, ms: the worst instance for each figure. */
  loopLag: { p50: number; p99: number; max: number };
  /** Each instance's event-loop delay over the window, ms. */
  loopLagPerInstance: Array<{ p50: number; p99: number; max: number }>;
  /** Measured session events (scan → scanned, confirm → success) and how many were caused on an instance other than the one holding the browser's socket. */
  crossInstance: { events: number; crossed: number };
  /** Redis commands per login by command name (whole Redis, so an upper bound). */
  redisTop: Array<[string, number]>;
  perLogin: { httpRequests: number; pgTransactions: number; pgRowsWritten: number; redisCommands: number; serverCpuMs: number };
  serverLogLines: number;
  /** Billing on: meter events the Stripe stand-in holds at the end (warm-up and window), and the requests that carried them. */
  stripe: { meterEvents: number; streamRequests: number } | undefined;
  /** One V8 CPU profile per server instance (main thread), with --cpu-prof. */
  cpuProfiles: string[];
}

export const DEFAULT_LOGIN_OPTIONS: LoginOptions = { duration: 20, warmup: 3, concurrency: 100, users: 1000, logins: undefined, qr: false, cpuProfDir: undefined, apps: 1, rate: undefined, workers: 0, instances: 1, wechat: 'external', live: false, billing: false, cluster: false };

/** The live app's WeChat credentials in the external simulator (any well-formed pair works). */
const LIVE_WECHAT = { appid: 'wxbe0c0000000000b1', secret: 'be0c'.repeat(8) };

const MAX_OPEN_LOOP_INFLIGHT = 2000;
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

export async function runLoginBench(options: LoginOptions): Promise<LoginResult> {
  const cpuProfDir = options.cpuProfDir ? resolve(options.cpuProfDir) : undefined;
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const profilesBefore = new Set(cpuProfDir ? readdirSync(cpuProfDir) : []);
  if (options.live && (options.wechat !== 'external' || options.apps !== 1)) throw new Error('--live needs --wechat external and one app');
  const cluster = options.cluster ? await startRedisCluster() : undefined;
  const stack = await startStack({
    label: 'login', cpuProfDir, apps: options.apps, workers: options.workers, instances: options.instances, wechat: options.wechat,
    ...(options.live ? { live: LIVE_WECHAT } : {}), billing: options.billing,
    ...(cluster ? { env: { REDIS_CLUSTER_NODES: cluster.nodes } } : {}),
  }).catch(async (err) => {
    await cluster?.dispose();
    throw err;
  });
  const commandCounts = () => (cluster ? cluster.commandStats() : redisCommands(stack.redis));
  // The phone's wx.login: from the external simulator directly (WeChat's role), or via our server.
  const simClient = stack.simulator ? createHttpClient(stack.simulator.url, options.concurrency * 2) : undefined;
  const wechatAppIds = options.live ? [LIVE_WECHAT.appid] : stack.apps.map((a) => sandboxAppId(a.appId));
  // The bench is the load balancer: one keep-alive client per instance; no stickiness.
  const clients = stack.urls.map((u) => createHttpClient(u, options.concurrency * 2));
  /** wsUrls[instance][app] */
  const wsUrls = stack.urls.map((u) => stack.apps.map((a) => `${u.replace(/^http/, 'ws')}/v1/ws?key=${encodeURIComponent(a.publishableKey)}`));
  const pickInstance = () => (clients.length === 1 ? 0 : Math.floor(Math.random() * clients.length));
  const crossInstance = { events: 0, crossed: 0 };

  const samples = { scan: [] as number[], confirm: [] as number[], open: [] as number[], qr: [] as number[], scanHttp: [] as number[], confirmHttp: [] as number[], whole: [] as number[] };
  const errors = new Tally();
  /** Errors outside the measured window (warm-up), reported apart. */
  const warmupErrors = new Tally();
  let completed = 0;
  let measuring = false;
  let stopping = false;
  let seq = 0;
  const open = new Set<BenchBrowser>();

  async function loginOnce(app: number): Promise<void> {
    const t0 = performance.now();
    // Each browser socket and each phone request picks its instance independently.
    const home = pickInstance();
    const browser = await BenchBrowser.open(wsUrls[home]![app]!, ORIGIN);
    open.add(browser);
    try {
      const { frame: s, at: sessionAt } = await browser.next('session');
      const scene = String(s.session);
      const tOpen = sessionAt - t0;
      let tQr = NaN;
      if (options.qr) {
        const q0 = performance.now();
        const img = await clients[pickInstance()]!.get(new URL(String(s.qr)).pathname);
        if (img.status !== 200 || img.body.subarray(1, 4).toString() !== 'PNG') throw new FrameError(`qr_http_${img.status}`, 'QR image not served');
        tQr = performance.now() - q0;
      }
      // The phone: a wx.login code for this user (from the simulator as from WeChat, or through
      // our server's sandbox helper when mounted), then the mini-program's calls.
      const openid = `o_bench_user_${(seq++ % options.users).toString().padStart(6, '0')}`;
      const code = simClient
        ? await simClient.postJson('/__sim/phone/login', { appid: wechatAppIds[app], openid })
        : await clients[pickInstance()]!.postJson('/sandbox/phone/code', { scene, openid });
      if (code.status !== 200 || typeof code.json.code !== 'string') throw new FrameError(`phone_code_${errorCodeOf(code)}`, 'no sandbox code');
      const scanAt = pickInstance();
      const tScan = performance.now();
      const scan = await clients[scanAt]!.postJson('/v1/mp/scan', { scene, code: code.json.code });
      const scanHttp = performance.now() - tScan;
      if (scan.status !== 200) throw new FrameError(`scan_${errorCodeOf(scan)}`, 'scan refused');
      const scanned = await browser.next('scanned');
      const confirmAt = pickInstance();
      const tConfirm = performance.now();
      const confirm = await clients[confirmAt]!.postJson('/v1/mp/confirm', { scene, ticket: scan.json.ticket });
      const confirmHttp = performance.now() - tConfirm;
      if (confirm.status !== 200) throw new FrameError(`confirm_${errorCodeOf(confirm)}`, 'confirm refused');
      const success = await browser.next('success');
      if (typeof success.frame.token !== 'string') throw new FrameError('success_without_token', 'no token');
      if (measuring) {
        completed++;
        samples.open.push(tOpen);
        if (options.qr) samples.qr.push(tQr);
        samples.scan.push(scanned.at - tScan);
        samples.scanHttp.push(scanHttp);
        samples.confirm.push(success.at - tConfirm);
        samples.confirmHttp.push(confirmHttp);
        samples.whole.push(success.at - t0);
        crossInstance.events += 2;
        crossInstance.crossed += Number(scanAt !== home) + Number(confirmAt !== home);
      }
    } finally {
      browser.close();
      open.delete(browser);
    }
  }

  async function worker(n: number): Promise<void> {
    const app = n % stack.apps.length;
    while (!stopping) {
      try {
        await loginOnce(app);
      } catch (err) {
        if (stopping) return;
        (measuring ? errors : warmupErrors).add(err instanceof FrameError ? err.code : (err as NodeJS.ErrnoException).code ?? (err as Error).message.slice(0, 60));
        await sleep(50);
      }
    }
  }

  /** Starts logins on a fixed schedule; ones still running when the next is due run side by side. */
  async function openLoop(rate: number): Promise<void> {
    const inflight = new Set<Promise<void>>();
    const t0 = performance.now();
    let started = 0;
    while (!stopping) {
      const due = t0 + (started * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (stopping) break;
      if (inflight.size >= MAX_OPEN_LOOP_INFLIGHT) {
        (measuring ? errors : warmupErrors).add('client_overloaded_skipped');
        started++;
        continue;
      }
      const app = started % stack.apps.length;
      started++;
      const p: Promise<void> = loginOnce(app)
        .catch((err: unknown) => {
          if (!stopping) (measuring ? errors : warmupErrors).add(err instanceof FrameError ? err.code : (err as NodeJS.ErrnoException).code ?? (err as Error).message.slice(0, 60));
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await Promise.allSettled([...inflight]);
  }

  const cpu = cpuMeter(stack.pids, stack.workerPids, {
    ...(stack.simulator ? { 'wechat simulator': [stack.simulator.pid] } : {}),
    ...(stack.stripe ? { 'stripe stand-in': [stack.stripe.pid] } : {}),
  });
  let windowSeconds = 0;
  let cores: Record<string, number> = {};
  let routes: LoginResult['serverRoutes'] = [];
  let stripe: LoginResult['stripe'];
  let loopLag = { p50: NaN, p99: NaN, max: NaN };
  let loopLagPerInstance: LoginResult['loopLagPerInstance'] = [];
  let redisTop: Array<[string, number]> = [];
  const perLogin = { httpRequests: NaN, pgTransactions: NaN, pgRowsWritten: NaN, redisCommands: NaN, serverCpuMs: NaN };
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    console.error(`login: ${options.rate ? `${options.rate} logins/s offered (open loop)` : `${options.concurrency} browser/phone pairs (closed loop)`}, ${options.warmup} s warm-up, ${options.duration} s measured${options.logins ? ` (or ${options.logins} logins)` : ''}, QR fetch ${options.qr ? 'on' : 'off'}, ${options.apps} app(s)${options.instances > 1 ? `, ${options.instances} server instances` : ''}${options.workers ? `, ${options.workers} worker process(es)` : ''}, WeChat ${options.wechat === 'external' ? `simulator process ${stack.simulator?.url}` : 'simulator mounted in the server'}`);
    await options.together?.arrive();
    const workers = options.rate ? [openLoop(options.rate)] : Array.from({ length: options.concurrency }, (_, n) => worker(n));
    await sleep(options.warmup * 1000);
    const before = await scrapeServers(stack.urls);
    const pgBefore = await pgActivity(admin, stack.database);
    const redisBefore = await commandCounts();
    cpu.start();
    const w0 = performance.now();
    measuring = true;
    const end = w0 + options.duration * 1000;
    while (performance.now() < end && (options.logins === undefined || completed < options.logins)) await sleep(50);
    measuring = false;
    windowSeconds = (performance.now() - w0) / 1000;
    cores = cpu.stop();
    const after = await scrapeServers(stack.urls);
    const pgAfter = await pgActivity(admin, stack.database);
    const redisAfter = await commandCounts();
    routes = diffRouteTimes(before.routes, after.routes);
    loopLag = after.loopLag;
    loopLagPerInstance = after.loopLagPerInstance;
    perLogin.httpRequests = routes.filter((r) => !r.route.includes('/metrics')).reduce((a, r) => a + r.count, 0) / completed;
    perLogin.pgTransactions = (pgAfter.commits + pgAfter.rollbacks - pgBefore.commits - pgBefore.rollbacks) / completed;
    perLogin.pgRowsWritten = (pgAfter.written - pgBefore.written) / completed;
    const redisDiff = diffCounts(redisBefore, redisAfter);
    perLogin.redisCommands = redisDiff.reduce((a, [, v]) => a + v, 0) / completed;
    redisTop = redisDiff.slice(0, 8).map(([k, v]) => [k, v / completed]);
    perLogin.serverCpuMs = ((cores.server ?? 0) * windowSeconds * 1000) / completed;
    if (stack.stripe) {
      const get = async (path: string) => ((await (await fetch(`${stack.stripe!.url}/__standin/${path}`)).json()) as { data: unknown[] }).data;
      stripe = { meterEvents: (await get('meter_events')).length, streamRequests: (await get('requests')).filter((r) => r === 'POST /v2/billing/meter_event_stream').length };
    }
    stopping = true;
    // In-flight logins finish (each step is bounded); stragglers are cut after 20 s.
    await Promise.race([Promise.allSettled(workers), sleep(20_000)]);
    for (const b of open) b.close();
  } finally {
    stopping = true;
    for (const c of clients) c.close();
    simClient?.close();
    await admin.end();
    await stack.dispose();
    await cluster?.dispose();
  }

  const cpuProfiles: string[] = [];
  if (cpuProfDir) {
    // Node names them CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile. tsx's loader runs on a
    // worker thread with a profile of its own; per server process, the main thread's is the big one.
    const fresh = readdirSync(cpuProfDir).filter((f) => f.endsWith('.cpuprofile') && !profilesBefore.has(f));
    for (const pid of stack.pids) {
      const mine = fresh.filter((f) => f.split('.')[3] === String(pid)).map((f) => join(cpuProfDir, f));
      const main = mine.sort((a, b) => statSync(b).size - statSync(a).size)[0];
      if (main) cpuProfiles.push(main);
      else console.error(`no CPU profile from server pid ${pid} in ${cpuProfDir}`);
    }
  }
  return {
    options,
    completed,
    windowSeconds,
    loginsPerSecond: completed / windowSeconds,
    scanToScanned: summarize(samples.scan),
    confirmToSuccess: summarize(samples.confirm),
    openToSession: summarize(samples.open),
    qrFetch: summarize(samples.qr),
    scanHttp: summarize(samples.scanHttp),
    confirmHttp: summarize(samples.confirmHttp),
    wholeLogin: summarize(samples.whole),
    errors,
    warmupErrors,
    cores,
    serverRoutes: routes,
    loopLag,
    loopLagPerInstance,
    crossInstance,
    perLogin,
    redisTop,
    serverLogLines: stack.serverLogLines(),
    stripe,
    cpuProfiles,
  };
}

export function printLoginResult(r: LoginResult): void {
  const o = r.options;
  console.log(`\n== login: ${o.rate ? `open loop, ${o.rate} logins/s offered` : `closed loop, ${o.concurrency} concurrent browser+phone pairs`}, ${r.windowSeconds.toFixed(1)} s measured after ${o.warmup} s warm-up, QR fetch ${o.qr ? 'on' : 'off'}, ${o.users} distinct users, ${o.apps} app(s)${o.instances > 1 ? `, ${o.instances} server instances (non-sticky)` : ''}${o.workers ? `, ${o.workers} worker process(es)` : ''}`);
  console.log(`  Redis: ${o.cluster ? 'a Redis Cluster of its own, 3 masters + 3 replicas on loopback (REDIS_CLUSTER_NODES)' : 'one Redis (REDIS_URL), shared with other users of this machine'}`);
  console.log(`  keys: ${o.live ? 'live' : 'test'} · billing ${o.billing ? 'on (Stripe stand-in; the tenant on Pro with a customer: a meter event per new monthly user)' : 'off'}`);
  console.log(`  WeChat: ${o.wechat === 'external' ? "external simulator process (as WeChat's servers in production); phones get codes from it, not from the server" : 'simulator mounted in the server process (/sandbox/wechat); phones get codes via the server\'s /sandbox/phone/code'}`);
  console.log(`  completed logins      ${r.completed}  →  ${r.loginsPerSecond.toFixed(0)} logins/s`);
  console.log(`  scan → scanned        ${fmtSummary(r.scanToScanned)}`);
  console.log(`  confirm → success     ${fmtSummary(r.confirmToSuccess)}`);
  console.log(`  ws open → session     ${fmtSummary(r.openToSession)}`);
  if (o.qr) console.log(`  QR image GET          ${fmtSummary(r.qrFetch)}`);
  console.log(`  POST /v1/mp/scan      ${fmtSummary(r.scanHttp)}`);
  console.log(`  POST /v1/mp/confirm   ${fmtSummary(r.confirmHttp)}`);
  console.log(`  whole login           ${fmtSummary(r.wholeLogin)}`);
  console.log(`  errors                ${r.errors.toString()}`);
  if (r.warmupErrors.total) console.log(`  errors in warm-up     ${r.warmupErrors.toString()}`);
  const n = o.instances;
  console.log(`  CPU (cores busy)      ${fmtCores(r.cores, n)}`);
  console.log(`  server CPU per login  ${r.perLogin.serverCpuMs.toFixed(1)} ms${n > 1 ? ` (all ${n} server processes together)` : ''}  (→ one server process tops out near ${(1000 / r.perLogin.serverCpuMs).toFixed(0)} logins/s on one core)`);
  if (n > 1) console.log(`  cross-instance events ${r.crossInstance.crossed} of ${r.crossInstance.events} (${((100 * r.crossInstance.crossed) / r.crossInstance.events).toFixed(0)} %) scanned/success events caused on an instance other than the browser's (expected ≈ ${((100 * (n - 1)) / n).toFixed(0)} %)`);
  console.log(`  per login             ${r.perLogin.httpRequests.toFixed(1)} HTTP requests served, ${r.perLogin.pgTransactions.toFixed(1)} Postgres transactions (incl. autocommit), ${r.perLogin.pgRowsWritten.toFixed(1)} rows written, ≤ ${r.perLogin.redisCommands.toFixed(0)} Redis commands (Redis is shared)`);
  console.log(`  Redis calls per login ${r.redisTop.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
  console.log(`  server event loop     delay p50 ${fmtMs(r.loopLag.p50)}   p99 ${fmtMs(r.loopLag.p99)}   max ${fmtMs(r.loopLag.max)}${n > 1 ? `   (worst of ${n} instances, per figure)` : ''}`);
  if (n > 1) r.loopLagPerInstance.forEach((l, i) => console.log(`    instance ${String(i + 1).padEnd(10)} delay p50 ${fmtMs(l.p50)}   p99 ${fmtMs(l.p99)}   max ${fmtMs(l.max)}`));
  if (r.stripe) console.log(`  Stripe meter events   ${r.stripe.meterEvents} received in ${r.stripe.streamRequests} stream requests by the end of the window (warm-up included)`);
  console.log(`  server log lines      ${r.serverLogLines} (LOG_LEVEL=warn${n > 1 || o.workers ? ', all server processes' : ''})`);
  console.log(`  server-side mean time per route (its own histogram${n > 1 ? `, ${n} instances summed` : ''}):`);
  for (const row of r.serverRoutes.slice(0, 8)) console.log(`    ${row.route.padEnd(48)} ${String(row.count).padStart(7)}   ${row.meanMs.toFixed(2)} ms`);
  if (r.cpuProfiles.length) {
    const p = summarizeCpuProfiles(r.cpuProfiles);
    const what = r.cpuProfiles.length === 1 ? `server CPU profile ${r.cpuProfiles[0]}` : `server CPU profiles, ${r.cpuProfiles.length} instances together: ${r.cpuProfiles.join(', ')}`;
    console.log(`  ${what} (${(p.busyMs / 1000).toFixed(1)} s busy), self time by package/folder:`);
    for (const [k, v] of p.byOwner) console.log(`    ${v.toFixed(1).padStart(5)} %  ${k}`);
    console.log('  top functions by self time:');
    for (const [k, v] of p.byFunction) console.log(`    ${v.toFixed(1).padStart(5)} %  ${k}`);
  }
}

function wechatMode(v: unknown, d: LoginOptions['wechat']): LoginOptions['wechat'] {
  if (v === undefined) return d;
  if (v === 'external' || v === 'mounted') return v;
  throw new Error(`--wechat must be external or mounted, not ${String(v)}`);
}

export function loginOptionsFromArgs(args: string[]): LoginOptions {
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: 'string' }, warmup: { type: 'string' }, concurrency: { type: 'string' }, users: { type: 'string' },
      logins: { type: 'string' }, qr: { type: 'boolean' }, workers: { type: 'string' }, instances: { type: 'string' }, 'cpu-prof': { type: 'string' }, apps: { type: 'string' }, rate: { type: 'string' },
      wechat: { type: 'string' }, live: { type: 'boolean' }, billing: { type: 'string' }, cluster: { type: 'boolean' },
    },
    strict: false,
  });
  const num = (v: unknown, d: number) => (typeof v === 'string' && Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : d);
  const d = DEFAULT_LOGIN_OPTIONS;
  return {
    duration: num(values.duration, d.duration),
    warmup: num(values.warmup, d.warmup),
    concurrency: Math.floor(num(values.concurrency, d.concurrency)),
    users: Math.floor(num(values.users, d.users)),
    logins: typeof values.logins === 'string' ? Math.floor(num(values.logins, 1)) : undefined,
    qr: Boolean(values.qr),
    cpuProfDir: typeof values['cpu-prof'] === 'string' ? values['cpu-prof'] : undefined,
    apps: Math.floor(num(values.apps, d.apps)),
    rate: typeof values.rate === 'string' ? num(values.rate, 10) : undefined,
    workers: typeof values.workers === 'string' ? Math.floor(Number(values.workers)) || 0 : d.workers,
    instances: Math.floor(num(values.instances, d.instances)),
    wechat: wechatMode(values.wechat, d.wechat),
    live: Boolean(values.live),
    billing: values.billing === 'on',
    cluster: Boolean(values.cluster),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`machine: ${fmtMachine(describeMachine())}`);
  const options = loginOptionsFromArgs(process.argv.slice(2));
  if (!options.cluster) printLoginResult(await runLoginBench(options));
  else {
    // Side by side in one sitting: the same load on one Redis, then on the cluster.
    const single = await runLoginBench({ ...options, cluster: false });
    printLoginResult(single);
    const onCluster = await runLoginBench(options);
    printLoginResult(onCluster);
    console.log('\n== single Redis vs Redis Cluster (same load, one sitting)');
    for (const [name, r] of [['single Redis', single], ['Redis Cluster', onCluster]] as const) {
      console.log(`  ${name.padEnd(14)} ${r.loginsPerSecond.toFixed(0).padStart(5)} logins/s   server CPU ${r.perLogin.serverCpuMs.toFixed(1)} ms/login   ${r.perLogin.redisCommands.toFixed(1)} Redis commands/login   confirm→success p50 ${fmtMs(r.confirmToSuccess.p50)} p99 ${fmtMs(r.confirmToSuccess.p99)}   errors ${r.errors.total}`);
    }
  }
}
