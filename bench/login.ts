/**
 * Login throughput and latency: many concurrent "browsers" (WebSockets, as the widget opens
 * them) and "phones" (keep-alive HTTP, as the sandbox phone / mini-program calls the API)
 * drive the whole loop against the real server running as its own process, on loopback.
 * Prints figures, asserts nothing.
 *
 *   npx tsx bench/login.ts [--duration 20] [--warmup 3] [--concurrency 100] [--users 1000]
 *                          [--logins N] [--qr] [--apps 1] [--rate R] [--cpu-prof DIR]
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { BenchBrowser, FrameError } from './lib/browser';
import { summarizeCpuProfile } from './lib/cpuprofile';
import { createHttpClient, errorCodeOf } from './lib/http';
import { describeMachine, fmtMachine } from './lib/machine';
import { diffCounts, diffRouteTimes, pgActivity, redisCommands, scrapeServer } from './lib/metrics';
import { cpuMeter, fmtCores } from './lib/proc';
import postgres from 'postgres';
import { ORIGIN, PG_ADMIN_URL, startStack } from './lib/stack';
import { fmtMs, fmtSummary, summarize, Tally, type Summary } from './lib/stats';

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
   * the image is drawn by the built-in simulator (PNG encoding, ~15 ms of the server's CPU per
   * image), a cost live mode pays at WeChat, not here.
   */
  qr: boolean;
  cpuProfDir: string | undefined;
  /** Spread the browsers over this many apps (1 = one busy site, the default). */
  apps: number;
  /** Worker-only processes beside a ROLE=api server (0 = one ROLE=all process). */
  workers: number;
  /**
   * Open loop: start this many logins per second whatever the server does (latency at a
   * given load). Unset: closed loop, `concurrency` pairs each starting the next login when
   * the last ends (maximum throughput; latency is then concurrency / throughput).
   */
  rate: number | undefined;
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
  /** Server event-loop delay over the window, ms. */
  loopLag: { p50: number; p99: number; max: number };
  /** Redis commands per login by command name (whole Redis, so an upper bound). */
  redisTop: Array<[string, number]>;
  perLogin: { httpRequests: number; pgTransactions: number; pgRowsWritten: number; redisCommands: number; serverCpuMs: number };
  serverLogLines: number;
  cpuProfile: string | undefined;
}

export const DEFAULT_LOGIN_OPTIONS: LoginOptions = { duration: 20, warmup: 3, concurrency: 100, users: 1000, logins: undefined, qr: false, cpuProfDir: undefined, apps: 1, rate: undefined, workers: 0 };

const MAX_OPEN_LOOP_INFLIGHT = 2000;
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

