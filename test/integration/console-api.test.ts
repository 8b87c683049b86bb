import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accounts, apiKeys, apps, endUsers, loginEvents } from '../../server/db/schema/index';
import { decrypt, sha256 } from '../../server/lib/crypto';
import { stillMember } from '../../server/features/console/activity/store';
import { LIMITS } from '../../server/features/console/auth/limiter';
import { newId } from '../../server/lib/ids';
import { createAppsStore } from '../../server/features/apps/store';
import { sandboxSecret } from '../../server/features/sandbox/simulator/credentials';
import type { RunningServer } from '../../server/main';
import { createTestEnv, TEST_MASTER_KEY, type TestEnv } from '../helpers/server';
import { ConsoleClient } from './console-client';

let env: TestEnv;
let s: RunningServer;

beforeAll(async () => {
  env = await createTestEnv('consoleapi');
  s = await env.start();
});
afterAll(async () => {
  await env?.dispose();
});

describe('console accounts and sessions', () => {
  it('signs up, keeps an httpOnly Lax cookie session, signs out and back in', async () => {
    const c = new ConsoleClient(s.url);
    const up = await c.call('POST', '/auth/signup', { email: 'Ann@Example.com', password: 'correct horse battery', organisation: 'Ann Co' });
    expect(up.status).toBe(202);
    expect(up.body.next).toBe('verify');
    expect(up.headers.getSetCookie()).toEqual([]);
    const res = await c.call('POST', '/auth/signin', { email: 'ann@example.com', password: 'correct horse battery' });
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie().find((x) => x.startsWith('wsl_console='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\/console/);
    // Plain http (local): no __Host- prefix, no Secure, no HSTS.
    expect(cookie).not.toMatch(/;\s*Secure/i);
    expect(res.headers.get('strict-transport-security')).toBeNull();
    expect(res.body.account.email).toBe('ann@example.com');
    expect(res.body.tenants).toEqual([expect.objectContaining({ name: 'Ann Co', role: 'owner' })]);

    const [row] = await s.core.db.select().from(accounts).where(eq(accounts.email, 'ann@example.com'));
    expect(row!.passwordHash).toMatch(/^scrypt\$17\$8\$1\$/);
    expect(row!.passwordHash).not.toContain('correct horse');

    expect((await c.get('/auth/me')).status).toBe(200);
    expect((await c.post('/auth/signout')).status).toBe(204);
    expect(c.cookie).toBeUndefined();
    expect((await c.get('/auth/me')).status).toBe(401);

    const wrong = await c.post('/auth/signin', { email: 'ann@example.com', password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.message).toMatch(/don't match/);
    const ok = await c.post('/auth/signin', { email: 'ANN@example.com', password: 'correct horse battery' });
    expect(ok.status).toBe(200);
    expect((await c.get('/auth/me')).body.account.email).toBe('ann@example.com');

    const dup = await new ConsoleClient(s.url).post('/auth/signup', { email: 'ann@example.com', password: 'another long password' });
    expect(dup.status).toBe(202);
    expect((await new ConsoleClient(s.url).post('/auth/signin', { email: 'ann@example.com', password: 'another long password' })).status).toBe(401);
    const short = await new ConsoleClient(s.url).post('/auth/signup', { email: 'bob@example.com', password: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.error.message).toMatch(/at least 10/);
  });

  it('refuses state changes without the CSRF token or from another origin', async () => {
    const c = new ConsoleClient(s.url);
    const me = await c.signUp('csrf@example.com');
    const tenant = me.tenants[0]!.id;
    const noToken = await c.call('POST', `/tenants/${tenant}/apps`, { name: 'x' }, { csrf: null });
    expect(noToken.status).toBe(403);
    expect(noToken.body.error.code).toBe('csrf_failed');
    const wrongToken = await c.call('POST', `/tenants/${tenant}/apps`, { name: 'x' }, { csrf: 'nope' });
    expect(wrongToken.body.error.code).toBe('csrf_failed');
    const crossSite = await c.call('POST', `/tenants/${tenant}/apps`, { name: 'x' }, { origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.error.code).toBe('csrf_failed');
    const crossSignin = await new ConsoleClient(s.url).call('POST', '/auth/signin', { email: 'csrf@example.com', password: 'correct horse battery' }, { origin: 'https://evil.example' });
    expect(crossSignin.status).toBe(403);
    expect((await c.post(`/tenants/${tenant}/apps`, { name: 'x' })).status).toBe(201);
    // The refused attempts changed nothing: only the last, proper request made an app.
    const made = await s.core.db.select({ id: apps.id }).from(apps).where(eq(apps.tenantId, tenant));
    expect(made).toHaveLength(1);
  });

  it('rate-limits sign-in attempts per email', async () => {
    const c = new ConsoleClient(s.url);
    await c.signUp('limited@example.com');
    const other = new ConsoleClient(s.url);
    const statuses: number[] = [];
    const budget = LIMITS.signInPerEmailAndIp.points;
    for (let i = 0; i <= budget; i++) statuses.push((await other.post('/auth/signin', { email: 'limited@example.com', password: `wrong password ${i}` })).status);
    expect(statuses.slice(0, budget).every((x) => x === 401)).toBe(true);
    expect(statuses[budget]).toBe(429);
    const blocked = await other.post('/auth/signin', { email: 'limited@example.com', password: 'correct horse battery' });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.message).toMatch(/Try again in \d+ minute/);
  }, 90_000);
});

describe('console apps and keys', () => {
  let c: ConsoleClient;
  let tenant: string;
  beforeAll(async () => {
    c = new ConsoleClient(s.url);
    tenant = (await c.signUp('apps@example.com')).tenants[0]!.id;
  });

  it('validates allowed origins in plain words', async () => {
    for (const bad of ['*', 'https://*', 'https://*.com', 'https://a.*.example.com', 'https://example.com/path', 'ftp://example.com', 'example.com']) {
      const r = await c.post(`/tenants/${tenant}/apps`, { name: 'Shop', allowedOrigins: [bad] });
      expect(r.status, bad).toBe(400);
      expect(r.body.error.message).toMatch(/body\.allowedOrigins/);
    }
    const ok = await c.post(`/tenants/${tenant}/apps`, { name: 'Shop', allowedOrigins: ['https://Shop.Example.com/', 'https://*.example.com', 'http://localhost:5173'] });
    expect(ok.status).toBe(201);
    expect(ok.body.app.allowedOrigins).toEqual(['https://shop.example.com', 'https://*.example.com', 'http://localhost:5173']);
  });

  it('creates an app with keys, keeps the AppSecret write-only and encrypted, edits settings', async () => {
    const created = await c.post(`/tenants/${tenant}/apps`, { name: 'Blog', allowedOrigins: ['https://blog.example.com'] });
    expect(created.status).toBe(201);
    const appId = created.body.app.id as string;
    expect(created.body.keys.test.publishable).toMatch(/^pk_test_/);
    expect(created.body.keys.test.secret).toMatch(/^sk_test_/);
    expect(created.body.keys.live).toBeUndefined();

    expect((await c.patch(`/tenants/${tenant}/apps/${appId}`, { sessionTtlSeconds: 20 })).status).toBe(400);
    expect((await c.patch(`/tenants/${tenant}/apps/${appId}`, { sessionTtlSeconds: 601 })).status).toBe(400);
    expect((await c.patch(`/tenants/${tenant}/apps/${appId}`, { mpPage: '/pages/x' })).status).toBe(400);
    expect((await c.patch(`/tenants/${tenant}/apps/${appId}`, { wechatSecret: '0123456789abcdef0123456789abcdef' })).body.error.message).toMatch(/AppID/);

    const secret = 'abcdefabcdefabcdefabcdefabcdef12';
    const edited = await c.patch(`/tenants/${tenant}/apps/${appId}`, {
      wechatAppId: 'wx0123456789abcdef', wechatSecret: secret, sessionTtlSeconds: 300, envVersion: 'trial', checkPath: false,
      mpPage: 'pages/login/index', displayName: 'My Blog', logoUrl: 'https://blog.example.com/logo.png',
    });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ hasWechatSecret: true, liveReady: true, sessionTtlSeconds: 300, envVersion: 'trial', checkPath: false, displayName: 'My Blog' });
    expect(JSON.stringify(edited.body)).not.toContain(secret);
    expect(edited.body.newLiveKeys.publishable).toMatch(/^pk_live_/);
    expect(edited.body.advice.join(' ')).toMatch(/trial/);

    const got = await c.get(`/tenants/${tenant}/apps/${appId}`);
    expect(JSON.stringify(got.body)).not.toContain(secret);
    const [row] = await s.core.db.select().from(apps).where(eq(apps.id, appId));
    expect(row!.wechatSecretEnc).not.toContain(secret);
    expect(decrypt(Buffer.from(TEST_MASTER_KEY, 'base64'), row!.wechatSecretEnc!, `app-secret:${appId}`)).toBe(secret);

    // The apps store sees the edit at once (invalidate).
    const store = createAppsStore(s.core);
    expect((await store.getApp(appId))!.sessionTtlSeconds).toBe(300);

    const list = await c.get(`/tenants/${tenant}/apps?limit=1`);
    expect(list.body.data).toHaveLength(1);
    expect(list.body.nextCursor).toBeTruthy();
    const next = await c.get(`/tenants/${tenant}/apps?limit=1&cursor=${list.body.nextCursor}`);
    expect(next.body.data[0].id).not.toBe(list.body.data[0].id);
    expect((await c.get(`/tenants/${tenant}/apps?cursor=garbage`)).status).toBe(400);
  });

  it('shows publishable keys, shows a new secret key once, revokes it', async () => {
    const created = await c.post(`/tenants/${tenant}/apps`, { name: 'Keys' });
    const appId = created.body.app.id as string;
    const liveNotReady = await c.post(`/tenants/${tenant}/apps/${appId}/keys`, { name: 'prod', mode: 'live' });
    expect(liveNotReady.status).toBe(400);
    const made = await c.post(`/tenants/${tenant}/apps/${appId}/keys`, { name: 'CI server', mode: 'test' });
    expect(made.status).toBe(201);
    const sk = made.body.secret as string;
    expect(sk).toMatch(/^sk_test_/);

    const list = await c.get(`/tenants/${tenant}/apps/${appId}/keys`);
    const text = JSON.stringify(list.body);
    expect(text).not.toContain(sk);
    expect(text).not.toContain(created.body.keys.test.secret);
    expect(text).toContain(created.body.keys.test.publishable);
    const ci = list.body.data.find((k: { id: string }) => k.id === made.body.id);
    expect(ci).toMatchObject({ kind: 'secret', name: 'CI server', lastUsedAt: null, revokedAt: null });
    expect(ci.displayPrefix).toBe(`${sk.slice(0, 12)}…${sk.slice(-4)}`);

    const store = createAppsStore(s.core);
    expect(await store.resolveSecretKey(sk)).not.toBeNull();
    // Used once through the server API: last-used shows up.
    const used = await fetch(`${s.url}/v1/users`, { headers: { authorization: `Bearer ${sk}` } });
    expect(used.status).toBe(200);
    await expect.poll(async () => (await c.get(`/tenants/${tenant}/apps/${appId}/keys`)).body.data.find((k: { id: string }) => k.id === made.body.id).lastUsedAt).not.toBeNull();

    expect((await c.del(`/tenants/${tenant}/apps/${appId}/keys/${made.body.id}`)).status).toBe(204);
    expect(await createAppsStore(s.core).resolveSecretKey(sk)).toBeNull();
    expect((await fetch(`${s.url}/v1/users`, { headers: { authorization: `Bearer ${sk}` } })).status).toBe(401);
    expect((await c.del(`/tenants/${tenant}/apps/${appId}/keys/${made.body.id}`)).status).toBe(404);
  });

  it('rotates the signing key and lists signing keys without private parts', async () => {
    const created = await c.post(`/tenants/${tenant}/apps`, { name: 'Rotate' });
    const appId = created.body.app.id as string;
    const first = await c.post(`/tenants/${tenant}/apps/${appId}/signing-keys/rotate`);
    expect(first.status).toBe(201);
    const second = await c.post(`/tenants/${tenant}/apps/${appId}/signing-keys/rotate`);
    expect(second.body.kid).not.toBe(first.body.kid);
    const keys = await c.get(`/tenants/${tenant}/apps/${appId}/signing-keys`);
    expect(keys.body.data[0]).toMatchObject({ kid: second.body.kid, retiredAt: null });
    expect(keys.body.data.find((k: { kid: string }) => k.kid === first.body.kid).retiredAt).not.toBeNull();
    expect(JSON.stringify(keys.body)).not.toMatch(/private|PRIVATE KEY/);
    const jwks = await (await fetch(`${s.url}/apps/${appId}/.well-known/jwks.json`)).json() as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([first.body.kid, second.body.kid]));
  });

  it('verify explains missing credentials, and WeChat failures in plain words', async () => {
    const created = await c.post(`/tenants/${tenant}/apps`, { name: 'Verify' });
    const appId = created.body.app.id as string;
    const none = await c.post(`/tenants/${tenant}/apps/${appId}/verify`);
    expect(none.status).toBe(400);
    expect(none.body.error.message).toMatch(/AppID and AppSecret first/);

    // Live mode pointed at the mounted WeChat simulator, which has its own secret for every AppID.
    s.core.config.wechatApiBase = `${s.url}/sandbox/wechat`;
    await c.patch(`/tenants/${tenant}/apps/${appId}`, { wechatAppId: 'wx00000000000000aa', wechatSecret: '0123456789abcdef0123456789abcdef', checkPath: true, envVersion: 'trial' });
    const bad = await c.post(`/tenants/${tenant}/apps/${appId}/verify`);
    expect(bad.status).toBe(200);
    expect(bad.body.ok).toBe(false);
    const failedCheck = bad.body.checks.find((x: { ok: boolean }) => !x.ok);
    expect(failedCheck.name).toBe('access_token');
    expect(failedCheck.failure).toMatchObject({ errcode: 40125, title: 'WeChat rejected the AppSecret.' });
    expect(failedCheck.failure.advice).toMatch(/mp\.weixin\.qq\.com/);
    expect(bad.body.advice.join(' ')).toMatch(/check page path/);
    expect(JSON.stringify(bad.body)).not.toContain('0123456789abcdef0123456789abcdef');

    // The right AppSecret (the simulator's for this AppID): every check passes, URL Links
    // included, and phone visitors of this app will get "Open in WeChat" links from now on.
    expect((await c.get(`/tenants/${tenant}/apps/${appId}`)).body.urlLinkEnabled).toBe(false);
    await c.patch(`/tenants/${tenant}/apps/${appId}`, { wechatSecret: sandboxSecret(Buffer.from(TEST_MASTER_KEY, 'base64'), 'wx00000000000000aa'), checkPath: false });
    const good = await c.post(`/tenants/${tenant}/apps/${appId}/verify`);
    expect(good.body.ok).toBe(true);
    expect(good.body.checks.map((x: { name: string; ok: boolean }) => [x.name, x.ok])).toEqual([['credentials', true], ['access_token', true], ['code', true], ['url_link', true]]);
    expect((await c.get(`/tenants/${tenant}/apps/${appId}`)).body.urlLinkEnabled).toBe(true);
    expect((await createAppsStore(s.core).getApp(appId))?.urlLinkEnabled).toBe(true);
  });

  it('deletes an app', async () => {
    const created = await c.post(`/tenants/${tenant}/apps`, { name: 'Doomed' });
    const appId = created.body.app.id as string;
    expect((await c.del(`/tenants/${tenant}/apps/${appId}`)).status).toBe(204);
    expect((await c.get(`/tenants/${tenant}/apps/${appId}`)).status).toBe(404);
    expect(await s.core.db.select().from(apiKeys).where(eq(apiKeys.appId, appId))).toEqual([]);
    expect(await createAppsStore(s.core).resolvePublishableKey(created.body.keys.test.publishable)).toBeNull();
  });
});

describe('console team', () => {
  it('invites by link, enforces roles, changes roles, removes members, keeps an owner', async () => {
    const owner = new ConsoleClient(s.url);
    const tenant = (await owner.signUp('owner@example.com', undefined, 'Team Co')).tenants[0]!.id;
    const inv = await owner.post(`/tenants/${tenant}/invitations`, { role: 'viewer' });
    expect(inv.status).toBe(201);
    const token = new URL(inv.body.url).hash.slice(1);
    expect(inv.body.url).toMatch(/\/console\/invite#/);
    expect((await owner.get(`/tenants/${tenant}/invitations`)).body.data).toHaveLength(1);
    expect(JSON.stringify((await owner.get(`/tenants/${tenant}/invitations`)).body)).not.toContain(token);

    const member = new ConsoleClient(s.url);
    const mine = await member.signUp('member@example.com');
    expect((await member.get(`/tenants/${tenant}/apps`)).status).toBe(404);
    const accepted = await member.post('/invitations/accept', { token });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ role: 'viewer', tenant: { id: tenant, name: 'Team Co' } });
    expect((await member.post('/invitations/accept', { token })).status).toBe(404);
    expect((await member.get('/auth/me')).body.tenants.map((t: { id: string }) => t.id)).toContain(tenant);

    // viewer: reads, never writes
    expect((await member.get(`/tenants/${tenant}/apps`)).status).toBe(200);
    const denied = await member.post(`/tenants/${tenant}/apps`, { name: 'nope' });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toMatch(/Viewers/);

    const memberId = mine.account.id;
    expect((await owner.patch(`/tenants/${tenant}/members/${memberId}`, { role: 'admin' })).status).toBe(200);
    expect((await member.post(`/tenants/${tenant}/apps`, { name: 'by admin' })).status).toBe(201);
    const adminInvite = await member.post(`/tenants/${tenant}/invitations`, { role: 'viewer' });
    expect(adminInvite.status).toBe(403);
    expect(adminInvite.body.error.message).toMatch(/owner/);

    const ownerId = (await owner.get('/auth/me')).body.account.id;
    const lastOwner = await owner.patch(`/tenants/${tenant}/members/${ownerId}`, { role: 'admin' });
    expect(lastOwner.status).toBe(409);
    expect((await owner.del(`/tenants/${tenant}/members/${ownerId}`)).status).toBe(409);

    // An open live stream asks again who may watch: the member is in until removed.
    const memberToken = sha256(member.cookie!.split('=')[1]!);
    const appOfTeam = (await owner.post(`/tenants/${tenant}/apps`, { name: 'watched' })).body.app.id;
    expect(await stillMember(s.core.db, memberToken, tenant, appOfTeam)).toBe(true);
    expect((await owner.del(`/tenants/${tenant}/members/${memberId}`)).status).toBe(204);
    expect((await member.get(`/tenants/${tenant}/apps`)).status).toBe(404);
    expect(await stillMember(s.core.db, memberToken, tenant, appOfTeam)).toBe(false);

    const inv2 = await owner.post(`/tenants/${tenant}/invitations`, { role: 'admin' });
    expect((await owner.del(`/tenants/${tenant}/invitations/${inv2.body.id}`)).status).toBe(204);
    expect((await member.post('/invitations/accept', { token: new URL(inv2.body.url).hash.slice(1) })).status).toBe(404);

    const second = await member.post('/tenants', { name: 'Second Org' });
    expect(second.status).toBe(201);
    expect((await member.get('/auth/me')).body.tenants.map((t: { name: string }) => t.name)).toContain('Second Org');
  }, 60_000);
});

