import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import type { RunningServer } from '../../server/main';
import { createAppsStore, type CreateAppInput } from '../../server/features/apps/store';

export const TEST_ORIGIN = 'https://shop.example.com';

/** A tenant and an app with test keys (and live keys when WeChat credentials are given). */
export async function createTestApp(server: RunningServer, input: Partial<CreateAppInput> = {}) {
  const apps = createAppsStore(server.core);
  const tenantId = input.tenantId ?? (await apps.ensureDefaultTenant(`Tenant ${Math.random().toString(36).slice(2, 8)}`));
  return apps.createApp({ name: 'Test Shop', allowedOrigins: [TEST_ORIGIN], ...input, tenantId });
}

/** The deterministic sandbox AppID the mounted simulator knows this app by. */
export function sandboxAppIdOf(appId: string): string {
  return 'wx' + createHash('sha256').update(`sandbox:${appId}`).digest('hex').slice(0, 16);
}

export type AnyFrame = { type: string; [k: string]: unknown };

/** A WebSocket as the widget opens it, with a queue of received frames. */
export class TestSocket {
  readonly frames: AnyFrame[] = [];
  private waiters: Array<() => void> = [];
  closeCode: number | undefined;
  readonly closed: Promise<number>;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as AnyFrame);
      this.wake();
    });
    this.closed = new Promise((ok) => ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
      ok(code);
    }));
  }
  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }
  /** The next frame not yet taken (waits for it), optionally checking its type. */
  async next(type?: string, timeoutMs = 10_000): Promise<AnyFrame> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode}) while waiting for ${type ?? 'a frame'}`);
      if (Date.now() > deadline) throw new Error(`no ${type ?? 'frame'} within ${timeoutMs} ms`);
      await new Promise<void>((ok) => {
        const t = setTimeout(ok, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => { clearTimeout(t); ok(); });
      });
    }
    const f = this.frames.shift()!;
    if (type && f.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(f)}`);
    return f;
  }
  send(frame: unknown) {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }
  close() {
    this.ws.close();
  }
}

export async function openSocket(baseUrl: string, key: string, opts: { origin?: string; session?: string; userAgent?: string } = {}): Promise<TestSocket> {
  const url = new URL('/v1/ws', baseUrl.replace(/^http/, 'ws'));
  url.searchParams.set('key', key);
  if (opts.session) url.searchParams.set('session', opts.session);
  const ws = new WebSocket(url, { headers: { origin: opts.origin ?? TEST_ORIGIN, 'user-agent': opts.userAgent ?? 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36' } });
  const sock = new TestSocket(ws);
  await new Promise<void>((ok, fail) => {
    ws.once('open', () => ok());
    ws.once('error', fail);
  });
  return sock;
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, any> };
}

/** Plays the phone for a test-mode session: the Stripe-like test helper, as a site owner would. */
export function testScan(baseUrl: string, secretKey: string, sessionId: string, openid?: string) {
  return postJson(`${baseUrl}/v1/test_helpers/sessions/${sessionId}/scan`, openid ? { openid } : {}, { authorization: `Bearer ${secretKey}` });
}

/** One whole sandbox login as a site's page and phone make it: the socket's `success` frame. */
export async function loginInSandbox(baseUrl: string, keys: { publishable: string; secret: string }, openid?: string) {
  const sock = await openSocket(baseUrl, keys.publishable);
  try {
    const session = await sock.next('session');
    const scan = await testScan(baseUrl, keys.secret, String(session.session), openid);
    if (scan.status !== 200) throw new Error(`test scan answered ${scan.status}: ${JSON.stringify(scan.body)}`);
    await sock.next('scanned');
    const confirm = await postJson(`${baseUrl}/v1/mp/confirm`, { scene: session.session, ticket: scan.body.ticket });
    if (confirm.status !== 200) throw new Error(`confirm answered ${confirm.status}: ${JSON.stringify(confirm.body)}`);
    const success = await sock.next('success');
    return { session: String(session.session), token: String(success.token), user: success.user as { id: string; openid: string } };
  } finally {
    sock.close();
  }
}
