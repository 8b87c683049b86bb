import { createPublicKey } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apps as appsTable, endUsers, loginEvents, usageCounters, webhookMessages } from '../../server/db/schema/index';
import { rollUpUsage } from '../../server/features/usage/index';
import type { RunningServer } from '../../server/main';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { createTestApp, openSocket, postJson, sandboxAppIdOf, testScan, TEST_ORIGIN } from '../helpers/login';

let env: TestEnv;
let server: RunningServer;
let app: Awaited<ReturnType<typeof createTestApp>>;

beforeAll(async () => {
  env = await createTestEnv('login');
  server = await env.start();
  app = await createTestApp(server);
});
afterAll(() => env.dispose());

const pk = () => app.keys.test.publishable;
const sk = () => app.keys.test.secret;

async function verifyWithJwks(token: string, appId: string) {
  const jwks = (await (await fetch(`${server.url}/apps/${appId}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, string>> };
  const { header } = jwt.decode(token, { complete: true })!;
  const jwk = jwks.keys.find((k) => k.kid === header.kid)!;
  return jwt.verify(token, createPublicKey({ key: jwk, format: 'jwk' }), { algorithms: ['ES256'], audience: appId, issuer: `${server.core.config.publicUrl}/apps/${appId}` }) as jwt.JwtPayload;
}

describe('the whole loop, as the widget and the mini-program make it', () => {
  it('scan → scanned → confirm → success with a verifiable token, recorded in Postgres', async () => {
    const sock = await openSocket(server.url, pk());
    const session = await sock.next('session');
    expect(session.session).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(String(session.secret).length).toBeGreaterThanOrEqual(43);
    expect(session.match).toMatch(/^\d{2}$/);
    expect(Date.parse(String(session.expiresAt))).toBeGreaterThan(Date.now());

    const img = await fetch(String(session.qr));
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toMatch(/^image\/(png|jpeg)$/);
    expect(Buffer.from(await img.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');

    const scan = await testScan(server.url, sk(), String(session.session), 'o_alice_123');
    expect(scan.status).toBe(200);
    expect(scan.body.match).toBe(session.match);
    expect(scan.body.site).toEqual({ name: 'Test Shop', origin: TEST_ORIGIN });
    expect(scan.body.request).toMatchObject({ browser: expect.stringContaining('Chrome'), os: expect.stringContaining('mac'), ip: '127.0.0.1' });
    expect(await sock.next('scanned')).toEqual({ type: 'scanned' });

    const confirm = await postJson(`${server.url}/v1/mp/confirm`, { scene: session.session, ticket: scan.body.ticket, profile: { nickname: 'Alice' } });
    expect(confirm).toEqual({ status: 200, body: { ok: true } });
    const success = await sock.next('success');
    const user = success.user as Record<string, string>;
    expect(user).toMatchObject({ openid: 'o_alice_123', name: 'Alice' });
    expect(user.id).toMatch(/^usr_/);

    const claims = await verifyWithJwks(String(success.token), app.app.id);
    expect(claims).toMatchObject({ sub: user.id, openid: 'o_alice_123', name: 'Alice', amr: ['wechat_mp_scan'], jti: session.session, aud: app.app.id });
    expect(claims.exp! - claims.iat!).toBe(300);
    await sock.closed;

    const db = server.core.db;
    const [event] = await db.select().from(loginEvents).where(eq(loginEvents.sessionId, String(session.session)));
    expect(event).toMatchObject({ status: 'succeeded', userId: user.id, origin: TEST_ORIGIN, appId: app.app.id });
    const messages = await db.select().from(webhookMessages).where(eq(webhookMessages.appId, app.app.id));
    expect(messages.map((m) => m.type).sort()).toEqual(['login.succeeded', 'user.created']);
  });

  it('a second login of the same visitor keeps the user id and creates no user.created', async () => {
    const first = await loginOnce('o_bob_4567');
    const second = await loginOnce('o_bob_4567');
    expect(second.user.id).toBe(first.user.id);
    const [row] = await server.core.db.select().from(endUsers).where(eq(endUsers.id, first.user.id));
    expect(row!.loginCount).toBe(2);
  });

  it('usage is rolled up from the login events, idempotently', async () => {
    await rollUpUsage(server.core.db);
    await rollUpUsage(server.core.db);
    const [row] = await server.core.db.select().from(usageCounters).where(eq(usageCounters.appId, app.app.id));
    const succeeded = await server.core.db.select().from(loginEvents).where(and(eq(loginEvents.appId, app.app.id), eq(loginEvents.status, 'succeeded')));
    expect(succeeded.length).toBeGreaterThanOrEqual(3);
    expect(row).toMatchObject({ mode: 'test', logins: succeeded.length, day: new Date().toISOString().slice(0, 10) });
  });

  it('cancel on the phone reaches the browser, and refresh opens a fresh session on the same socket', async () => {
    const sock = await openSocket(server.url, pk());
    const s = await sock.next('session');
    const scan = await testScan(server.url, sk(), String(s.session));
    await sock.next('scanned');
    expect((await postJson(`${server.url}/v1/mp/cancel`, { scene: s.session, ticket: scan.body.ticket })).body).toEqual({ ok: true });
    await sock.next('cancelled');
    sock.send({ type: 'refresh' });
    const fresh = await sock.next('session');
    expect(fresh.session).not.toBe(s.session);
    const [event] = await server.core.db.select().from(loginEvents).where(eq(loginEvents.sessionId, String(s.session)));
    expect(event!.status).toBe('cancelled');
    sock.close();
  });

  it('a phone browsing the site gets an "Open in WeChat" link (the sandbox phone in test mode), again on resume; a desktop does not', async () => {
    const iphone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
    const phone = await openSocket(server.url, pk(), { userAgent: iphone });
    const s = await phone.next('session');
    expect(s.urlLink).toBe(`${server.core.config.publicUrl}/sandbox/phone?scene=${s.session}`);
    // The page reloaded (or the socket dropped): the resumed session frame carries the same link.
    phone.close();
    const back = await openSocket(server.url, pk(), { userAgent: iphone, session: String(s.session) });
    back.send({ type: 'resume', session: s.session, secret: s.secret });
    expect(await back.next('session')).toMatchObject({ session: s.session, urlLink: s.urlLink });
    const desktop = await openSocket(server.url, pk());
    expect((await desktop.next('session')).urlLink).toBeUndefined();
    back.close();
    desktop.close();
  });

  it('the polling fallback gives the same frames', async () => {
    const opened = await fetch(`${server.url}/v1/sessions?key=${pk()}`, { method: 'POST', headers: { origin: TEST_ORIGIN } });
    expect(opened.status).toBe(201);
    expect(opened.headers.get('access-control-allow-origin')).toBe(TEST_ORIGIN);
    const s = (await opened.json()) as Record<string, string>;
    expect(s.type).toBe('session');
    const auth = { authorization: `Bearer ${s.secret}` };
    const waiting = fetch(`${server.url}/v1/sessions/${s.session}/events?after=session`, { headers: auth }).then((r) => r.json());
    const scan = await testScan(server.url, sk(), s.session!);
    expect(await waiting).toEqual({ type: 'scanned' });
    const waiting2 = fetch(`${server.url}/v1/sessions/${s.session}/events?after=scanned`, { headers: auth }).then((r) => r.json());
    await postJson(`${server.url}/v1/mp/confirm`, { scene: s.session, ticket: scan.body.ticket });
    const success = (await waiting2) as Record<string, unknown>;
    expect(success.type).toBe('success');
    // Handed over once: the same secret now gets nothing.
    const again = await fetch(`${server.url}/v1/sessions/${s.session}/events?after=scanned`, { headers: auth }).then((r) => r.json());
    expect(again).toMatchObject({ type: 'error', code: 'session_not_found' });
  });
});

async function loginOnce(openid: string) {
  const sock = await openSocket(server.url, pk());
  const s = await sock.next('session');
  const scan = await testScan(server.url, sk(), String(s.session), openid);
  await postJson(`${server.url}/v1/mp/confirm`, { scene: s.session, ticket: scan.body.ticket });
  await sock.next('scanned');
  const success = await sock.next('success');
  return success as unknown as { token: string; user: { id: string } };
}

describe('section 6: each rule holds against an attack', () => {
  it('the scene alone never yields the token', async () => {
    const sock = await openSocket(server.url, pk());
    const s = await sock.next('session');
    const scan = await testScan(server.url, sk(), String(s.session));
    await postJson(`${server.url}/v1/mp/confirm`, { scene: s.session, ticket: scan.body.ticket });
    // An attacker who saw the QR (the scene) tries every door without the secret.
    const thief = await openSocket(server.url, pk(), { session: String(s.session) });
    thief.send({ type: 'resume', session: s.session, secret: 'x'.repeat(43) });
    expect(await thief.next('error')).toMatchObject({ code: 'session_not_found' });
    expect(await thief.closed).toBe(4004);
    const poll = await fetch(`${server.url}/v1/sessions/${s.session}/events`, { headers: { authorization: 'Bearer guess' } });
    expect(await poll.json()).toMatchObject({ type: 'error', code: 'session_not_found' });
    await sock.next('scanned');
    expect((await sock.next('success')).token).toBeTruthy();
  });

  it('first scanner wins; a second scanner is refused and cannot confirm', async () => {
    const sock = await openSocket(server.url, pk());
    const s = await sock.next('session');
    const first = await testScan(server.url, sk(), String(s.session), 'o_first_scanner');
    const second = await testScan(server.url, sk(), String(s.session), 'o_second_scanner');
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('already_scanned');
    // The second phone has no ticket; a forged one is refused as another user.
    const forged = await postJson(`${server.url}/v1/mp/confirm`, { scene: s.session, ticket: 'f'.repeat(43) });
    expect(forged.status).toBe(403);
    expect(forged.body.error.code).toBe('wrong_user');
    // The rightful scanner can still confirm.
    expect((await postJson(`${server.url}/v1/mp/confirm`, { scene: s.session, ticket: first.body.ticket })).status).toBe(200);
    sock.close();
  });

  it('the token is handed over once: a resume after success finds nothing', async () => {
    const sock = await openSocket(server.url, pk());
    const s = await sock.next('session');
    const scan = await testScan(server.url, sk(), String(s.session));
    await postJson(`${server.url}/v1/mp/confirm`, { scene: s.session, ticket: scan.body.ticket });
    await sock.next('scanned');
    await sock.next('success');
    const again = await openSocket(server.url, pk(), { session: String(s.session) });
    again.send({ type: 'resume', session: s.session, secret: s.secret });
    expect(await again.next('error')).toMatchObject({ code: 'session_not_found' });
  });

  it('an expired session sends expired, refuses scans, and can be refreshed', async () => {
    const short = await createTestApp(server, { name: 'Short' });
    await server.core.db.update(appsTable).set({ sessionTtlSeconds: 1 }).where(eq(appsTable.id, short.app.id));
    const sock = await openSocket(server.url, short.keys.test.publishable);
    const s = await sock.next('session');
    expect(await sock.next('expired', 5_000)).toEqual({ type: 'expired' });
    const scan = await testScan(server.url, short.keys.test.secret, String(s.session));
    expect(scan.status).toBe(410);
    expect(scan.body.error.code).toBe('session_expired');
    sock.send({ type: 'refresh' });
    expect((await sock.next('session')).session).not.toBe(s.session);
    sock.close();
  });

  it('a page on an origin the app does not allow gets origin_not_allowed and a 4003 close', async () => {
    const sock = await openSocket(server.url, pk(), { origin: 'https://evil.example.net' });
    expect(await sock.next('error')).toMatchObject({ code: 'origin_not_allowed' });
    expect(await sock.closed).toBe(4003);
    const poll = await fetch(`${server.url}/v1/sessions?key=${pk()}`, { method: 'POST', headers: { origin: 'https://evil.example.net' } });
    expect(poll.status).toBe(403);
  });

  it("test keys also work on this service's own origin (console preview); live keys do not", async () => {
    const hosted = await env.start({ PUBLIC_URL: 'https://login.example.test' });
    const live = await createTestApp(hosted, { name: 'Own origin', wechatAppId: 'wx00112233445566ff', wechatSecret: 'ffeeddccbbaa99887766554433221100' });
    const test = await openSocket(hosted.url, live.keys.test.publishable, { origin: 'https://login.example.test' });
    expect((await test.next()).type).toBe('session');
    test.close();
    const liveSock = await openSocket(hosted.url, live.keys.live!.publishable, { origin: 'https://login.example.test' });
    expect(await liveSock.next('error')).toMatchObject({ code: 'origin_not_allowed' });
  });

  it('a bad key gets invalid_key and a 4001 close', async () => {
    const sock = await openSocket(server.url, 'pk_test_' + 'A'.repeat(32));
    expect(await sock.next('error')).toMatchObject({ code: 'invalid_key' });
    expect(await sock.closed).toBe(4001);
    const secretAsPublishable = await openSocket(server.url, sk());
    expect(await secretAsPublishable.next('error')).toMatchObject({ code: 'invalid_key' });
  });

  it('test helpers refuse a live key, and another app\'s session is unknown to a key', async () => {
    const other = await createTestApp(server, { name: 'Other' });
    const sock = await openSocket(server.url, pk());
    const s = await sock.next('session');
    const cross = await testScan(server.url, other.keys.test.secret, String(s.session));
    expect(cross.status).toBe(404);
    const live = await createTestApp(server, { name: 'Live', wechatAppId: 'wx0123456789abcdef', wechatSecret: '0123456789abcdef0123456789abcdef' });
    const refused = await testScan(server.url, live.keys.live!.secret, String(s.session));
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('live_mode_forbidden');
    sock.close();
  });
});

describe('resume', () => {
  it('after the socket drops, a confirmation that happened meanwhile is delivered on resume', async () => {
    const sock = await openSocket(server.url, pk());
    const s = await sock.next('session');
    sock.ws.terminate();
    const scan = await testScan(server.url, sk(), String(s.session));
    await postJson(`${server.url}/v1/mp/confirm`, { scene: s.session, ticket: scan.body.ticket });
    const back = await openSocket(server.url, pk(), { session: String(s.session) });
    back.send({ type: 'resume', session: s.session, secret: s.secret });
    const success = await back.next('success');
    expect(success.token).toBeTruthy();
  });

  it('resuming a pending session returns the same session and keeps following it', async () => {
    const sock = await openSocket(server.url, pk());
    const s = await sock.next('session');
    sock.ws.terminate();
    const back = await openSocket(server.url, pk(), { session: String(s.session) });
    back.send({ type: 'resume', session: s.session, secret: s.secret });
    expect(await back.next('session')).toMatchObject({ session: s.session, match: s.match, qr: s.qr });
    await testScan(server.url, sk(), String(s.session));
    await back.next('scanned');
    back.close();
  });
});

describe('bad input changes nothing', () => {
  it('malformed and unknown frames get bad_request and the session carries on', async () => {
    const sock = await openSocket(server.url, pk());
    const s = await sock.next('session');
    sock.send('not json');
    expect(await sock.next('error')).toMatchObject({ code: 'bad_request' });
    sock.send({ type: 'launch-missiles' });
    expect(await sock.next('error')).toMatchObject({ code: 'bad_request' });
    sock.send({ type: 'ping' });
    expect(await sock.next('pong')).toEqual({ type: 'pong' });
    await testScan(server.url, sk(), String(s.session));
    await sock.next('scanned');
    sock.close();
  });

  it('a socket that floods frames is told rate_limited and closed with 4029', async () => {
    const sock = await openSocket(server.url, pk());
    await sock.next('session');
    for (let i = 0; i < 40; i++) sock.send({ type: 'ping' });
    expect(await sock.closed).toBe(4029);
    expect(sock.frames.some((f) => f.type === 'error' && f.code === 'rate_limited')).toBe(true);
  });

  it('an oversized frame closes the socket (1009) without touching the session', async () => {
    const sock = await openSocket(server.url, pk());
    const s = await sock.next('session');
    sock.send({ type: 'ping', pad: 'x'.repeat(10_000) });
    expect(await sock.closed).toBe(1009);
    const back = await openSocket(server.url, pk(), { session: String(s.session) });
    back.send({ type: 'resume', session: s.session, secret: s.secret });
    expect(await back.next('session')).toMatchObject({ session: s.session });
    back.close();
  });

  it('a code scanned over and over is refused after ten scans (each costs a WeChat call)', async () => {
    const sock = await openSocket(server.url, pk());
    const s = await sock.next('session');
    for (let i = 0; i < 10; i++) expect((await testScan(server.url, sk(), String(s.session), 'o_rescanner')).status).toBe(200);
    const eleventh = await testScan(server.url, sk(), String(s.session), 'o_rescanner');
    expect(eleventh.status).toBe(429);
    expect(eleventh.body.error.code).toBe('rate_limited');
    sock.close();
  });

  it('bad bodies on the mini-program API get clear 4xx errors', async () => {
    const sock = await openSocket(server.url, pk());
    const s = await sock.next('session');
    const cases: Array<[unknown, number, string]> = [
      [{ scene: s.session }, 400, 'bad_request'],
      [{ scene: 'short', code: 'c' }, 400, 'bad_request'],
      [{ scene: s.session, code: 'c', extra: 1 }, 400, 'bad_request'],
      [{ scene: s.session, code: 'x'.repeat(5000) }, 413, 'payload_too_large'],
    ];
    for (const [body, status, code] of cases) {
      const r = await postJson(`${server.url}/v1/mp/scan`, body);
      expect(r.status, JSON.stringify(body).slice(0, 60)).toBe(status);
      expect(r.body.error.code).toBe(code);
      expect(r.body.error.requestId).toMatch(/^req_/);
    }
    const raw = await fetch(`${server.url}/v1/mp/scan`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"scene":' });
    expect(raw.status).toBe(400);
    // Nothing happened to the session: it can still be scanned.
    expect((await testScan(server.url, sk(), String(s.session))).status).toBe(200);
    sock.close();
  });
});

describe('WeChat faults reach people as clear errors', () => {
  const fault = async (body: Record<string, unknown>) => {
    const r = await postJson(`${server.url}/sandbox/wechat/__sim/faults`, { appid: sandboxAppIdOf(app.app.id), ...body }, { authorization: `Bearer ${sk()}` });
    expect(r.status).toBe(201);
  };

  it('40001 once (access token revoked) on the code image is healed by one refresh', async () => {
    await fault({ api: 'getwxacodeunlimit', times: 1, errcode: 40001 });
    const sock = await openSocket(server.url, pk());
    const s = await sock.next('session');
    const img = await fetch(String(s.qr));
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toMatch(/^image\//);
    sock.close();
  });

  // 45009 is the AppID's code quota: a crowd, not a fault, so the element is told to ask again
  // (codes_busy, DESIGN §11); any other refusal is a plain wechat_error.
  it.each([[45009, 'codes_busy'], [41030, 'wechat_error']])('errcode %i on the code image is a clear 502, not an image, and the socket says %s', async (errcode, frameCode) => {
    await fault({ api: 'getwxacodeunlimit', times: 1, errcode });
    const sock = await openSocket(server.url, pk());
    const s = await sock.next('session');
    const img = await fetch(String(s.qr));
    expect(img.status).toBe(502);
    expect(((await img.json()) as { error: { code: string } }).error.code).toBe('wechat_error');
    // The page learns why over its socket, not from a broken image.
    const failed = await sock.next('error');
    expect(failed.code).toBe(frameCode);
    expect(String(failed.message)).toMatch(/\S/);
    sock.close();
  });

  it.each([[45009], [-1]])('errcode %i on the scan becomes wechat_error with plain words', async (errcode) => {
    await fault({ api: 'jscode2session', times: 1, errcode });
    const sock = await openSocket(server.url, pk());
    const s = await sock.next('session');
    const scan = await testScan(server.url, sk(), String(s.session));
    expect(scan.status).toBe(502);
    expect(scan.body.error.code).toBe('wechat_error');
    expect(scan.body.error.message).not.toMatch(/secret|access_token/i);
    // The session is untouched and the next try works.
    expect((await testScan(server.url, sk(), String(s.session))).status).toBe(200);
    sock.close();
  });
});
