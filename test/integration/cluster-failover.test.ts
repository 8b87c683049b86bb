import { spawn, type ChildProcess } from 'node:child_process';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { createTestEnv, TEST_MASTER_KEY, type TestEnv } from '../helpers/server';
import { freePort } from '../helpers/private-redis';
import { startRedisCluster, type TestCluster } from '../helpers/redis-cluster';
import { createTestApp, openSocket, postJson, testScan, type AnyFrame, type TestSocket } from '../helpers/login';

/**
 * kill -9 of a Redis Cluster master while logins are in flight on two instances (one in this
 * process, one an OS process of its own). The visitor's page and phone retry as the widget and
 * the mini-program do: a refused call (503) is tried again, a page told its session is gone
 * opens a new one, a socket that drops resumes. Every login must finish exactly once.
 */

let cluster: TestCluster;
let env: TestEnv;
let a: RunningServer;
let b: { url: string; child: ChildProcess };
let app: Awaited<ReturnType<typeof createTestApp>>;

async function startProcess(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { REDIS_URL: _unset, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: {
      ...inherited, NODE_ENV: 'test', PORT: String(port), PUBLIC_URL: url, DATABASE_URL: env.databaseUrl, REDIS_CLUSTER_NODES: cluster.nodes,
      REDIS_PREFIX: env.redisPrefix, MASTER_KEY: TEST_MASTER_KEY, LOG_LEVEL: 'error', SESSION_RESYNC_MS: '2000', CONFIRM_LEASE_MS: '3000',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server process exited with ${child.exitCode}`);
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) return { url, child };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server process did not become ready');
}

beforeAll(async () => {
  cluster = await startRedisCluster();
  env = await createTestEnv('failover');
  a = await env.start({ REDIS_CLUSTER_NODES: cluster.nodes, SESSION_RESYNC_MS: '2000', CONFIRM_LEASE_MS: '3000' });
  b = await startProcess();
  app = await createTestApp(a);
}, 90_000);

afterAll(async () => {
  if (b?.child.exitCode === null) {
    b.child.kill('SIGTERM');
    await new Promise((r) => b.child.once('exit', r));
  }
  await env?.dispose();
  await cluster?.dispose();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A call the phone makes, tried again while the service answers 503 (or cannot be reached). */
async function phoneCall(call: () => Promise<{ status: number; body: Record<string, any> }>, deadline: number) {
  for (;;) {
    const r = await call().catch(() => ({ status: 0, body: {} as Record<string, any> }));
    if ((r.status !== 503 && r.status !== 0) || Date.now() > deadline) return r;
    await sleep(200);
  }
}

/** The next frame that is not a heartbeat, or null when the socket closed or nothing came in time. */
async function frame(sock: TestSocket, ms: number): Promise<AnyFrame | null> {
  return sock.next(undefined, ms).catch(() => null);
}

interface Outcome {
  /** Every session the page opened, in order (a lost one is replaced by a new one). */
  sessions: string[];
  /** success frames (their tokens) received, per session. */
  tokens: Map<string, string[]>;
  /** Sessions whose confirm the phone heard 200 for. */
  confirmed: Set<string>;
}

/** One visitor: page on `pageUrl`, phone on `phoneUrl`, retrying until logged in or the deadline. */
async function visitor(pageUrl: string, phoneUrl: string, openid: string, deadline: number): Promise<Outcome> {
  const out: Outcome = { sessions: [], tokens: new Map(), confirmed: new Set() };
  while (Date.now() < deadline) {
    const sock = await openSocket(pageUrl, app.keys.test.publishable).catch(() => null);
    if (!sock) {
      await sleep(200);
      continue;
    }
    try {
      const opened = await frame(sock, 5_000);
      if (opened?.type !== 'session') {
        await sleep(200);
        continue;
      }
      const id = String(opened.session);
      out.sessions.push(id);
      out.tokens.set(id, []);
      const scan = await phoneCall(() => testScan(phoneUrl, app.keys.test.secret, id, openid), deadline);
      if (scan.status !== 200) continue;
      const confirm = await phoneCall(() => postJson(`${phoneUrl}/v1/mp/confirm`, { scene: id, ticket: scan.body.ticket }), deadline);
      if (confirm.status === 200) out.confirmed.add(id);
      // Whatever the phone heard, the page waits for its answer; on a dropped socket it resumes.
      let current = sock;
      while (Date.now() < deadline) {
        const f = await frame(current, 20_000);
        if (f?.type === 'success') {
          out.tokens.get(id)!.push(String(f.token));
          // Anything more on this socket (a second success) would show as a duplicate.
          const more = await frame(current, 300);
          if (more?.type === 'success') out.tokens.get(id)!.push(String(more.token));
          return out;
        }
        if (f && f.type !== 'scanned' && f.type !== 'confirming') break;
        if (!f) {
          current.close();
          current = await openSocket(pageUrl, app.keys.test.publishable, { session: id });
          current.send({ type: 'resume', session: id, secret: opened.secret });
          const back = await frame(current, 5_000);
          if (back?.type === 'success') {
            out.tokens.get(id)!.push(String(back.token));
            return out;
          }
          if (back?.type !== 'session') break;
        }
      }
    } finally {
      sock.close();
    }
  }
  return out;
}

describe('a master killed while logins are in flight', () => {
  it('every login finishes exactly once: no ghost, no lost or duplicate token, no process exit', async () => {
    const VISITORS = 30;
    const deadline = Date.now() + 90_000;
    const masters = await cluster.masters();
    expect(masters.length).toBe(3);
    const runs: Array<Promise<Outcome>> = [];
    for (let i = 0; i < VISITORS; i++) {
      // Page and phone on different instances for half of them.
      runs.push(visitor(i % 2 ? a.url : b.url, i % 3 ? a.url : b.url, `o_failover_${i}`, deadline));
      // Kill a master a third of the way in, while the rest are still arriving and in flight.
      if (i === 10) await cluster.kill(masters[0]!);
      await sleep(100);
    }
    const outcomes = await Promise.all(runs);
    const opened = outcomes.reduce((n, o) => n + o.sessions.length, 0);
    console.log(`failover: ${VISITORS} visitors logged in through ${opened} sessions (${opened - VISITORS} reopened after the kill)`);
    await cluster.healthy();
    expect(await cluster.masters()).not.toContain(masters[0]);

    // Every visitor logged in, with one token, in one session.
    const loggedIn = outcomes.filter((o) => [...o.tokens.values()].some((t) => t.length > 0));
    expect(loggedIn.length).toBe(VISITORS);
    const allTokens = outcomes.flatMap((o) => [...o.tokens.values()].flat());
    expect(allTokens.length).toBe(VISITORS);
    expect(new Set(allTokens).size).toBe(VISITORS);
    // No lost token: every confirm the phone was told succeeded reached its page.
    for (const o of outcomes) for (const id of o.confirmed) expect(o.tokens.get(id)!.length).toBe(1);
    // No ghost: every login Postgres recorded is one a page received.
    const sql = postgres(env.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql<Array<{ session_id: string }>>`select session_id from login_events where app_id = ${app.app.id} and status = 'succeeded'`;
      const received = new Set(outcomes.flatMap((o) => [...o.tokens].filter(([, t]) => t.length).map(([id]) => id)));
      const failoverSessions = new Set(outcomes.flatMap((o) => o.sessions));
      const recorded = rows.map((r) => r.session_id).filter((id) => failoverSessions.has(id));
      expect(recorded.sort()).toEqual([...received].sort());
    } finally {
      await sql.end();
    }
    // Neither instance went away.
    expect(b.child.exitCode).toBeNull();
    expect((await fetch(`${b.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${a.url}/readyz`)).status).toBe(200);
  }, 150_000);
});
