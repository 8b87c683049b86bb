/**
 * What billing costs a login: the login bench with live keys, billing off and on, in one
 * sitting. Each round runs both, in the order off-on then on-off (ABBA), so steady drift on a
 * shared machine falls on both alike; the verdict is the median of the rounds' own on/off
 * differences, which one noisy run cannot swing the way it swings a mean. Closed loop gives
 * throughput and server CPU per login; open loop at a fixed rate (default: half the first
 * closed-loop throughput, a load the machine carries) gives confirm → success latency.
 *
 * By default every login is a new user of the month (--users larger than the logins), the
 * worst case for billing: each login writes the MAU row and the meter outbox row, and the
 * sender streams them to Stripe (the stand-in, a process of its own) while the bench runs.
 *
 *   npm run bench:billing -- [--duration 10] [--rounds 4] [--rate R] [--users 1000000]
 */
import { parseArgs } from 'node:util';
import { describeMachine, fmtMachine } from './lib/machine';
import { fmtMs } from './lib/stats';
import { DEFAULT_LOGIN_OPTIONS, runLoginBench, type LoginResult } from './login';

const { values } = parseArgs({ options: { duration: { type: 'string' }, rounds: { type: 'string' }, rate: { type: 'string' }, users: { type: 'string' } }, strict: true });
const duration = Number(values.duration ?? 10);
const rounds = Number(values.rounds ?? 4);
const users = Number(values.users ?? 1_000_000);
let rate = values.rate ? Number(values.rate) : undefined;

type Mode = 'off' | 'on';
console.log(`machine: ${fmtMachine(describeMachine())}`);
const base = { ...DEFAULT_LOGIN_OPTIONS, live: true, wechat: 'external' as const, duration, users };
const closed: Record<Mode, LoginResult[]> = { off: [], on: [] };
const open: Record<Mode, LoginResult[]> = { off: [], on: [] };

const stripeLine = (r: LoginResult) => (r.stripe ? `, Stripe got ${r.stripe.meterEvents} meter events in ${r.stripe.streamRequests} requests` : '');
for (let round = 0; round < rounds; round++) {
  const order: Mode[] = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
  for (const mode of order) {
    const res = await runLoginBench({ ...base, billing: mode === 'on' });
    closed[mode].push(res);
    console.log(`round ${round + 1}, billing ${mode}, closed loop: ${res.loginsPerSecond.toFixed(0)} logins/s, server CPU ${res.perLogin.serverCpuMs.toFixed(2)} ms/login, errors ${res.errors.total}${stripeLine(res)}`);
    rate ??= Math.max(5, Math.round(res.loginsPerSecond / 2));
  }
  for (const mode of order) {
    const res = await runLoginBench({ ...base, billing: mode === 'on', rate });
    open[mode].push(res);
    console.log(`round ${round + 1}, billing ${mode}, ${rate}/s open loop: confirm → success p50 ${fmtMs(res.confirmToSuccess.p50)} p99 ${fmtMs(res.confirmToSuccess.p99)}, server CPU ${res.perLogin.serverCpuMs.toFixed(2)} ms/login, errors ${res.errors.total}${stripeLine(res)}`);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
const figures: Array<[string, Record<Mode, LoginResult[]>, (r: LoginResult) => number]> = [
  ['closed loop: logins/s', closed, (r) => r.loginsPerSecond],
  ['closed loop: server CPU per login, ms', closed, (r) => r.perLogin.serverCpuMs],
  [`${rate}/s: confirm → success p50, ms`, open, (r) => r.confirmToSuccess.p50],
  [`${rate}/s: confirm → success p99, ms`, open, (r) => r.confirmToSuccess.p99],
  [`${rate}/s: server CPU per login, ms`, open, (r) => r.perLogin.serverCpuMs],
];
console.log(`\n== billing off vs on (live keys, ${users >= 1e6 ? 'every login a new monthly user' : `${users} users`}, ${rounds} rounds of ${duration} s, ABBA order)`);
console.log(`   ${'figure'.padEnd(40)} ${'mean off'.padStart(9)} ${'mean on'.padStart(9)}   on vs off, each round            median`);
for (const [name, runs, get] of figures) {
  const off = runs.off.map(get);
  const on = runs.on.map(get);
  const perRound = on.map((v, i) => v / off[i]! - 1);
  console.log(`   ${name.padEnd(40)} ${mean(off).toFixed(2).padStart(9)} ${mean(on).toFixed(2).padStart(9)}   ${perRound.map(pct).join(', ').padEnd(32)} ${pct(median(perRound))}`);
}
process.exit(0);
