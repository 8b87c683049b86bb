/**
 * Crash safety under faults (issue 10): two API instances (ROLE=api), one worker process, the
 * standalone WeChat simulator and a webhook receiver, on a redis-server of the bench's own (never
 * the shared one) and a fresh Postgres database. Logins start at a steady rate; each scenario
 * injects one fault mid-stream and prints one row:
 *
 *   started / confirmed / tokens delivered / webhooks delivered (distinct ids) / duplicates /
 *   ghost / lost / time to recover
 *
 * - confirmed: the phone was told OK. tokens: browsers that got their `success` frame.
 * - duplicates: extra `success` frames, extra login events or extra login.succeeded messages for
 *   one session (should be 0).
 * - ghost: a login recorded in Postgres whose browser never got the token.
 * - lost: a confirm the phone was told OK whose browser never got the token.
 * - recover: from the fault's end (Redis back, the last kill) until the last browser that was
 *   waiting heard what it waited for: its token once the phone was told OK, or a fresh code when
 *   Redis lost its session; "-" when nobody was waiting.
 *
 * Browsers behave like the element: a refused or dropped socket is retried (resumed when it had
 * a session) every 250 ms; phones retry a 503, a dropped connection or a wechat_error. Bounded:
 * every scenario runs a fixed time and stops itself. Loopback only.
 *
 *   npm run bench:faults -- [--rate 20] [--before 3] [--fault 6] [--after 8] [--only kill,redis-resets,…]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import WebSocket from 'ws';
import { sandboxAppId } from '../server/features/sandbox/simulator/credentials';
import { createHttpClient, type HttpClient } from './lib/http';
import { describeMachine, fmtMachine } from './lib/machine';
import { freePort, ORIGIN, PG_ADMIN_URL } from './lib/stack';

const ROOT = resolve(import.meta.dirname, '..');
const SCENARIOS = ['none', 'kill', 'redis-resets', 'redis-down-aof', 'redis-down-empty', 'pg-terminate'] as const;
type Scenario = (typeof SCENARIOS)[number];
const IDLE_BROWSERS = 20;

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '20' },
    before: { type: 'string', default: '3' },
    fault: { type: 'string', default: '6' },
    after: { type: 'string', default: '8' },
    only: { type: 'string' },
  },
});
const rate = Number(args.rate);
const beforeMs = Number(args.before) * 1000;
const faultMs = Number(args.fault) * 1000;
const afterMs = Number(args.after) * 1000;
const only = (args.only?.split(',') ?? SCENARIOS) as Scenario[];

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
const children = new Set<ChildProcess>();

function spawnNode(script: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let shown = 0;
  child.stderr!.on('data', (d: Buffer) => {
    if (shown++ < 3) process.stderr.write(`  [${env.ROLE ?? 'sim'}] ${d.toString().slice(0, 300)}`);
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function until(what: string, check: () => Promise<boolean>, ms = 60_000) {
  const end = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`${what}: not ready within ${ms / 1000} s`);
    await sleep(100);
  }
}

/** The bench's own redis-server: AOF every second, as the README tells operators. */
async function privateRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'wsl-faults-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess;
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
  admin.on('error', () => {});
  async function up() {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes',
      '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
    await until('redis-server', async () => {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => {});
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } finally {
        probe.disconnect();
      }
    });
  }
  async function down(wipe: boolean) {
    const exited = new Promise((ok) => child.once('exit', ok));
    child.kill('SIGKILL');
    await exited;
    if (wipe) {
      rmSync(dir, { recursive: true, force: true });
      mkdtempSync(dir.slice(0, -6));
    }
  }
  await up();
  return {
    url,
    up,
    down,
    dir,
    async killClients() {
      if (admin.status !== 'ready') await admin.connect().catch(() => {});
      await admin.call('CLIENT', 'KILL', 'TYPE', 'normal').catch(() => 0);
    },
    async dispose() {
      admin.disconnect();
      if (child.exitCode === null) await down(false);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Login {
  id: string | undefined;
  startedAt: number;
  confirmed: boolean;
  successes: number;
  tokenAt: number | undefined;
  /** Last time the browser heard anything (a frame). */
  heardAt: number;
  idle: boolean;
}

/** A browser as the element behaves: retries a refused socket, resumes a dropped one, accepts a fresh code. */
function browse(urls: string[], key: string, login: Login, stopAt: number): Promise<void> {
  return new Promise((done) => {
    let secret: string | undefined;
    let finished = false;
    const finish = () => {
      if (!finished) {
        finished = true;
        done();
      }
    };
    const connect = () => {
      if (finished) return;
      if (Date.now() > stopAt) return finish();
      const base = urls[Math.floor(Math.random() * urls.length)]!.replace(/^http/, 'ws');
      const resume = login.id && secret ? `&session=${login.id}` : '';
      const ws = new WebSocket(`${base}/v1/ws?key=${key}${resume}`, { headers: { origin: ORIGIN } });
      ws.on('open', () => {
        if (resume) ws.send(JSON.stringify({ type: 'resume', session: login.id, secret }));
      });
      ws.on('message', (data) => {
        const f = JSON.parse(data.toString()) as { type: string; session?: string; secret?: string; code?: string };
        login.heardAt = Date.now();
        if (f.type === 'session') {
          login.id = f.session;
          secret = f.secret;
        } else if (f.type === 'success') {
          login.successes++;
          login.tokenAt ??= Date.now();
        } else if (f.type === 'error' && f.code === 'session_not_found') {
          finished = true;
          done();
        }
      });
      ws.on('error', () => {});
      ws.on('close', (code) => {
        if (login.successes > 0 || finished) return finish();
        // 1000 only after success; anything else is retried like the element does.
        if (code === 4004) return finish();
        setTimeout(connect, 250);
      });
      const stopTimer = setInterval(() => {
        if (Date.now() > stopAt || login.successes > 0) {
          clearInterval(stopTimer);
          ws.terminate();
          finish();
        }
      }, 200);
      ws.once('close', () => clearInterval(stopTimer));
    };
    connect();
  });
}

async function retry(call: () => Promise<{ status: number; json: Record<string, unknown> }>, stopAt: number, retryable = [0, 503]) {
  for (;;) {
    const r = await call().catch(() => ({ status: 0, json: {} as Record<string, unknown> }));
    if (!retryable.includes(r.status) || Date.now() > stopAt) return r;
    await sleep(250);
  }
}

async function main() {
  const machine = describeMachine();
  console.log(fmtMachine(machine));
  const tag = randomBytes(4).toString('hex');
  const database = `wslbench_faults_${tag}`;
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${database}`);
  const redis = await privateRedis();
  const dbUrl = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${database}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'wslbench-'));
  const hooks = createServer();
  const cleanup = async () => {
    for (const c of children) c.kill('SIGKILL');
    hooks.close();
    await redis.dispose();
    await admin.unsafe(`drop database if exists ${database} with (force)`).catch(() => {});
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    const [p1, p2, p3, simPort, hookPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const urls = [`http://127.0.0.1:${p1}`, `http://127.0.0.1:${p2}`];
    const simUrl = `http://127.0.0.1:${simPort}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env, NODE_ENV: 'production', MASTER_KEY: randomBytes(32).toString('base64'), DATABASE_URL: dbUrl, REDIS_URL: redis.url,
      REDIS_PREFIX: 'wslfaults', LOG_LEVEL: 'error', SESSION_RATE_LIMIT: '100000000', DATA_DIR: dataDir, ROLE: 'api',
      SANDBOX_WECHAT_API_BASE: simUrl, WEBHOOK_ALLOW_PRIVATE_URLS: 'true', CONFIRM_LEASE_MS: '3000',
    };
    const out = await new Promise<string>((ok, fail) => {
      const c = spawn('npm', ['run', '--silent', 'cli', '--', 'apps:create', '--name', 'Faults Shop', '--origin', ORIGIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
      let s = '';
      c.stdout!.on('data', (d: Buffer) => (s += d));
      c.on('exit', (code) => (code === 0 ? ok(s) : fail(new Error(`apps:create exited ${code}`))));
    });
    const created = JSON.parse(out.slice(out.indexOf('{'))) as { appId: string; keys: { test: { publishable: string; secret: string } } };
    const key = created.keys.test.publishable;
    spawnNode('server/features/sandbox/simulator/standalone.ts', { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', SIM_HOST: '127.0.0.1', SIM_PORT: String(simPort), MASTER_KEY: env.MASTER_KEY, PUBLIC_URL: urls[0] });
    await until('simulator', async () => (await fetch(`${simUrl}/__sim/stats`)).ok);
    const instance = (i: number, extra: NodeJS.ProcessEnv = {}) => spawnNode('server/main.ts', { ...env, PORT: String([p1, p2, p3][i]), PUBLIC_URL: `http://127.0.0.1:${[p1, p2, p3][i]}`, ...extra });
    const servers = [instance(0), instance(1)];
    spawnNode('server/main.ts', { ...env, ROLE: 'worker' });
    for (const u of urls) await until(u, async () => (await fetch(`${u}/readyz`)).ok);

    // Webhooks: which login.succeeded ids arrived, for which session.
    const webhooks = new Map<string, Set<string>>();
    hooks.on('request', (req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d));
      req.on('end', () => {
        const msg = JSON.parse(body) as { type: string; data: { sessionId?: string } };
        if (msg.type === 'login.succeeded' && msg.data.sessionId) {
          let ids = webhooks.get(msg.data.sessionId);
          if (!ids) webhooks.set(msg.data.sessionId, (ids = new Set()));
          ids.add(String(req.headers['webhook-id']));
        }
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((ok) => hooks.listen(hookPort, '127.0.0.1', ok));
    const api = createHttpClient(urls[0]!, 4);
    const endpoint = await api.postJson('/v1/webhook_endpoints', { url: `http://127.0.0.1:${hookPort}/hook` }, { authorization: `Bearer ${created.keys.test.secret}` });
    if (endpoint.status >= 300) throw new Error(`webhook endpoint: ${JSON.stringify(endpoint.json)}`);

    const phones = urls.map((u) => createHttpClient(u, 64));
    const sim = createHttpClient(simUrl, 64);
    const appid = sandboxAppId(created.appId);
    const db = postgres(dbUrl, { max: 2, onnotice: () => {} });

    console.log(`faults: ${rate} logins/s, ${beforeMs / 1000} s before the fault, ${faultMs / 1000} s of fault, ${afterMs / 1000} s after; 2 API instances + 1 worker; ${IDLE_BROWSERS} idle browsers per row`);
    console.log('');
    console.log(`| fault | started | confirmed | tokens delivered | webhooks delivered (distinct ids) | duplicates | ghost | lost | time to recover |`);
    console.log(`|---|---|---|---|---|---|---|---|---|`);

    for (const scenario of only) {
      const logins: Login[] = [];
      const t0 = Date.now();
      const faultAt = t0 + beforeMs;
      const faultEnd = faultAt + faultMs;
      const stopStarting = faultEnd + afterMs / 2;
      const stopAt = faultEnd + afterMs;
      let doomed: ChildProcess | null = null;
      let doomedClient: HttpClient | null = null;
      let kills = 0;

      const tasks: Promise<void>[] = [];
      for (let i = 0; i < IDLE_BROWSERS; i++) {
        const l: Login = { id: undefined, startedAt: Date.now(), confirmed: false, successes: 0, tokenAt: undefined, heardAt: 0, idle: true };
        logins.push(l);
        tasks.push(browse(urls, key, l, stopAt));
      }
      const phone = async (l: Login) => {
        await until('session', async () => l.id !== undefined, 20_000).catch(() => {});
        if (!l.id) return;
        const openid = `o_faults_${Math.floor(Math.random() * 500)}`;
        const pick = () => phones[Math.floor(Math.random() * phones.length)]!;
        let scan;
        for (;;) {
          const code = await retry(() => sim.postJson('/__sim/phone/login', { appid, openid }), stopAt);
          scan = await retry(() => pick().postJson('/v1/mp/scan', { scene: l.id, code: code.json.code }), stopAt, [0, 502, 503]);
          if (scan.status !== 502 || Date.now() > stopAt) break;
        }
        if (scan.status !== 200) return;
        const confirmVia = () => (doomedClient && scenario === 'kill' && Math.random() < 0.5 ? doomedClient : pick());
        const confirm = await retry(() => confirmVia().postJson('/v1/mp/confirm', { scene: l.id, ticket: scan.json.ticket }), stopAt);
        if (confirm.status === 200) l.confirmed = true;
      };

      // The fault, on its own timeline.
      const fault = (async () => {
        await sleep(Math.max(0, faultAt - Date.now()));
        switch (scenario) {
          case 'kill':
            // A third instance that exits right after its first confirm's Postgres write (the
            // worst moment); respawned while the fault lasts.
            while (Date.now() < faultEnd) {
              doomed = instance(2, { FAULT_EXIT_AFTER_LOGIN_RECORD: 'true' });
              await until('doomed instance', async () => (await fetch(`http://127.0.0.1:${p3}/readyz`)).ok).catch(() => {});
              doomedClient = createHttpClient(`http://127.0.0.1:${p3}`, 16);
              await new Promise((ok) => doomed!.once('exit', ok));
              doomedClient.close();
              doomedClient = null;
              kills++;
            }
            break;
          case 'redis-resets':
            while (Date.now() < faultEnd) {
              await redis.killClients();
              await sleep(2000);
            }
            break;
          case 'redis-down-aof':
          case 'redis-down-empty':
            await redis.down(scenario === 'redis-down-empty');
            await sleep(Math.max(0, faultEnd - Date.now()));
            await redis.up();
            break;
          case 'pg-terminate':
            while (Date.now() < faultEnd) {
              await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${database} and pid <> pg_backend_pid() and backend_start < now() - interval '1 second'`;
              await sleep(500);
            }
            break;
          case 'none':
            break;
        }
      })();

      for (let n = 0; Date.now() < stopStarting; n++) {
        const due = t0 + (n * 1000) / rate;
        if (due > Date.now()) await sleep(due - Date.now());
        const l: Login = { id: undefined, startedAt: Date.now(), confirmed: false, successes: 0, tokenAt: undefined, heardAt: 0, idle: false };
        logins.push(l);
        tasks.push(browse(urls, key, l, stopAt), phone(l));
      }
      await fault;
      const recoveredAt = Math.max(Date.now(), faultEnd);
      await Promise.all(tasks);
      // The webhook worker delivers within a few seconds; give it until they stop arriving.
      let seen = -1;
      while (seen !== webhooks.size) {
        seen = webhooks.size;
        await sleep(2000);
      }

      const ids = logins.flatMap((l) => (l.id ? [l.id] : []));
      const events = await db`select session_id, count(*)::int as n from login_events where status = 'succeeded' and session_id in ${db(ids)} group by session_id`;
      const messages = await db`select payload->'data'->>'sessionId' as session_id, count(*)::int as n from webhook_messages where type = 'login.succeeded' and payload->'data'->>'sessionId' in ${db(ids)} group by 1`;
      const recorded = new Map(events.map((e) => [String(e.session_id), Number(e.n)]));
      const msgCount = new Map(messages.map((e) => [String(e.session_id), Number(e.n)]));
      const active = logins.filter((l) => !l.idle);
      const started = active.filter((l) => l.id).length;
      const confirmed = active.filter((l) => l.confirmed).length;
      const delivered = active.filter((l) => l.successes > 0).length;
      const hooksDelivered = active.reduce((s, l) => s + (l.id ? (webhooks.get(l.id)?.size ?? 0) : 0), 0);
      const duplicates = active.reduce((s, l) => s + Math.max(0, l.successes - 1) + Math.max(0, (recorded.get(l.id ?? '') ?? 0) - 1) + Math.max(0, (msgCount.get(l.id ?? '') ?? 0) - 1), 0);
      const ghost = active.filter((l) => l.id && recorded.has(l.id) && l.successes === 0).length;
      const lost = active.filter((l) => l.confirmed && l.successes === 0).length;
      // Who was waiting when the fault ended: confirmed logins without their token yet, and (when
      // Redis lost everything) the idle browsers, which must get a fresh code unasked.
      const waiting = logins.filter((l) => l.startedAt < faultEnd && (l.idle ? scenario === 'redis-down-empty' : l.confirmed && !(l.tokenAt && l.tokenAt < recoveredAt)));
      const heard = waiting.map((l) => (l.idle ? l.heardAt : (l.tokenAt ?? 0)) - recoveredAt);
      const silent = heard.filter((d) => d < 0).length;
      const recover = scenario === 'none' || !waiting.length ? '-'
        : `${(Math.max(0, ...heard) / 1000).toFixed(1)} s for ${waiting.length} waiting${silent ? `, ${silent} never told` : ''}`;
      if (process.env.FAULTS_DEBUG) for (const l of active.filter((x) => x.confirmed && x.successes === 0)) console.log('LOST', l.id, l.startedAt - t0, l.heardAt - t0, recorded.get(l.id ?? ''));
      const label = scenario === 'kill' ? `kill (${kills} instance${kills === 1 ? '' : 's'} killed after the login write)` : scenario;
      console.log(`| ${label} | ${started} | ${confirmed} | ${delivered} | ${hooksDelivered} | ${duplicates} | ${ghost} | ${lost} | ${recover} |`);
      const alive = servers.filter((s) => s.exitCode === null).length;
      if (alive < 2) console.log(`|   (an API instance exited: ${2 - alive}) |`);
    }
    await db.end();
    for (const c of [...phones, sim, api]) c.close();
  } finally {
    await cleanup();
  }
}

await main();
