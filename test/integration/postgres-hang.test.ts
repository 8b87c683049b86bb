/**
 * A Postgres that hangs (a network partition, a stopped VM: connections open, nothing answers)
 * rather than refuses: the server reaches it through a TCP relay of the test's own that stops
 * passing bytes on demand, holding them until it resumes. /readyz must still answer within its
 * budget, and say which store is down, and the server must be ready again once Postgres is.
 * Every other request gets its deadline's 503 `unavailable` with a Retry-After instead of no
 * answer (issue 12 saw GET /v1/usage silent after 40 s).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../server/db/client';
import type { RunningServer } from '../../server/main';
import { createTenantApp } from './webhooks-support';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { waitFor } from './webhooks-support';

/** Passes bytes between clients and Postgres; `hang()` holds them (in order) until `resume()`. */
function startRelay(target: URL) {
  let hung = false;
  const held: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const forward = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => (hung ? held.push(() => to.write(chunk)) : to.write(chunk)));
    from.on('close', () => to.destroy());
    from.on('error', () => to.destroy());
  };
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  return {
    listen: () => new Promise<number>((ok) => server.listen(0, '127.0.0.1', () => ok((server.address() as { port: number }).port))),
    hang: () => void (hung = true),
    resume: () => {
      hung = false;
      for (const send of held.splice(0)) send();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/** Short, so the test is; the default is 15 s. */
const DEADLINE_MS = 1_500;

let env: TestEnv;
let relay: ReturnType<typeof startRelay>;
let server: RunningServer;

beforeAll(async () => {
  env = await createTestEnv('pghang');
  const direct = new URL(env.databaseUrl);
  relay = startRelay(direct);
  const port = await relay.listen();
  const viaRelay = new URL(env.databaseUrl);
  viaRelay.hostname = '127.0.0.1';
  viaRelay.port = String(port);
  server = await env.start({ DATABASE_URL: viaRelay.toString(), REQUEST_DEADLINE_MS: String(DEADLINE_MS) });
});
afterAll(async () => {
  relay?.resume();
  await env?.dispose();
  await relay?.close();
});

async function readyz() {
  // The bound only keeps a broken server from stalling the suite; the budget is 1 s.
  const res = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(15_000) });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

describe('a Postgres that hangs', () => {
  it('makes /readyz answer 503 postgres: down within its budget, and ready again once Postgres answers', async () => {
    // Ready first (a loaded machine may take a moment), so the 503 below is the hang's doing.
    expect(await waitFor('ready', async () => {
      const r = await readyz();
      return r.status === 200 ? r : null;
    })).toEqual({ status: 200, body: { postgres: 'ok', redis: 'ok' } });
    relay.hang();
    expect(await readyz()).toEqual({ status: 503, body: { postgres: 'down', redis: 'ok' } });
    // Asked again while still hung: still an answer, not a pile-up.
    expect((await readyz()).status).toBe(503);
    relay.resume();
    await waitFor('ready again', async () => (await readyz()).status === 200);
  }, 60_000);

  it('answers a request that needs it 503 unavailable with Retry-After at its deadline, and serves it again once Postgres answers', async () => {
    const t = await createTenantApp(server);
    const usage = async () => {
      const res = await fetch(`${server.url}/v1/usage`, { headers: { authorization: `Bearer ${t.test}` }, signal: AbortSignal.timeout(30_000) });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { error?: { code: string; requestId: string } } };
    };
    expect((await usage()).status).toBe(200);
    // Every query is bounded on Postgres's side too (DATABASE_STATEMENT_TIMEOUT_MS's default).
    expect(rowsOf(await server.core.db.execute(sql`show statement_timeout`))).toEqual([{ statement_timeout: '10s' }]);
    relay.hang();
    // Several at once: each gets its own answer, none waits behind another's hung query.
    const hung = await Promise.all([usage(), usage(), usage()]);
    for (const r of hung) {
      expect(r.status).toBe(503);
      expect(r.retryAfter).toMatch(/^\d+$/);
      expect(r.body.error?.code).toBe('unavailable');
      expect(r.body.error?.requestId).toBeTruthy();
    }
    relay.resume();
    await waitFor('served again', async () => (await usage()).status === 200);
  }, 60_000);

  it('makes a creation cut short by its deadline safe to retry with its Idempotency-Key: one endpoint however far the first got', async () => {
    const t = await createTenantApp(server);
    const create = async () => {
      const res = await fetch(`${server.url}/v1/webhook_endpoints`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.test}`, 'content-type': 'application/json', 'idempotency-key': 'deploy-42' },
        body: JSON.stringify({ url: 'http://127.0.0.1:9/hook' }),
        signal: AbortSignal.timeout(30_000),
      });
      return { status: res.status, replayed: res.headers.get('idempotent-replayed'), body: (await res.json()) as { id?: string } };
    };
    // Whatever the first request had sent (key lookup, claim, creation) is held, then goes through on resume.
    relay.hang();
    const cut = await create();
    expect(cut.status).toBe(503);
    relay.resume();
    // Until the first request's held statements are done, a retry may be told it is still in
    // flight (409); then it gets the first's answer, or runs in its place if the first never claimed the key.
    const retried = await waitFor('the retry answered', async () => {
      const r = await create();
      return r.status === 409 ? null : r;
    });
    expect(retried.status).toBe(201);
    const list = await fetch(`${server.url}/v1/webhook_endpoints`, { headers: { authorization: `Bearer ${t.test}` } });
    const endpoints = ((await list.json()) as { data: Array<{ id: string }> }).data;
    expect(endpoints.map((e) => e.id)).toEqual([retried.body.id]);
  }, 60_000);
});
