import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { createTestEnv, TEST_MASTER_KEY, type TestEnv } from '../helpers/server';
import { testRedisClient, testRedisEnv } from '../helpers/redis';
import { createTestApp, openSocket, postJson, testScan, TEST_ORIGIN } from '../helpers/login';

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`server process exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server process did not become ready');
}

let env: TestEnv;
let a: RunningServer;
let b: { url: string; child: ChildProcess };
let app: Awaited<ReturnType<typeof createTestApp>>;

/** A second, separate OS process on the same Postgres and Redis, as a second instance behind a load balancer. */
async function startProcess(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: {
      ...process.env, NODE_ENV: 'test', PORT: String(port), PUBLIC_URL: url, DATABASE_URL: env.databaseUrl, ...testRedisEnv(),
      REDIS_PREFIX: env.redisPrefix, MASTER_KEY: TEST_MASTER_KEY, LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitReady(url, child);
  return { url, child };
}

beforeAll(async () => {
  env = await createTestEnv('multi');
  a = await env.start();
  b = await startProcess();
  app = await createTestApp(a);
}, 60_000);

afterAll(async () => {
  if (b?.child.exitCode === null) {
    b.child.kill('SIGTERM');
    await new Promise((r) => b.child.once('exit', r));
  }
  await env?.dispose();
});

describe('two server processes sharing Postgres and Redis', () => {
  it('the socket on one instance, the mini-program calls on the other: the token arrives', async () => {
    const sock = await openSocket(a.url, app.keys.test.publishable);
    const s = await sock.next('session');
    const scan = await testScan(b.url, app.keys.test.secret, String(s.session), 'o_cross_instance');
    expect(scan.status).toBe(200);
    await sock.next('scanned');
    const confirm = await postJson(`${b.url}/v1/mp/confirm`, { scene: s.session, ticket: scan.body.ticket });
    expect(confirm.status).toBe(200);
    const success = await sock.next('success');
    expect((success.user as { openid: string }).openid).toBe('o_cross_instance');
  });

  it('the code image opened on one instance is served by the other', async () => {
    const sock = await openSocket(a.url, app.keys.test.publishable);
    const s = await sock.next('session');
    const img = await fetch(String(s.qr).replace(a.url, b.url));
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toMatch(/^image\//);
    sock.close();
  });

  it('a browser that drops off one instance resumes on the other and still gets its events', async () => {
    const sock = await openSocket(a.url, app.keys.test.publishable);
    const s = await sock.next('session');
    sock.ws.terminate();
    const back = await openSocket(b.url, app.keys.test.publishable, { session: String(s.session) });
    back.send({ type: 'resume', session: s.session, secret: s.secret });
    expect(await back.next('session')).toMatchObject({ session: s.session });
    // Events now route to instance b, wherever the phone's calls land.
    const scan = await testScan(a.url, app.keys.test.secret, String(s.session));
    await back.next('scanned');
    await postJson(`${a.url}/v1/mp/confirm`, { scene: s.session, ticket: scan.body.ticket });
    expect((await back.next('success')).token).toBeTruthy();
  });

  it('long-polling on one instance sees a confirmation made on the other', async () => {
    const opened = await fetch(`${a.url}/v1/sessions?key=${app.keys.test.publishable}`, { method: 'POST', headers: { origin: TEST_ORIGIN } });
    const s = (await opened.json()) as Record<string, string>;
    const scan = await testScan(a.url, app.keys.test.secret, s.session!);
    let answered = false;
    const waiting = fetch(`${b.url}/v1/sessions/${s.session}/events?after=scanned`, { headers: { authorization: `Bearer ${s.secret}` } })
      .then((r) => r.json())
      .finally(() => (answered = true));
    // The poll is held by the other process once the session routes its events there.
    const redis = testRedisClient();
    try {
      const key = `${env.redisPrefix}:sess:{${s.session}}`;
      for (;;) {
        const holder = await redis.hget(key, 'holder');
        if (holder && holder !== a.core.instanceId) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      redis.disconnect();
    }
    expect(answered).toBe(false);
    await postJson(`${a.url}/v1/mp/confirm`, { scene: s.session, ticket: scan.body.ticket });
    // Still waiting when the confirm was made on `a`: the answer is the event that crossed to `b`.
    expect(await waiting).toMatchObject({ type: 'success' });
  });

  it('SIGTERM closes the process cleanly (sockets closed with 1001, exit code 0)', async () => {
    const extra = await startProcess();
    const sock = await openSocket(extra.url, app.keys.test.publishable);
    await sock.next('session');
    extra.child.kill('SIGTERM');
    expect(await sock.closed).toBe(1001);
    const code = await new Promise((r) => extra.child.once('exit', r));
    expect(code).toBe(0);
  });
});
