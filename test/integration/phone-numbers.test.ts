import { eq, sql } from 'drizzle-orm';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apps as appsTable, endUserPhones, loginEvents } from '../../server/db/schema/index';
import { rowsOf } from '../../server/db/client';
import type { PhoneNumberSetting } from '../../contract/index';
import type { RunningServer } from '../../server/main';
import { openSocket, postJson, sandboxAppIdOf, type TestSocket } from '../helpers/login';
import { api, createTenantApp, createWebhookEnv, Receiver, waitFor, type WebhookEnv } from './webhooks-support';

/** Issue 24: the visitor's phone number, for sites that ask, through the sandbox's WeChat. */
let env: WebhookEnv;
let server: RunningServer;
let receiver: Receiver;

beforeAll(async () => {
  env = await createWebhookEnv('phone');
  server = await env.start();
  receiver = await new Receiver().listen();
});
afterAll(async () => {
  await receiver?.close();
  await env?.dispose();
});

type Site = Awaited<ReturnType<typeof siteAsking>>;

/** A site with the setting, before anything has read (and cached) the app. */
async function siteAsking(setting: PhoneNumberSetting) {
  const t = await createTenantApp(server, `Shop ${setting}`);
  await server.core.db.update(appsTable).set({ phoneNumber: setting }).where(eq(appsTable.id, t.app.id));
  const pk = (await server.core.db.query.apiKeys.findFirst({ where: (k, { and, eq: is }) => and(is(k.appId, t.app.id), is(k.kind, 'publishable'), is(k.mode, 'test')) }))!.plain!;
  return { ...t, pk };
}

/** What the getPhoneNumber button hands the page when the visitor agrees, from the sandbox's WeChat. */
async function phoneCode(appId: string, purePhoneNumber: string, extra: Record<string, string> = {}) {
  const r = await postJson(`${server.url}/sandbox/wechat/__sim/phone/number`, { appid: sandboxAppIdOf(appId), purePhoneNumber, ...extra });
  expect(r.status).toBe(200);
  return String(r.body.code);
}

/** Up to the phone's confirm screen, as the mini-program gets there (wx.login, then /v1/mp/scan). */
async function scanned(site: Site, openid: string): Promise<{ sock: TestSocket; scene: string; ticket: string; answer: Record<string, unknown> }> {
  const sock = await openSocket(server.url, site.pk);
  const s = await sock.next('session');
  const login = await postJson(`${server.url}/sandbox/wechat/__sim/phone/login`, { appid: sandboxAppIdOf(site.app.id), openid });
  const scan = await postJson(`${server.url}/v1/mp/scan`, { scene: s.session, code: login.body.code });
  expect(scan.status).toBe(200);
  await sock.next('scanned');
  return { sock, scene: String(s.session), ticket: String(scan.body.ticket), answer: scan.body };
}

const confirm = (at: { scene: string; ticket: string }, phone?: string) =>
  postJson(`${server.url}/v1/mp/confirm`, { scene: at.scene, ticket: at.ticket, ...(phone ? { phoneCode: phone } : {}) });

/** getuserphonenumber calls the sandbox's WeChat answered for this site. */
async function phoneCalls(site: Site): Promise<number> {
  const r = await fetch(`${server.url}/sandbox/wechat/__sim/stats?appid=${sandboxAppIdOf(site.app.id)}`, { headers: { authorization: `Bearer ${site.test}` } });
  return ((await r.json()) as { calls: Record<string, number> }).calls.getuserphonenumber ?? 0;
}

/** Every text of every row of every table: the number must be in none of them in clear. */
async function databaseText(): Promise<string> {
  const tables = rowsOf(await server.core.db.execute(sql`select tablename from pg_tables where schemaname = 'public'`)) as Array<{ tablename: string }>;
  let all = '';
  for (const { tablename } of tables) {
    const rows = rowsOf(await server.core.db.execute(sql.raw(`select t::text as row from "${tablename}" t`))) as Array<{ row: string }>;
    all += rows.map((r) => r.row).join('\n');
  }
  return all;
}

