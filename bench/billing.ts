/**
 * What billing costs a login: the login bench with live keys, billing off and on, side by side.
 * Each round starts two stacks (each its own server, WeChat simulator and database; the billing
 * one also a Stripe stand-in) and loads both at once, each with half the browser/phone pairs,
 * their measured windows covering the same seconds, the two swapping places each round. On a shared VM one server measured 104 and
 * 176 logins/s a minute apart: run one after the other, that drift swamps a cost of a few per
 * cent, and side by side it falls on both alike. The verdict is the median over rounds of each
 * round's on/off difference. Closed loop gives throughput and server CPU per login; open loop
 * at a fixed rate for each (default: a quarter of the first round's closed-loop total, a load
 * the machine carries) gives confirm → success latency.
 *
 * By default every login is a new user of the month (--users larger than the logins), the
 * worst case for billing: each login writes the MAU row and the meter outbox row, and the
 * sender streams them to Stripe (the stand-in) while the bench runs.
 *
 *   npm run bench:billing -- [--duration 10] [--rounds 4] [--rate R] [--users 1000000] [--a-a]
 *
 * --a-a runs billing off on both sides (an A/A test): how far apart two identical sides land
 * is the noise floor any off/on difference must be read against.
 */
import { parseArgs } from 'node:util';
import { describeMachine, fmtMachine } from './lib/machine';
import { fmtMs } from './lib/stats';
import { DEFAULT_LOGIN_OPTIONS, runLoginBench, type LoginOptions, type LoginResult } from './login';

const { values } = parseArgs({ options: { duration: { type: 'string' }, rounds: { type: 'string' }, rate: { type: 'string' }, users: { type: 'string' }, 'a-a': { type: 'boolean' } }, strict: true });
/** Calibration: both sides billing off, so what the two slots differ by on their own shows. */
const aa = values['a-a'] === true;
const duration = Number(values.duration ?? 10);
const rounds = Number(values.rounds ?? 4);
const users = Number(values.users ?? 1_000_000);
let rate = values.rate ? Number(values.rate) : undefined;

type Mode = 'off' | 'on';
console.log(`machine: ${fmtMachine(describeMachine())}`);
const base: LoginOptions = { ...DEFAULT_LOGIN_OPTIONS, live: true, wechat: 'external', duration, users, concurrency: DEFAULT_LOGIN_OPTIONS.concurrency / 2 };

/** Resolves every arrival once `parties` have arrived. */
function barrier(parties: number) {
  let arrived = 0;
  let open!: () => void;
  const all = new Promise<void>((ok) => (open = ok));
  return { arrive: () => (++arrived === parties && open(), all) };
}

/**
 * The two sides are not quite equal even when identical (an A/A run put the second 6 % behind
 * the first: it starts its load a moment later on a shared event loop), so the sides swap
 * places every round and the bias falls on both modes alike.
 */
async function sideBySide(opts: Partial<LoginOptions>, round: number): Promise<Record<Mode, LoginResult>> {
  const together = barrier(2);
  const modes: Mode[] = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
  const runs = await Promise.all(modes.map((m) => runLoginBench({ ...base, ...opts, billing: m === 'on' && !aa, together })));
  return { [modes[0]!]: runs[0]!, [modes[1]!]: runs[1]! } as Record<Mode, LoginResult>;
}

const closed: Array<Record<Mode, LoginResult>> = [];
const open: Array<Record<Mode, LoginResult>> = [];
const stripeLine = (r: LoginResult) => (r.stripe ? ` (Stripe got ${r.stripe.meterEvents} meter events in ${r.stripe.streamRequests} requests)` : '');
const line = (r: LoginResult) => `${r.loginsPerSecond.toFixed(0)} logins/s, confirm → success p50 ${fmtMs(r.confirmToSuccess.p50)} p99 ${fmtMs(r.confirmToSuccess.p99)}, server CPU ${r.perLogin.serverCpuMs.toFixed(2)} ms/login, errors ${r.errors.total}${stripeLine(r)}`;

try {
  for (let round = 0; round < rounds; round++) {
    const c = await sideBySide({}, round);
    closed.push(c);
    console.log(`round ${round + 1}, closed loop, ${base.concurrency} pairs each: off ${line(c.off)}\n${' '.repeat(33)}on  ${line(c.on)}`);
    rate ??= Math.max(5, Math.round((c.off.loginsPerSecond + c.on.loginsPerSecond) / 4));
    const o = await sideBySide({ rate }, round);
    open.push(o);
    console.log(`round ${round + 1}, ${rate}/s open loop each:      off ${line(o.off)}\n${' '.repeat(33)}on  ${line(o.on)}`);
  }
} catch (err) {
  console.error(err);
  process.exit(1);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
const figures: Array<[string, Array<Record<Mode, LoginResult>>, (r: LoginResult) => number]> = [
  ['closed loop: logins/s', closed, (r) => r.loginsPerSecond],
  ['closed loop: server CPU per login, ms', closed, (r) => r.perLogin.serverCpuMs],
  [`${rate}/s: confirm → success p50, ms`, open, (r) => r.confirmToSuccess.p50],
  [`${rate}/s: confirm → success p99, ms`, open, (r) => r.confirmToSuccess.p99],
  [`${rate}/s: server CPU per login, ms`, open, (r) => r.perLogin.serverCpuMs],
];
console.log(`\n== ${aa ? 'A/A calibration: billing off on both sides ("on" is the second off)' : 'billing off vs on'}, side by side (live keys, ${users >= 1e6 ? 'every login a new monthly user' : `${users} users`}, ${rounds} rounds of ${duration} s)`);
console.log(`   ${'figure'.padEnd(40)} ${'mean off'.padStart(9)} ${'mean on'.padStart(9)}   on vs off, each round              median`);
for (const [name, runs, get] of figures) {
  const off = runs.map((r) => get(r.off));
  const on = runs.map((r) => get(r.on));
  const perRound = on.map((v, i) => v / off[i]! - 1);
  console.log(`   ${name.padEnd(40)} ${mean(off).toFixed(2).padStart(9)} ${mean(on).toFixed(2).padStart(9)}   ${perRound.map(pct).join(', ').padEnd(34)} ${pct(median(perRound))}`);
}
process.exit(0);
