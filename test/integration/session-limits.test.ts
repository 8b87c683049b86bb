import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { createTestApp, TestSocket, TEST_ORIGIN } from '../helpers/login';

let env: TestEnv;
let server: RunningServer;
let key: string;

beforeAll(async () => {
  env = await createTestEnv('limits');
  server = await env.start({ SESSION_RATE_LIMIT: '3' });
  key = (await createTestApp(server)).keys.test.publishable;
});
afterAll(async () => {
  await env?.dispose();
});

/** A widget socket from `ip` (the server trusts loopback proxies, so X-Forwarded-For is the client). */
async function socketFrom(ip: string): Promise<TestSocket> {
  const url = `${server.url.replace(/^http/, 'ws')}/v1/ws?key=${key}`;
  const ws = new WebSocket(url, { headers: { origin: TEST_ORIGIN, 'x-forwarded-for': ip } });
  const sock = new TestSocket(ws);
  await new Promise<void>((ok, fail) => {
    ws.once('open', () => ok());
    ws.once('error', fail);
  });
  return sock;
}

it('refresh frames spend the same per-IP session limit as opening a socket; another IP still gets in', async () => {
  const sock = await socketFrom('198.51.100.7');
  await sock.next('session'); // 1 of 3 (the socket's own)
  sock.send({ type: 'refresh' });
  await sock.next('session'); // 2
  sock.send({ type: 'refresh' });
  await sock.next('session'); // 3
  sock.send({ type: 'refresh' });
  expect(await sock.next('error')).toMatchObject({ code: 'rate_limited' });
  sock.send({ type: 'refresh' });
  expect(await sock.next('error')).toMatchObject({ code: 'rate_limited' });

  // The polling API's POST /v1/sessions counts against the same budget.
  const polled = await fetch(`${server.url}/v1/sessions?key=${key}`, { method: 'POST', headers: { origin: TEST_ORIGIN, 'x-forwarded-for': '198.51.100.7' } });
  expect(polled.status).toBe(429);

  const other = await socketFrom('203.0.113.9');
  expect(await other.next('session')).toMatchObject({ type: 'session' });
  sock.close();
  other.close();
});