describe('phoneNumber: required', () => {
  it('the phone is told first; confirming with the number gives a verified phone_number in the token and the webhook, sealed at rest', async () => {
    const site = await siteAsking('required');
    const hook = await api(server, site.test)('POST', '/v1/webhook_endpoints', { url: `${receiver.url}/required`, events: ['login.succeeded'] });
    receiver.secrets = [hook.body.secret];
    const at = await scanned(site, 'o_phone_req_1');
    expect(at.answer.asks).toEqual({ phoneNumber: 'required' });

    const code = await phoneCode(site.app.id, '13800138000');
    expect(await confirm(at, code)).toEqual({ status: 200, body: { ok: true } });
    const success = await at.sock.next('success');
    // The page's retry of a confirm whose answer it lost still hears ok, though the code is spent.
    expect(await confirm(at, code)).toEqual({ status: 200, body: { ok: true } });
    const claims = jwt.decode(String(success.token)) as Record<string, unknown>;
    expect(claims).toMatchObject({ openid: 'o_phone_req_1', phone_number: '+8613800138000', phone_number_verified: true });
    const verified = await api(server, site.test)('POST', '/v1/tokens/verify', { token: success.token });
    expect(verified.body.claims).toMatchObject({ phone_number: '+8613800138000', phone_number_verified: true });

    const got = await waitFor('the webhook', () => receiver.received.find((r) => r.path.endsWith('/required')));
    expect(got.verifiedWith).toHaveLength(1);
    expect(JSON.parse(got.body).data).toMatchObject({ openid: 'o_phone_req_1', phoneNumber: '+8613800138000', phoneNumberVerified: true });

    const [row] = await server.core.db.select().from(endUserPhones).where(eq(endUserPhones.openid, 'o_phone_req_1'));
    expect(row!.phoneNumberEnc).toMatch(/^v1\./);
    expect(row!.verifiedAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
    const text = await databaseText();
    expect(text).toContain('o_phone_req_1');
    expect(text).not.toContain('13800138000');
  });

  it('confirming without the number is refused in plain words; the refusal then cancels on both sides', async () => {
    const site = await siteAsking('required');
    const at = await scanned(site, 'o_phone_req_2');
    const refused = await confirm(at);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'phone_required', message: expect.stringMatching(/phone number/) });
    const events = await server.core.db.select().from(loginEvents).where(eq(loginEvents.sessionId, at.scene));
    expect(events).toEqual([]);
    // The page turns a refusal into a cancel: the browser hears it.
    expect((await postJson(`${server.url}/v1/mp/cancel`, { scene: at.scene, ticket: at.ticket })).status).toBe(200);
    expect(await at.sock.next('cancelled')).toEqual({ type: 'cancelled' });
  });

  it('a bad code, a reused code and a code whose watermark names another mini-program are plain-words errors, and nothing is recorded', async () => {
    const site = await siteAsking('required');
    const at = await scanned(site, 'o_phone_req_3');
    const bad = await confirm(at, 'not-a-code-wechat-gave');
    expect(bad.status).toBe(502);
    expect(bad.body.error.message).toMatch(/phone number code/);

    const foreign = await confirm(at, await phoneCode(site.app.id, '13900139000', { watermarkAppid: 'wxsomeoneelse00001' }));
    expect(foreign.status).toBe(502);
    expect(foreign.body.error.message).toMatch(/another mini-program/);
    expect(await server.core.db.select().from(endUserPhones).where(eq(endUserPhones.openid, 'o_phone_req_3'))).toEqual([]);
    expect(await server.core.db.select().from(loginEvents).where(eq(loginEvents.sessionId, at.scene))).toEqual([]);

    // The session is still waiting: a good code then logs in, and spending it again fails.
    const code = await phoneCode(site.app.id, '13900139000');
    expect((await confirm(at, code)).status).toBe(200);
    await at.sock.next('success');
    const again = await scanned(site, 'o_phone_req_3');
    const reused = await confirm(again, code);
    expect(reused.status).toBe(502);
    expect(reused.body.error.message).toMatch(/phone number code/);
    expect(await server.core.db.select().from(loginEvents).where(eq(loginEvents.sessionId, again.scene))).toEqual([]);
    again.sock.close();
  });
});

describe('phoneNumber: optional', () => {
  it('the visitor may decline and still log in, without phone claims; sharing adds them', async () => {
    const site = await siteAsking('optional');
    const declined = await scanned(site, 'o_phone_opt_1');
    expect(declined.answer.asks).toEqual({ phoneNumber: 'optional' });
    expect((await confirm(declined)).status).toBe(200);
    const plain = jwt.decode(String((await declined.sock.next('success')).token)) as Record<string, unknown>;
    expect(plain.openid).toBe('o_phone_opt_1');
    expect(plain).not.toHaveProperty('phone_number');
    expect(plain).not.toHaveProperty('phone_number_verified');

    const shared = await scanned(site, 'o_phone_opt_1');
    expect((await confirm(shared, await phoneCode(site.app.id, '5551234567', { countryCode: '1' }))).status).toBe(200);
    expect(jwt.decode(String((await shared.sock.next('success')).token))).toMatchObject({ phone_number: '+15551234567', phone_number_verified: true });

    // Declining later withdraws it from this and later logins.
    const again = await scanned(site, 'o_phone_opt_1');
    expect((await confirm(again)).status).toBe(200);
    expect(jwt.decode(String((await again.sock.next('success')).token))).not.toHaveProperty('phone_number');
  });
});

describe('phoneNumber: off', () => {
  it('nothing changes: no ask, a code sent anyway is not exchanged, no claims', async () => {
    const site = await siteAsking('off');
    const at = await scanned(site, 'o_phone_off_1');
    expect(at.answer).not.toHaveProperty('asks');
    expect((await confirm(at, await phoneCode(site.app.id, '13700137000'))).status).toBe(200);
    const claims = jwt.decode(String((await at.sock.next('success')).token)) as Record<string, unknown>;
    expect(claims).not.toHaveProperty('phone_number');
    expect(await phoneCalls(site)).toBe(0);
    expect(await server.core.db.select().from(endUserPhones).where(eq(endUserPhones.appId, site.app.id))).toEqual([]);
  });
});