describe('console users and activity', () => {
  let c: ConsoleClient;
  let tenant: string;
  let appId: string;
  beforeAll(async () => {
    c = new ConsoleClient(s.url);
    tenant = (await c.signUp('activity@example.com')).tenants[0]!.id;
    appId = (await c.post(`/tenants/${tenant}/apps`, { name: 'Activity' })).body.app.id;
    const now = Date.now();
    const users = Array.from({ length: 30 }, (_, i) => ({
      id: newId('usr'), tenantId: tenant, appId, mode: 'test' as const, openid: `o_${String(i).padStart(2, '0')}_abc`,
      nickname: i === 7 ? '<img src=x onerror=alert(1)> 50%_off' : `user ${i}`,
      loginCount: 1, firstLoginAt: new Date(now - 86_400_000 * 3), lastLoginAt: new Date(now - i * 1000),
    }));
    await s.core.db.insert(endUsers).values(users);
    const statuses = ['succeeded', 'succeeded', 'cancelled', 'expired', 'failed'] as const;
    await s.core.db.insert(loginEvents).values(Array.from({ length: 40 }, (_, i) => ({
      id: newId('evt'), tenantId: tenant, appId, mode: 'test' as const, sessionId: `sess${i}${appId}`, status: statuses[i % 5]!,
      origin: i % 2 ? 'https://a.example.com' : 'https://b.example.com', createdAt: new Date(now - (i % 3) * 86_400_000 - i * 1000),
    })));
  });

  it('searches end users by nickname, openid and user id, paginated on the server', async () => {
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: Array<{ id: string }>; nextCursor: string | null } } = await c.get(`/tenants/${tenant}/apps/${appId}/users?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      all.push(...page.body.data.map((u) => u.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(all).size).toBe(30);

    const byNick = await c.get(`/tenants/${tenant}/apps/${appId}/users?q=${encodeURIComponent('50%_off')}`);
    expect(byNick.body.data).toHaveLength(1);
    expect(byNick.body.data[0].nickname).toContain('<img');
    const percent = await c.get(`/tenants/${tenant}/apps/${appId}/users?q=${encodeURIComponent('%')}`);
    expect(percent.body.data).toHaveLength(1);
    const byOpenid = await c.get(`/tenants/${tenant}/apps/${appId}/users?q=o_03_abc`);
    expect(byOpenid.body.data.map((u: { openid: string }) => u.openid)).toEqual(['o_03_abc']);
    const id = byOpenid.body.data[0].id;
    const byId = await c.get(`/tenants/${tenant}/apps/${appId}/users?q=${id}`);
    expect(byId.body.data.map((u: { id: string }) => u.id)).toEqual([id]);
  });

  it('filters login events by status, origin and time, and counts logins per day', async () => {
    const failed = await c.get(`/tenants/${tenant}/apps/${appId}/events?status=failed&limit=100`);
    expect(failed.body.data).toHaveLength(8);
    expect(failed.body.data.every((e: { status: string }) => e.status === 'failed')).toBe(true);
    const a = await c.get(`/tenants/${tenant}/apps/${appId}/events?origin=${encodeURIComponent('https://a.example.com')}&limit=100`);
    expect(a.body.data).toHaveLength(20);
    const from = new Date(Date.now() - 12 * 3600_000).toISOString();
    const recent = await c.get(`/tenants/${tenant}/apps/${appId}/events?from=${encodeURIComponent(from)}&limit=100`);
    expect(recent.body.data.length).toBeGreaterThan(0);
    expect(recent.body.data.every((e: { createdAt: string }) => e.createdAt >= from)).toBe(true);
    expect((await c.get(`/tenants/${tenant}/apps/${appId}/events?status=weird`)).status).toBe(400);

    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const page: { body: { data: Array<{ id: string }>; nextCursor: string | null } } = await c.get(`/tenants/${tenant}/apps/${appId}/events?limit=9${cursor ? `&cursor=${cursor}` : ''}`);
      for (const e of page.body.data) seen.add(e.id);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.size).toBe(40);

    const stats = await c.get(`/tenants/${tenant}/apps/${appId}/stats/daily?days=7`);
    expect(stats.body.data).toHaveLength(7);
    const total = stats.body.data.reduce((n: number, d: Record<string, number>) => n + d.succeeded! + d.cancelled! + d.expired! + d.failed!, 0);
    expect(total).toBe(40);
    expect(stats.body.data[6].day).toBe(new Date().toISOString().slice(0, 10));
  });

  it('streams new login events live over SSE', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${s.url}/console/api/tenants/${tenant}/apps/${appId}/events/stream`, { headers: { cookie: c.cookie! }, signal: ctrl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const id = newId('evt');
    await s.core.db.insert(loginEvents).values({ id, tenantId: tenant, appId, mode: 'test', sessionId: `live${id}`, status: 'succeeded', origin: 'https://live.example.com' });
    let text = '';
    while (!text.includes(id)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    ctrl.abort();
    expect(text).toContain('event: login');
    expect(text).toContain(id);
  });
});

describe('console static serving', () => {
  it('serves the SPA with a fallback and never swallows API 404s', async () => {
    const root = await fetch(`${s.url}/console/`);
    expect([200, 503]).toContain(root.status);
    const deep = await fetch(`${s.url}/console/apps/app_x/settings`);
    expect(deep.status).toBe(root.status);
    if (root.status === 200) {
      expect(root.headers.get('content-type')).toMatch(/text\/html/);
      expect(root.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    }
    const api = await fetch(`${s.url}/console/api/nothing-here`);
    expect(api.status).toBe(404);
    expect((await api.json()).error.code).toBe('not_found');
  });
});
