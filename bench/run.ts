/**
 * `npm run bench`: the login benchmark, the idle-memory benchmark, then the webhook
 * benchmark (bench/webhooks.ts) when it exists, each printing its figures, then a summary.
 * Figures are printed, never asserted; everything runs on loopback against throwaway
 * databases and Redis prefixes, and stops by itself.
 *
 * The login bench runs closed loop (maximum throughput), then open loop at a quarter and at
 * half the throughput it found (latency at loads the server carries; --rate R runs that one
 * rate instead). On a 2-core box shared with the bench client and the simulator, latency
 * grows well before throughput saturates, so one point would hide the curve.
 *
 *   npm run bench -- [--duration 20] [--warmup 3] [--concurrency 100] [--users 1000] [--apps 1] [--rate R]
 *                    [--qr] [--cpu-prof DIR] [--sessions 10000] [--open-concurrency 200]
 *                    [--workers N] [--instances N] [--wechat external|mounted]
 *                    [--skip-login] [--skip-idle] [--skip-webhooks]
 *
 * --workers, --instances and --wechat apply to the login bench only (see the head of bench/login.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fdLimit, idleOptionsFromArgs, printIdleResult, runIdleBench, type IdleResult } from './idle-sessions';
import { describeMachine, fmtMachine } from './lib/machine';
import { fmtMs } from './lib/stats';
import { loginOptionsFromArgs, printLoginResult, runLoginBench, type LoginResult } from './login';

const args = process.argv.slice(2);
const { values: flags } = parseArgs({
  args,
  options: { 'skip-login': { type: 'boolean' }, 'skip-idle': { type: 'boolean' }, 'skip-webhooks': { type: 'boolean' } },
  strict: false,
});
const idleOptions = idleOptionsFromArgs(args);

// 10,000 sockets need 10,000 fds here and as many in the server, which inherits this limit.
const wanted = idleOptions.sessions + 2000;
if (!flags['skip-idle'] && fdLimit() < wanted && !process.env.WSL_BENCH_REEXEC) {
  const hard = Number(spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim());
  const target = Number.isFinite(hard) ? Math.min(wanted, hard) : wanted;
  console.error(`raising the open-files limit to ${target} for the idle-sessions bench`);
  const child = spawn('sh', ['-c', `ulimit -n ${target} && exec "$@"`, 'sh', process.execPath, ...process.execArgv, process.argv[1]!, ...args], {
    stdio: 'inherit',
    env: { ...process.env, WSL_BENCH_REEXEC: '1' },
  });
  child.on('exit', (code) => process.exit(code ?? 1));
  await new Promise(() => {});
}

const machine = describeMachine();
console.log(`machine: ${fmtMachine(machine)}`);

let login: LoginResult | undefined;
const atRates: LoginResult[] = [];
let idle: IdleResult | undefined;
let webhookLines: string[] = [];

if (!flags['skip-login']) {
  // Closed loop at saturation gives throughput; its latency is only concurrency / throughput.
  // Latency is then measured open loop at half that rate (or --rate), a load the server carries.
  const opts = loginOptionsFromArgs(args);
  login = await runLoginBench({ ...opts, rate: undefined });
  printLoginResult(login);
  const rates = opts.rate ? [opts.rate] : [4, 2].map((d) => Math.max(5, Math.round(login!.loginsPerSecond / d)));
  for (const rate of rates) {
    const r = await runLoginBench({ ...opts, rate, cpuProfDir: undefined });
    printLoginResult(r);
    atRates.push(r);
  }
}
if (!flags['skip-idle']) {
  idle = await runIdleBench(idleOptions);
  printIdleResult(idle);
}
const webhooksScript = resolve(import.meta.dirname, 'webhooks.ts');
if (!flags['skip-webhooks'] && existsSync(webhooksScript)) {
  console.log('\n== webhooks (bench/webhooks.ts)');
  webhookLines = await new Promise<string[]>((ok, fail) => {
    const lines: string[] = [];
    const child = spawn(process.execPath, [...process.execArgv, webhooksScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (d: Buffer) => {
      process.stdout.write(d);
      lines.push(...d.toString().split('\n').filter((l) => l.trim()));
    });
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? ok(lines) : fail(new Error(`bench/webhooks.ts exited ${code}`))));
  }).catch((err: Error) => {
    console.log(`  (failed: ${err.message})`);
    return [];
  });
}

const rows: Array<[string, string, string]> = [];
if (login) {
  rows.push(
    [`completed logins per second (${login.options.concurrency} pairs, closed loop)`, login.loginsPerSecond.toFixed(0), '≥ 500'],
    ['  scan → scanned p50 / p99 at saturation', `${fmtMs(login.scanToScanned.p50)} / ${fmtMs(login.scanToScanned.p99)}`, ''],
    ['  confirm → success p50 / p99 at saturation', `${fmtMs(login.confirmToSuccess.p50)} / ${fmtMs(login.confirmToSuccess.p99)}`, ''],
    ['  login errors', login.errors.toString(), ''],
    ['  server CPU per login', `${login.perLogin.serverCpuMs.toFixed(1)} ms`, ''],
  );
}
for (const atRate of atRates) {
  rows.push(
    [`at ${atRate.options.rate} logins/s offered (open loop): completed/s`, atRate.loginsPerSecond.toFixed(0), ''],
    ['  scan → scanned p50 / p99', `${fmtMs(atRate.scanToScanned.p50)} / ${fmtMs(atRate.scanToScanned.p99)}`, ''],
    ['  confirm → success p50 / p99', `${fmtMs(atRate.confirmToSuccess.p50)} / ${fmtMs(atRate.confirmToSuccess.p99)}`, 'p99 ≤ 20 ms'],
    ['  login errors', atRate.errors.toString(), ''],
  );
}
if (idle) {
  rows.push(
    [`server memory per waiting session (${idle.opened})`, `${idle.kbPerSession.toFixed(2)} KB (no GC: ${idle.rawKbPerSession.toFixed(2)} KB)`, '≤ 12 KB'],
    ['Redis memory per waiting session', `${(idle.redisKeyBytesPerSession / 1024).toFixed(2)} KB (used_memory Δ ${(idle.redisUsedBytesPerSession / 1024).toFixed(2)} KB)`, ''],
  );
}
for (const l of webhookLines) {
  const m = /^\s*(throughput|record→2xx)\s+(.*)$/.exec(l);
  if (m) rows.push([`webhooks ${m[1]}`, m[2]!.trim(), '']);
}

console.log(`\n== summary (${machine.nproc} CPUs ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}; load average at start ${machine.loadavg})`);
if (login) {
  const o = login.options;
  console.log(`   login: ${o.concurrency} concurrent pairs, ${login.windowSeconds.toFixed(0)} s measured, QR fetch ${o.qr ? 'on' : 'off'}, ${o.apps} app(s), ${o.users} users${o.instances > 1 ? `, ${o.instances} server instances` : ''}${o.workers ? `, ${o.workers} worker process(es)` : ''}`);
}
const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
console.log(`   ${'figure'.padEnd(w[0]!)}  ${'measured'.padEnd(w[1]!)}  target (issue 2)`);
for (const [a, b, c] of rows) console.log(`   ${a.padEnd(w[0]!)}  ${b.padEnd(w[1]!)}  ${c}`);
process.exit(0);
