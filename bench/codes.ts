/**
 * Codes at any rate (DESIGN §11): time from socket open to the code image loaded, for new
 * sessions opened at a fixed rate on one AppID, with a WeChat stand-in that takes `--latency`
 * ms per mini-program code and allows `--quota` a minute.
 *
 *   npx tsx bench/codes.ts --style link|wxacode [--rate 100] [--duration 65] [--latency 150] [--quota 5000]
 *
 * Each browser: open the widget socket, take the `session` frame, GET its `qr` and read it
 * whole. An image that fails is followed by the socket's `error` frame (codes_busy past the
 * quota), which is counted. Afterwards: WeChat's getwxacodeunlimit calls (the simulator's own
 * count) and Redis bytes per waiting session (MEMORY USAGE of our keys while all still wait).
 */
import { parseArgs } from 'node:util';
import { BenchBrowser, FrameError } from './lib/browser';
import { describeMachine, fmtMachine } from './lib/machine';
import { ORIGIN, startStack } from './lib/stack';
import { fmtSummary, summarize } from './lib/stats';

const { values } = parseArgs({
  options: {
    style: { type: 'string', default: 'wxacode' },
    rate: { type: 'string', default: '100' },
    duration: { type: 'string', default: '65' },
    latency: { type: 'string', default: '150' },
    quota: { type: 'string', default: '5000' },
  },
});
const style = values.style === 'link' ? 'link' : 'wxacode';
const rate = Number(values.rate);
const durationS = Number(values.duration);

// The standalone simulator reads these (server/features/sandbox/simulator/standalone.ts).
process.env.SIM_CODE_LATENCY_MS = values.latency;
process.env.SIM_CODES_PER_MINUTE = values.quota;

const stack = await startStack({ label: 'codes', wechat: 'external', prepareSql: [`UPDATE apps SET code_style = '${style}'`] });
const wsUrl = `${stack.url.replace(/^http/, 'ws')}/v1/ws?key=${encodeURIComponent(stack.publishableKey)}`;
const samples: number[] = [];
const toSession: number[] = [];
const outcomes = new Map<string, number>();
const count = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
const open: BenchBrowser[] = [];

async function one(): Promise<void> {
  const t0 = performance.now();
  let b: BenchBrowser;
  try {
    b = await BenchBrowser.open(wsUrl, ORIGIN);
  } catch (err) {
    return void count(err instanceof FrameError ? err.code : 'ws_error');
  }
  open.push(b);
  try {
    const { frame, at } = await b.next('session');
    toSession.push(at - t0);
    const res = await fetch(String(frame.qr).replace(/^https?:\/\/[^/]+/, stack.url));
    await res.arrayBuffer();
    if (res.ok) {
      samples.push(performance.now() - t0);
      return void count('image');
    }
    const err = await b.next('error', 5_000).then((f) => String(f.frame.code), () => 'no_error_frame');
    count(`image_${res.status}_then_${err}`);
  } catch (err) {
    count(err instanceof FrameError ? err.code : 'error');
  }
}

const machine = describeMachine();
const started = performance.now();
const all: Array<Promise<void>> = [];
const total = Math.round(rate * durationS);
for (let i = 0; i < total; i++) {
  const due = started + (i * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  all.push(one());
}
await Promise.all(all);
const elapsedS = (performance.now() - started) / 1000;

// Every session still waits (120 s TTL): Redis bytes per waiting session, images fetched.
let cursor = '0';
let bytes = 0;
let qrBytes = 0;
let keys = 0;
do {
  const [next, found] = await stack.redis.scan(cursor, 'MATCH', `*${stack.redisPrefix}*`, 'COUNT', 1000);
  cursor = next;
  for (const k of found) {
    const n = (await stack.redis.memory('USAGE', k)) ?? 0;
    bytes += n;
    keys++;
    if (k.includes(':qr:')) qrBytes += n;
  }
} while (cursor !== '0');
const stats = (await (await fetch(`${stack.simulator!.url}/__sim/stats`)).json()) as { calls: Record<string, number> };
for (const b of open) b.ws.close();
await stack.dispose();

const s = summarize(samples);
console.log(`codes bench — style ${style}, ${rate} new sessions/s for ${durationS} s (took ${elapsedS.toFixed(1)} s), one AppID, WeChat stand-in ${values.latency} ms per code, quota ${values.quota}/min`);
console.log(fmtMachine(machine));
console.log(`  socket open → session frame  ${fmtSummary(summarize(toSession))}`);
console.log(`  socket open → image loaded   ${fmtSummary(s)}`);
console.log(`  outcomes                     ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log(`  WeChat getwxacodeunlimit     ${stats.calls.getwxacodeunlimit ?? 0} calls (incl. any refused)`);
console.log(`  Redis                        ${keys} keys, ${(bytes / total).toFixed(0)} B per waiting session (of which code images ${(qrBytes / total).toFixed(0)} B)`);