export async function runLoginBench(options: LoginOptions): Promise<LoginResult> {
  const cpuProfDir = options.cpuProfDir ? resolve(options.cpuProfDir) : undefined;
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const profilesBefore = new Set(cpuProfDir ? readdirSync(cpuProfDir) : []);
  const stack = await startStack({ label: 'login', cpuProfDir, apps: options.apps, workers: options.workers });
  const http = createHttpClient(stack.url, options.concurrency * 2);
  const wsUrls = stack.apps.map((a) => `${stack.url.replace(/^http/, 'ws')}/v1/ws?key=${encodeURIComponent(a.publishableKey)}`);

  const samples = { scan: [] as number[], confirm: [] as number[], open: [] as number[], qr: [] as number[], scanHttp: [] as number[], confirmHttp: [] as number[], whole: [] as number[] };
  const errors = new Tally();
  /** Errors outside the measured window (warm-up), reported apart. */
  const warmupErrors = new Tally();
  let completed = 0;
  let measuring = false;
  let stopping = false;
  let seq = 0;
  const open = new Set<BenchBrowser>();

  async function loginOnce(wsUrl: string): Promise<void> {
    const t0 = performance.now();
    const browser = await BenchBrowser.open(wsUrl, ORIGIN);
    open.add(browser);
    try {
      const { frame: s, at: sessionAt } = await browser.next('session');
      const scene = String(s.session);
      const tOpen = sessionAt - t0;
      let tQr = NaN;
      if (options.qr) {
        const q0 = performance.now();
        const img = await http.get(new URL(String(s.qr)).pathname);
        if (img.status !== 200 || img.body.subarray(1, 4).toString() !== 'PNG') throw new FrameError(`qr_http_${img.status}`, 'QR image not served');
        tQr = performance.now() - q0;
      }
      // The phone: a wx.login code from the sandbox for this user, then the mini-program's calls.
      const openid = `o_bench_user_${(seq++ % options.users).toString().padStart(6, '0')}`;
      const code = await http.postJson('/sandbox/phone/code', { scene, openid });
      if (code.status !== 200) throw new FrameError(`phone_code_${errorCodeOf(code)}`, 'no sandbox code');
      const tScan = performance.now();
      const scan = await http.postJson('/v1/mp/scan', { scene, code: code.json.code });
      const scanHttp = performance.now() - tScan;
      if (scan.status !== 200) throw new FrameError(`scan_${errorCodeOf(scan)}`, 'scan refused');
      const scanned = await browser.next('scanned');
      const tConfirm = performance.now();
      const confirm = await http.postJson('/v1/mp/confirm', { scene, ticket: scan.json.ticket });
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
      }
    } finally {
      browser.close();
      open.delete(browser);
    }
  }

  async function worker(n: number): Promise<void> {
    const wsUrl = wsUrls[n % wsUrls.length]!;
    while (!stopping) {
      try {
        await loginOnce(wsUrl);
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
      const wsUrl = wsUrls[started % wsUrls.length]!;
      started++;
      const p: Promise<void> = loginOnce(wsUrl)
        .catch((err: unknown) => {
          if (!stopping) (measuring ? errors : warmupErrors).add(err instanceof FrameError ? err.code : (err as NodeJS.ErrnoException).code ?? (err as Error).message.slice(0, 60));
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await Promise.allSettled([...inflight]);
  }

  const cpu = cpuMeter(stack.pid, stack.workerPids);
  let windowSeconds = 0;
  let cores: Record<string, number> = {};
  let routes: LoginResult['serverRoutes'] = [];
  let loopLag = { p50: NaN, p99: NaN, max: NaN };
  let redisTop: Array<[string, number]> = [];
  const perLogin = { httpRequests: NaN, pgTransactions: NaN, pgRowsWritten: NaN, redisCommands: NaN, serverCpuMs: NaN };
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    console.error(`login: ${options.rate ? `${options.rate} logins/s offered (open loop)` : `${options.concurrency} browser/phone pairs (closed loop)`}, ${options.warmup} s warm-up, ${options.duration} s measured${options.logins ? ` (or ${options.logins} logins)` : ''}, QR fetch ${options.qr ? 'on' : 'off'}, ${options.apps} app(s)`);
    const workers = options.rate ? [openLoop(options.rate)] : Array.from({ length: options.concurrency }, (_, n) => worker(n));
    await sleep(options.warmup * 1000);
    const before = await scrapeServer(stack.url);
    const pgBefore = await pgActivity(admin, stack.database);
    const redisBefore = await redisCommands(stack.redis);
    cpu.start();
    const w0 = performance.now();
    measuring = true;
    const end = w0 + options.duration * 1000;
    while (performance.now() < end && (options.logins === undefined || completed < options.logins)) await sleep(50);
    measuring = false;
    windowSeconds = (performance.now() - w0) / 1000;
    cores = cpu.stop();
    const after = await scrapeServer(stack.url);
    const pgAfter = await pgActivity(admin, stack.database);
    const redisAfter = await redisCommands(stack.redis);
    routes = diffRouteTimes(before.routes, after.routes);
    loopLag = after.loopLag;
    perLogin.httpRequests = routes.filter((r) => !r.route.includes('/metrics')).reduce((a, r) => a + r.count, 0) / completed;
    perLogin.pgTransactions = (pgAfter.commits + pgAfter.rollbacks - pgBefore.commits - pgBefore.rollbacks) / completed;
    perLogin.pgRowsWritten = (pgAfter.written - pgBefore.written) / completed;
    const redisDiff = diffCounts(redisBefore, redisAfter);
    perLogin.redisCommands = redisDiff.reduce((a, [, v]) => a + v, 0) / completed;
    redisTop = redisDiff.slice(0, 8).map(([k, v]) => [k, v / completed]);
    perLogin.serverCpuMs = ((cores.server ?? 0) * windowSeconds * 1000) / completed;
    stopping = true;
    // In-flight logins finish (each step is bounded); stragglers are cut after 20 s.
    await Promise.race([Promise.allSettled(workers), sleep(20_000)]);
    for (const b of open) b.close();
  } finally {
    stopping = true;
    http.close();
    await admin.end();
    await stack.dispose();
  }

  let cpuProfile: string | undefined;
  if (cpuProfDir) {
    // tsx's loader runs on a worker thread with a profile of its own; the main thread's is the big one.
    const fresh = readdirSync(cpuProfDir).filter((f) => f.endsWith('.cpuprofile') && !profilesBefore.has(f)).map((f) => join(cpuProfDir, f));
    cpuProfile = fresh.sort((a, b) => statSync(b).size - statSync(a).size)[0];
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
    perLogin,
    redisTop,
    serverLogLines: stack.serverLogLines(),
    cpuProfile,
  };
}

export function printLoginResult(r: LoginResult): void {
  const o = r.options;
  console.log(`\n== login: ${o.rate ? `open loop, ${o.rate} logins/s offered` : `closed loop, ${o.concurrency} concurrent browser+phone pairs`}, ${r.windowSeconds.toFixed(1)} s measured after ${o.warmup} s warm-up, QR fetch ${o.qr ? 'on' : 'off'}, ${o.users} distinct users, ${o.apps} app(s)`);
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
  console.log(`  CPU (cores busy)      ${fmtCores(r.cores)}`);
  console.log(`  server CPU per login  ${r.perLogin.serverCpuMs.toFixed(1)} ms  (→ one server process tops out near ${(1000 / r.perLogin.serverCpuMs).toFixed(0)} logins/s on one core)`);
  console.log(`  per login             ${r.perLogin.httpRequests.toFixed(1)} HTTP requests served, ${r.perLogin.pgTransactions.toFixed(1)} Postgres transactions (incl. autocommit), ${r.perLogin.pgRowsWritten.toFixed(1)} rows written, ≤ ${r.perLogin.redisCommands.toFixed(0)} Redis commands (Redis is shared)`);
  console.log(`  Redis calls per login ${r.redisTop.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
  console.log(`  server event loop     delay p50 ${fmtMs(r.loopLag.p50)}   p99 ${fmtMs(r.loopLag.p99)}   max ${fmtMs(r.loopLag.max)}`);
  console.log(`  server log lines      ${r.serverLogLines} (LOG_LEVEL=warn)`);
  console.log('  server-side mean time per route (its own histogram):');
  for (const row of r.serverRoutes.slice(0, 8)) console.log(`    ${row.route.padEnd(48)} ${String(row.count).padStart(7)}   ${row.meanMs.toFixed(2)} ms`);
  if (r.cpuProfile) {
    const p = summarizeCpuProfile(r.cpuProfile);
    console.log(`  server CPU profile ${r.cpuProfile} (${(p.busyMs / 1000).toFixed(1)} s busy), self time by package/folder:`);
    for (const [k, v] of p.byOwner) console.log(`    ${v.toFixed(1).padStart(5)} %  ${k}`);
    console.log('  top functions by self time:');
    for (const [k, v] of p.byFunction) console.log(`    ${v.toFixed(1).padStart(5)} %  ${k}`);
  }
}

export function loginOptionsFromArgs(args: string[]): LoginOptions {
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: 'string' }, warmup: { type: 'string' }, concurrency: { type: 'string' }, users: { type: 'string' },
      logins: { type: 'string' }, qr: { type: 'boolean' }, workers: { type: 'string' }, 'cpu-prof': { type: 'string' }, apps: { type: 'string' }, rate: { type: 'string' },
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
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`machine: ${fmtMachine(describeMachine())}`);
  printLoginResult(await runLoginBench(loginOptionsFromArgs(process.argv.slice(2))));
}
