import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { tenants } from '../../server/db/schema/index';
import { createAppsStore } from '../../server/features/apps/store';
import type { WebhooksTuning } from '../../server/features/webhooks/index';
import { createOutbox, type WebhookOutbox } from '../../server/features/webhooks/outbox';
import { createDeliveryQueue } from '../../server/features/webhooks/queue';
import { newId } from '../../server/lib/ids';
import type { RunningServer } from '../../server/main';
import { createTestEnv, type TestEnv } from '../helpers/server';

/** Retry waits short enough for a test: 8 attempts over well under a second, breaker pauses as short. */
export const FAST_SCHEDULE: WebhooksTuning = {
  scheduleMs: [50, 80, 100, 120, 150, 150, 150],
  breaker: { pauseMs: 50, maxPauseMs: 200 },
  timeoutMs: 3_000,
  leaseMs: 5_000,
  sweepIntervalMs: 200,
};

export interface WebhookEnv extends Omit<TestEnv, 'start'> {
  start(tuning?: WebhooksTuning, env?: Record<string, string>): Promise<RunningServer>;
}

/** createTestEnv whose servers get webhook tuning (a short retry schedule by default). */
export async function createWebhookEnv(label: string): Promise<WebhookEnv> {
  const env = await createTestEnv(label);
  return { ...env, start: (tuning = FAST_SCHEDULE, vars = {}) => env.start(vars, { webhooks: tuning }) };
}

/** A tenant of its own with one app: test keys always, live keys too (fake WeChat credentials). */
export async function createTenantApp(server: RunningServer, name = 'Shop') {
  const tenantId = newId('ten');
  await server.core.db.insert(tenants).values({ id: tenantId, name });
  const apps = createAppsStore(server.core);
  const { app, keys } = await apps.createApp({
    tenantId, name, allowedOrigins: ['https://shop.example.com'], wechatAppId: 'wx0123456789abcdef', wechatSecret: 'f'.repeat(32),
  });
  return { tenantId, app, test: keys.test.secret, live: keys.live!.secret };
}

/** The outbox as the login flow uses it, over a running server's database and queue. */
export function outboxOf(server: RunningServer): WebhookOutbox {
  return createOutbox(createDeliveryQueue(server.core));
}

export interface Received {
  id: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The request path: endpoints of one receiver differ by path. */
  path: string;
  /** Which of the receiver's secrets verified it with the `standardwebhooks` library. */
  verifiedWith: string[];
  /** What it was answered; 0 while the answer is held back, or for ever when it hangs. */
  status: number;
  at: number;
}

type Answer = number | 'hang' | { status: number; headers?: Record<string, string> };
/** What the receiver answers; a promise holds the answer back until it settles. */
export type Behaviour = (req: { id: string; n: number }) => Answer | Promise<Answer>;

/**
 * A tenant backend: verifies every request with the npm `standardwebhooks` library (not our
 * code) against each secret it knows, and answers what `behaviour` says.
 */
export class Receiver {
  readonly received: Received[] = [];
  secrets: string[] = [];
  behaviour: Behaviour = () => 200;
  private server: Server;
  private hung: Array<() => void> = [];
  url = '';
  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const id = String(req.headers['webhook-id'] ?? '');
        const verifiedWith = this.secrets.filter((s) => {
          try {
            new Webhook(s).verify(body, req.headers as Record<string, string>);
            return true;
          } catch {
            return false;
          }
        });
        const n = this.received.filter((r) => r.id === id).length;
        const entry: Received = { id, headers: req.headers, body, path: req.url ?? '', verifiedWith, status: 0, at: Date.now() };
        this.received.push(entry);
        const answer = await this.behaviour({ id, n });
        const status = answer === 'hang' ? 0 : typeof answer === 'number' ? answer : answer.status;
        entry.status = status;
        if (answer === 'hang') {
          this.hung.push(() => res.destroy());
          return;
        }
        const headers = typeof answer === 'object' ? answer.headers ?? {} : {};
        res.writeHead(status, { 'content-type': 'text/plain', ...headers });
        res.end(status < 300 ? 'ok' : `nope ${status}`);
      });
    });
  }
  async listen(): Promise<this> {
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }
  async close(): Promise<void> {
    for (const h of this.hung.splice(0)) h();
    this.server.closeAllConnections();
    await new Promise((ok) => this.server.close(ok));
  }
}

/** Receivers a test file opens as it goes; close them in afterAll before the server, so hung requests end first. */
export function receiverPool() {
  const open: Receiver[] = [];
  return {
    async receiver(): Promise<Receiver> {
      const r = await new Receiver().listen();
      open.push(r);
      return r;
    },
    closeAll: () => Promise.allSettled(open.map((r) => r.close())),
  };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function api(server: RunningServer, key: string) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
  };
}

export function loginSucceeded(userId: string, sessionId: string) {
  return {
    userId, openid: `o_${userId}`, unionid: `u_${userId}`, nickname: 'Ada', avatarUrl: 'https://cdn.example.com/a.png',
    origin: 'https://shop.example.com', browser: 'Chrome 126', os: 'macOS 14', ip: '203.0.113.7', sessionId, time: new Date().toISOString(),
  };
}
