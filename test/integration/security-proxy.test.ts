/**
 * Client IPs behind a proxy (issue 11 item 16): with `TRUST_PROXY` naming the proxy, the
 * address it reports in X-Forwarded-For is the client's, for HTTP routes and the WebSocket
 * upgrade alike; a header sent by a peer that is not a trusted proxy is ignored, so nobody can
 * pick the address their limits are counted under.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../server/features/console/auth/limiter';
import type { RunningServer } from '../../server/main';
import { createTestApp, postJson, testScan, TEST_ORIGIN } from '../helpers/login';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { ConsoleClient } from './console-client';

let env: TestEnv;
/** Trusts loopback (the default): the test client is the proxy. */
let behindProxy: RunningServer;
/** Trusts only 10.0.0.1: the test client on loopback is an untrusted peer. */
let direct: RunningServer;
let keys: { publishable: string; secret: string };

beforeAll(async () => {
  env = await createTestEnv('secproxy');
  behindProxy = await env.start({ TRUST_PROXY: 'loopback' });
  direct = await env.start({ TRUST_PROXY: '10.0.0.1' });
  keys = (await createTestApp(behindProxy)).keys.test;
});
afterAll(async () => {
  await env?.dispose();
});

/** The address a session was opened from, as the phone is shown it on scan. */
async function ipSeenBy(server: RunningServer, sessionId: string): Promise<string> {
  const scan = await testScan(server.url, keys.secret, sessionId);
  expect(scan.status).toBe(200);
  return String(scan.body.request.ip);
}

async function httpSession(server: RunningServer, forwardedFor?: string): Promise<string> {
  const r = await postJson(`${server.url}/v1/sessions?key=${keys.publishable}`, {}, { origin: TEST_ORIGIN, ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) });
  expect(r.status).toBe(201);
  return String(r.body.session);
}

async function socketSession(server: RunningServer, forwardedFor?: string): Promise<string> {
  const url = `${server.url.replace(/^http/, 'ws')}/v1/ws?key=${keys.publishable}`;
  const ws = new WebSocket(url, { headers: { origin: TEST_ORIGIN, ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) } });
  try {
    const frame = await new Promise<{ type: string; session?: string }>((ok, fail) => {
      ws.once('message', (data) => ok(JSON.parse(String(data))));
      ws.once('error', fail);
      ws.once('close', (code) => fail(new Error(`closed ${code}`)));
    });
    expect(frame.type).toBe('session');
    return String(frame.session);
  } finally {
    ws.close();
  }
}

describe.each([
  ['HTTP', httpSession],
  ['WebSocket', socketSession],
] as const)('client IP over %s', (_name, open) => {
  it('behind a trusted proxy: the address the proxy reports', async () => {
    expect(await ipSeenBy(behindProxy, await open(behindProxy, '203.0.113.9'))).toBe('203.0.113.9');
    // The proxy appends the real client to whatever the client claimed: the claim is ignored.
    expect(await ipSeenBy(behindProxy, await open(behindProxy, '6.6.6.6, 203.0.113.10'))).toBe('203.0.113.10');
    expect(await ipSeenBy(behindProxy, await open(behindProxy))).toBe('127.0.0.1');
  });

  it('from an untrusted peer: X-Forwarded-For is ignored', async () => {
    expect(await ipSeenBy(direct, await open(direct, '203.0.113.11'))).toBe('127.0.0.1');
  });
});

describe('limits follow the real address', () => {
  it('a peer rotating a spoofed X-Forwarded-For still hits the console sign-up limit under its own address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i <= LIMITS.signUpPerIp.points; i++) {
      statuses.push((await new ConsoleClient(direct.url, { ip: `198.18.0.${i + 1}` }).post('/auth/signup', { email: 'not-an-email' })).status);
    }
    expect(statuses.slice(0, -1).every((x) => x === 400)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });
});
