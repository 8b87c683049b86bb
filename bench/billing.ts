/**
 * What billing costs a login: the login bench with live keys, billing off then on, in one
 * sitting, alternating (off, on, off, on) so drift on a shared machine hits both alike. Closed
 * loop gives throughput; open loop at a fixed rate gives confirm → success latency.
 *
 * By default every login is a new user of the month (--users larger than the logins), the
 * worst case for billing: each login writes the MAU row and the meter outbox row, and the
 * sender turns each into a Stripe meter event (to the stand-in) while the bench runs.
 *
 *   npx tsx bench/billing.ts [--duration 15] [--rounds 2] [--rate 150] [--users 1000000]
 */
import { parseArgs } from 'node:util';
import { describeMachine, fmtMachine } from './lib/machine';
import { fmtMs } from './lib/stats';
import { DEFAULT_LOGIN_OPTIONS, runLoginBench, type LoginResult } from './login';

const { values } = parseArgs({ options: { duration: { type: 'string' }, rounds: { type: 'string' }, rate: { type: 'string' }, users: { type: 'string' } }, strict: true });
const duration = Number(values.duration ?? 15);
const rounds = Number(values.rounds ?? 2);
const rate = Number(values.rate ?? 150);
const users = Number(values.users ?? 1_000_000);

console.log(`machine: ${fmtMachine(describeMachine())}`);
const base = { ...DEFAULT_LOGIN_OPTIONS, live: true, wechat: 'external' as const, duration, users };
const closed: Record<'off' | 'on', LoginResult[]> = { off: [], on: [] };
const open: Record<'off' | 'on', LoginResult[]> = { off: [], on: [] };

for (let r = 0; r < rounds; r++) {
  for (const mode of ['off', 'on'] as const) {
    const res = await runLoginBench({ ...base, billing: mode === 'on' });
    closed[mode].push(res);
    console.log(`round ${r + 1}, billing ${mode}, closed loop: ${res.loginsPerSecond.toFixed(0)} logins/s, confirm → success p50 ${fmtMs(res.confirmToSuccess.p50)} p99 ${fmtMs(res.confirmToSuccess.p99)}, server CPU ${res.perLogin.serverCpuMs.toFixed(2)} ms/login, errors ${res.errors.total}`);
  }
  for (const mode of ['off', 'on'] as const) {
    const res = await runLoginBench({ ...base, billing: mode === 'on', rate });
    open[mode].push(res);
    console.log(`round ${r + 1}, billing ${mode}, ${rate}/s open loop: confirm → success p50 ${fmtMs(res.confirmToSuccess.p50)} p99 ${fmtMs(res.confirmToSuccess.p99)}, server CPU ${res.perLogin.serverCpuMs.toFixed(2)} ms/login, errors ${res.errors.total}`);
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const pct = (on: number, off: number) => `${(((on - off) / off) * 100).toFixed(1)} %`;
const rows: Array<[string, number, number]> = [
  ['closed loop: logins/s', mean(closed.off.map((r) => r.loginsPerSecond)), mean(closed.on.map((r) => r.loginsPerSecond))],
  ['closed loop: server CPU per login, ms', mean(closed.off.map((r) => r.perLogin.serverCpuMs)), mean(closed.on.map((r) => r.perLogin.serverCpuMs))],
  [`${rate}/s: confirm → success p50, ms`, mean(open.off.map((r) => r.confirmToSuccess.p50)), mean(open.on.map((r) => r.confirmToSuccess.p50))],
  [`${rate}/s: confirm → success p99, ms`, mean(open.off.map((r) => r.confirmToSuccess.p99)), mean(open.on.map((r) => r.confirmToSuccess.p99))],
  [`${rate}/s: server CPU per login, ms`, mean(open.off.map((r) => r.perLogin.serverCpuMs)), mean(open.on.map((r) => r.perLogin.serverCpuMs))],
];
console.log(`\n== billing off vs on (live keys, ${users >= 1e6 ? 'every login a new monthly user' : `${users} users`}, mean of ${rounds} rounds, ${duration} s each)`);
for (const [name, off, on] of rows) console.log(`   ${name.padEnd(40)} off ${off.toFixed(2).padStart(8)}   on ${on.toFixed(2).padStart(8)}   ${pct(on, off)}`);
process.exit(0);
