/**
 * Console accounts (issue 23) through a real SMTP server: verification, password reset,
 * two-factor sign-in, the organisation's "require 2FA" rule and the audit rows each leaves.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountTokens, accounts, auditEvents } from '../../server/db/schema/index';
import type { RunningServer } from '../../server/main';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { ConsoleClient } from './console-client';
import { linkToken, startMailbox, totpCode } from './console-accounts-support';

let env: TestEnv;
let s: RunningServer;
let mail: Awaited<ReturnType<typeof startMailbox>>;
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'purple elephant on a bicycle';
let ipN = 0;
const client = () => new ConsoleClient(s.url, { ip: `198.51.100.${++ipN}` });

beforeAll(async () => {
  mail = await startMailbox();
  env = await createTestEnv('accounts');
  s = await env.start({ SMTP_URL: mail.url, MAIL_FROM: 'Console <console@example.test>' });
});
afterAll(async () => {
  await env?.dispose();
  await mail?.close();
});

async function actionsOf(tenantId: string): Promise<string[]> {
  const rows = await s.core.db.select({ action: auditEvents.action }).from(auditEvents).where(eq(auditEvents.tenantId, tenantId));
  return rows.map((r) => r.action);
}

async function signUpAndVerify(email: string) {
  const c = client();
  const seen = mail.received.length;
  expect((await c.post('/auth/signup', { email, password: PASSWORD })).status).toBe(202);
  const m = await mail.next(email, /Confirm your email/, seen);
  expect((await c.post('/auth/verify', { token: linkToken(m, 'verify') })).status).toBe(200);
  const me = await c.post('/auth/signin', { email, password: PASSWORD });
  expect(me.status).toBe(200);
  return { c, me: me.body };
}

describe('email verification', () => {
  it('mails a link in plain text and HTML; until it is followed, invitations wait; the link works once', async () => {
    const c = client();
    const seen = mail.received.length;
    const up = await c.post('/auth/signup', { email: 'new@example.com', password: PASSWORD, organisation: 'Acme' });
    expect(up.status).toBe(202);
    expect(up.body.next).toBe('verify');
    const m = await mail.next('new@example.com', /Confirm your email/, seen);
    expect(m.html).toContain('/console/verify?token=');
    const token = linkToken(m, 'verify');
    expect(new URL(/https?:\/\/\S+/.exec(m.text)![0]).origin).toBe(s.core.config.publicUrl);
    // Only the hash is stored.
    const stored = await s.core.db.select().from(accountTokens);
    expect(stored.some((t) => t.tokenHash === token)).toBe(false);

    const me = await c.post('/auth/signin', { email: 'new@example.com', password: PASSWORD });
    expect(me.status).toBe(200);
    expect(me.body.account.emailVerified).toBe(false);
    const tenantId = me.body.tenants[0].id;
    const refused = await c.post(`/tenants/${tenantId}/invitations`, { role: 'viewer' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('email_unverified');

    expect((await client().post('/auth/verify', { token })).status).toBe(200);
    const replay = await client().post('/auth/verify', { token });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('invalid_token');
    expect((await c.get('/auth/me')).body.account.emailVerified).toBe(true);
    expect((await c.post(`/tenants/${tenantId}/invitations`, { role: 'viewer' })).status).toBe(201);
    expect(await actionsOf(tenantId)).toEqual(expect.arrayContaining(['tenant.created', 'account.email_verified', 'account.signed_in', 'invitation.created']));
  });

  it('answers a known email like a new one and mails its owner instead, in the language asked for', async () => {
    await signUpAndVerify('owner@example.com');
    const seen = mail.received.length;
    const res = await fetch(`${s.url}/console/api/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: s.url, 'accept-language': 'zh-CN,zh;q=0.9' },
      body: JSON.stringify({ email: 'owner@example.com', password: NEW_PASSWORD }),
    });
    expect(res.status).toBe(202);
    const m = await mail.next('owner@example.com', /有人尝试用您的邮箱注册/, seen);
    expect(m.text).toContain('/console/signin');
  });

  it('limits resends', async () => {
    const c = client();
    await c.post('/auth/signup', { email: 'slow@example.com', password: PASSWORD });
    await c.post('/auth/signin', { email: 'slow@example.com', password: PASSWORD });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push((await c.post('/auth/verify/resend')).status);
    expect(answers).toEqual([202, 202, 202, 429]);
  });
});

describe('password reset', () => {
  it('answers 202 whether or not the email exists, resets once, and ends every session', async () => {
    const { c: other, me } = await signUpAndVerify('reset@example.com');
    const tenantId = me.tenants[0].id;
    const unknown = await client().post('/auth/forgot', { email: 'nobody@example.com' });
    const seen = mail.received.length;
    const known = await client().post('/auth/forgot', { email: 'reset@example.com' });
    expect(unknown.status).toBe(202);
    expect(known.status).toBe(202);
    expect(known.body).toEqual(unknown.body);
    const token = linkToken(await mail.next('reset@example.com', /Reset your/, seen), 'reset');

    const weak = await client().post('/auth/reset', { token, password: 'reset@example.com' });
    expect(weak.status).toBe(400);
    expect((await client().post('/auth/reset', { token, password: NEW_PASSWORD })).status).toBe(200);
    expect((await client().post('/auth/reset', { token, password: NEW_PASSWORD })).body.error.code).toBe('invalid_token');
    expect((await other.get('/auth/me')).status).toBe(401);
    expect((await client().post('/auth/signin', { email: 'reset@example.com', password: PASSWORD })).status).toBe(401);
    expect((await client().post('/auth/signin', { email: 'reset@example.com', password: NEW_PASSWORD })).status).toBe(200);
    expect(await actionsOf(tenantId)).toEqual(expect.arrayContaining(['account.password_reset', 'account.signin_failed']));
  });

  it('refuses an expired link and one sent before the password changed', async () => {
    await signUpAndVerify('stale@example.com');
    const seen = mail.received.length;
    await client().post('/auth/forgot', { email: 'stale@example.com' });
    const first = linkToken(await mail.next('stale@example.com', /Reset your/, seen), 'reset');
    const seen2 = mail.received.length;
    await client().post('/auth/forgot', { email: 'stale@example.com' });
    const second = linkToken(await mail.next('stale@example.com', /Reset your/, seen2), 'reset');
    expect((await client().post('/auth/reset', { token: second, password: NEW_PASSWORD })).status).toBe(200);
    expect((await client().post('/auth/reset', { token: first, password: 'another fine passphrase' })).body.error.code).toBe('invalid_token');

    const seen3 = mail.received.length;
    await client().post('/auth/forgot', { email: 'stale@example.com' });
    const third = linkToken(await mail.next('stale@example.com', /Reset your/, seen3), 'reset');
    await s.core.db.update(accountTokens).set({ expiresAt: new Date(Date.now() - 1000) });
    expect((await client().post('/auth/reset', { token: third, password: 'another fine passphrase' })).body.error.code).toBe('invalid_token');
  });
});

describe('two-factor', () => {
  it('enrols with a QR code, then asks for a code at sign-in; a code and a recovery code work once each', async () => {
    const { c, me } = await signUpAndVerify('totp@example.com');
    const tenantId = me.tenants[0].id;
    const enrol = await c.post('/auth/2fa/enrol');
    expect(enrol.status).toBe(200);
    expect(enrol.body.uri).toMatch(/^otpauth:\/\/totp\//);
    expect(enrol.body.qr).toMatch(/^data:image\/png;base64,/);
    const secret: string = enrol.body.secret;
    const [row] = await s.core.db.select({ sealed: accounts.totpSecret }).from(accounts).where(eq(accounts.email, 'totp@example.com'));
    expect(row?.sealed).not.toContain(secret);

    expect((await c.post('/auth/2fa/confirm', { code: '000000' === (await totpCode(secret, -1)) ? '111111' : '000000' })).status).toBe(400);
    const confirmed = await c.post('/auth/2fa/confirm', { code: await totpCode(secret, -1) });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.recoveryCodes).toHaveLength(10);

    const a = client();
    const first = await a.post('/auth/signin', { email: 'totp@example.com', password: PASSWORD });
    expect(first.body).toEqual({ next: 'second_factor', challenge: expect.any(String) });
    expect(first.headers.getSetCookie()).toEqual([]);
    const code = await totpCode(secret, 0);
    expect((await a.post('/auth/signin/second-factor', { challenge: first.body.challenge, code })).status).toBe(200);
    expect((await a.get('/auth/me')).body.account.twoFactor).toBe(true);

    // The same code again, on a new challenge: refused (RFC 6238 §5.2).
    const b = client();
    const again = await b.post('/auth/signin', { email: 'totp@example.com', password: PASSWORD });
    expect((await b.post('/auth/signin/second-factor', { challenge: again.body.challenge, code })).status).toBe(401);
    const recovery = confirmed.body.recoveryCodes[0];
    expect((await b.post('/auth/signin/second-factor', { challenge: again.body.challenge, recoveryCode: recovery })).status).toBe(200);
    const d = client();
    const third = await d.post('/auth/signin', { email: 'totp@example.com', password: PASSWORD });
    expect((await d.post('/auth/signin/second-factor', { challenge: third.body.challenge, recoveryCode: recovery })).status).toBe(401);
    expect(await actionsOf(tenantId)).toEqual(expect.arrayContaining(['account.2fa_enabled', 'account.signed_in', 'account.signin_failed']));
  });

  it('turns off only with the password and a current code', async () => {
    const { c } = await signUpAndVerify('off@example.com');
    const secret: string = (await c.post('/auth/2fa/enrol')).body.secret;
    await c.post('/auth/2fa/confirm', { code: await totpCode(secret, -1) });
    expect((await c.post('/auth/2fa/disable', { password: 'not the password', code: await totpCode(secret, 0) })).status).toBe(401);
    expect((await c.post('/auth/2fa/disable', { password: PASSWORD, code: await totpCode(secret, 0) })).status).toBe(200);
    expect((await c.get('/auth/2fa')).body.enabled).toBe(false);
  });

  it('lets an owner require it for everyone in the organisation', async () => {
    const { c: owner, me } = await signUpAndVerify('strict@example.com');
    const tenantId = me.tenants[0].id;
    expect((await owner.patch(`/tenants/${tenantId}/security`, { require2fa: true })).body.error.code).toBe('two_factor_required');
    const secret: string = (await owner.post('/auth/2fa/enrol')).body.secret;
    await owner.post('/auth/2fa/confirm', { code: await totpCode(secret, -1) });
    const inv = await owner.post(`/tenants/${tenantId}/invitations`, { role: 'admin' });
    const { c: member } = await signUpAndVerify('member@example.com');
    expect((await member.post('/invitations/accept', { token: new URL(inv.body.url).hash.slice(1) })).status).toBe(200);
    expect((await owner.patch(`/tenants/${tenantId}/security`, { require2fa: true })).status).toBe(200);
    const blocked = await member.get(`/tenants/${tenantId}/apps`);
    expect(blocked.status).toBe(403);
    expect(blocked.body.error.code).toBe('two_factor_required');
    expect((await owner.get(`/tenants/${tenantId}/apps`)).status).toBe(200);
    expect(await actionsOf(tenantId)).toContain('tenant.require_2fa_changed');
  });
});

describe('audit log', () => {
  it('lists, filters, pages and exports the tenant\'s events; the API shows an app\'s own', async () => {
    const { c, me } = await signUpAndVerify('audit@example.com');
    const tenantId = me.tenants[0].id;
    const app = await c.post(`/tenants/${tenantId}/apps`, { name: 'Shop', allowedOrigins: ['https://shop.example'] });
    expect(app.status).toBe(201);
    const appId = app.body.app.id;
    const key = await c.post(`/tenants/${tenantId}/apps/${appId}/keys`, { name: 'ci', mode: 'test' });
    await c.del(`/tenants/${tenantId}/apps/${appId}/keys/${key.body.id}`);
    await c.patch(`/tenants/${tenantId}`, { name: 'Audited' });

    const keys = await c.get(`/tenants/${tenantId}/audit?action=key.`);
    expect(keys.body.data.map((e: { action: string }) => e.action)).toEqual(['key.revoked', 'key.created']);
    expect(keys.body.data[1]).toMatchObject({ actor: { type: 'account', email: 'audit@example.com' }, target: { type: 'api_key', id: key.body.id }, summary: { mode: 'test', name: 'ci' } });
    expect(JSON.stringify(keys.body)).not.toContain(key.body.secret);

    const p1 = await c.get(`/tenants/${tenantId}/audit?limit=2`);
    const p2 = await c.get(`/tenants/${tenantId}/audit?limit=2&cursor=${p1.body.nextCursor}`);
    const ids = [...p1.body.data, ...p2.body.data].map((e: { id: string }) => e.id);
    expect(new Set(ids).size).toBe(4);

    const csv = await fetch(`${s.url}/console/api/tenants/${tenantId}/audit.csv`, { headers: { cookie: c.cookie! } });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('id,at,actor_type,actor_id,actor_email,action,target_type,target_id,ip,summary');
    expect(lines.length).toBe(1 + (await actionsOf(tenantId)).length);

    const secret = app.body.keys.test.secret ?? app.body.keys.test.secretKey;
    const api = await fetch(`${s.url}/v1/audit_events?limit=2`, { headers: { authorization: `Bearer ${secret}` } });
    const body = await api.json();
    expect(api.status).toBe(200);
    expect(body.data.map((e: { action: string }) => e.action)).toEqual(['key.revoked', 'key.created']);
    expect(body.data[0]).toEqual({ id: expect.any(String), at: expect.any(String), actor: { type: 'account', id: me.account.id, email: 'audit@example.com' }, action: 'key.revoked', target: { type: 'api_key', id: key.body.id }, ip: expect.any(String) });
    const rest = await (await fetch(`${s.url}/v1/audit_events?cursor=${body.next}`, { headers: { authorization: `Bearer ${secret}` } })).json();
    expect(rest.data.map((e: { action: string }) => e.action)).toEqual(['app.created']);
    expect(rest.next).toBeUndefined();

    expect((await c.patch(`/tenants/${tenantId}/audit/settings`, { retentionDays: 30 })).status).toBe(200);
    expect((await c.get(`/tenants/${tenantId}/audit`)).body.retentionDays).toBe(30);
  });
});
