/**
 * The login statement's own cost with billing's CTEs and without, against Postgres, alternating
 * in small batches so that a busy machine slows both alike (the whole-stack comparison in
 * bench/billing.ts can't resolve a few percent on a shared box). Every login is a new user of
 * the month, the worst case: with billing on it writes the MAU row and the meter outbox row too.
 *
 *   npx tsx bench/billing-statement.ts [--rounds 20] [--batch 100]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { loadConfig } from '../server/config';
import { openDatabase } from '../server/db/client';
import { createAppsStore } from '../server/features/apps/store';
import { activityCtes } from '../server/features/billing/metering';
import { recordConfirmedLogin } from '../server/features/sessions/login-record';
import type { Session } from '../server/features/sessions/store';
import { createOutbox } from '../server/features/webhooks/outbox';
import type { DeliveryQueue } from '../server/features/webhooks/queue';
import { newSessionId } from '../server/lib/ids';
import { sql } from 'drizzle-orm';
import { describeMachine, fmtMachine } from './lib/machine';
import { PG_ADMIN_URL } from './lib/stack';
import { summarize, fmtMs } from './lib/stats';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, batch: { type: 'string' } }, strict: true });
const rounds = Number(values.rounds ?? 20);
const batch = Number(values.batch ?? 100);

console.log(`machine: ${fmtMachine(describeMachine())}`);
const name = `wslbench_billstmt_${randomBytes(4).toString('hex')}`;
const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${name}`);
const url = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
const database = await openDatabase({ url, dataDir: '.data/unused', max: 2 });
try {
  await database.migrate();
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: url, MASTER_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' });
  const apps = createAppsStore({ db: database.db, config });
  const tenantId = await apps.ensureDefaultTenant('Bench billing');
  const { app } = await apps.createApp({ tenantId, name: 'Bench', allowedOrigins: ['https://shop.example.com'], wechatAppId: 'wx0123456789abcdef', wechatSecret: 'f'.repeat(32) });
  await database.db.execute(`update tenants set plan = 'pro', stripe_customer_id = 'cus_bench' where id = '${tenantId}'` as never);
  // Only statementCtes is used: the queue is never touched.
  const outbox = createOutbox({} as DeliveryQueue);
  // before: the statement as it was before billing (no MAU row); off: billing off (MAU row only); on: MAU and meter outbox rows.
  const modes = { before: { statementCtes: () => sql`no_billing as (select 1)` }, off: { statementCtes: activityCtes(false) }, on: { statementCtes: activityCtes(true) } };
  type Mode = keyof typeof modes;
  const samples: Record<Mode, number[]> = { before: [], off: [], on: [] };
  let n = 0;
  const session = (): Session => ({
    id: newSessionId(), appId: app.id, tenantId, mode: 'live', state: 'confirming', match: '42', origin: 'https://shop.example.com',
    browser: 'Chrome 130', os: 'macOS', ip: '127.0.0.1', location: undefined, createdAt: Date.now(), expiresAt: Date.now() + 120_000,
    holder: 'inst_bench', openid: `o_bench_${++n}`, unionid: undefined, urlLink: undefined,
  });
  // Warm up both statements (prepared once per connection).
  for (const m of ['before', 'off', 'on'] as const) for (let i = 0; i < 50; i++) await recordConfirmedLogin(database, outbox, modes[m], session(), {});
  for (let r = 0; r < rounds; r++) {
    const order: Mode[] = ['before', 'off', 'on'];
    for (const m of r % 2 ? order.reverse() : order) {
      for (let i = 0; i < batch; i++) {
        const t0 = performance.now();
        await recordConfirmedLogin(database, outbox, modes[m], session(), {});
        samples[m].push(performance.now() - t0);
      }
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const base = mean(samples.before);
  console.log(`\n== the login statement (live login of a new user; ${rounds} alternating rounds of ${batch} per mode)`);
  for (const m of ['before', 'off', 'on'] as const) {
    const s = summarize(samples[m]);
    const d = mean(samples[m]) - base;
    console.log(`   ${m.padEnd(7)} p50 ${fmtMs(s.p50)}  p99 ${fmtMs(s.p99)}  mean ${mean(samples[m]).toFixed(3)} ms${m === 'before' ? '' : `  (${d >= 0 ? '+' : ''}${d.toFixed(3)} ms, ${((d / base) * 100).toFixed(1)} % vs before)`}`);
  }
} finally {
  await database.close();
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
}
process.exit(0);
