import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { avatars, endUsers, loginEvents, webhookMessages } from '../../server/db/schema/index';
import type { RunningServer } from '../../server/main';
import { newId } from '../../server/lib/ids';
import { createTestApp, loginInSandbox } from '../helpers/login';
import { ConsoleClient } from './console-client';
import { api, createWebhookEnv, Receiver, waitFor, type WebhookEnv } from './webhooks-support';

/** End users' rights: export and erasure through the server API and the console, tenant by tenant. */
let env: WebhookEnv;
let server: RunningServer;
let receiver: Receiver;

beforeAll(async () => {
  env = await createWebhookEnv('usrrights');
  server = await env.start();
  receiver = await new Receiver().listen();
});

afterAll(async () => {
  await receiver?.close();
  await env?.dispose();
});

const live = { wechatAppId: 'wx0123456789abcdef', wechatSecret: 'c'.repeat(32) };

describe('GET /v1/users/:id/export and DELETE /v1/users/:id', () => {
  it('exports everything held about a user, then erases them: counts stay, personal fields go, user.deleted is sent', async () => {
    const { app, keys } = await createTestApp(server, live);
    const sk = api(server, keys.test.secret);
    expect((await sk('POST', '/v1/webhook_endpoints', { url: receiver.url })).status).toBe(201);
    const alice = await loginInSandbox(server.url, keys.test, 'o_alice_rights');
    await loginInSandbox(server.url, keys.test, 'o_alice_rights');
    const bob = await loginInSandbox(server.url, keys.test, 'o_bob_rights');
    // An avatar Alice uploaded on her first login's session.
    await server.core.db.insert(avatars).values({ id: newId('avt'), tenantId: app.tenantId, appId: app.id, sessionId: alice.session, contentType: 'image/png', bytes: Buffer.from('png') });

    const exported = await sk('GET', `/v1/users/${alice.user.id}/export`);
    expect(exported.status).toBe(200);
    expect(exported.body.user).toMatchObject({ id: alice.user.id, openid: 'o_alice_rights', mode: 'test', loginCount: 2 });
    expect(exported.body.logins).toHaveLength(2);
    expect(exported.body.logins[0]).toMatchObject({ status: 'succeeded', sessionId: alice.session, browser: expect.any(String) });
    expect(exported.body.avatars).toEqual([expect.objectContaining({ contentType: 'image/png', url: expect.stringContaining('/v1/avatars/avt_') })]);
    expect(exported.body.webhookMessages.map((m: { type: string }) => m.type).sort()).toEqual(['login.succeeded', 'login.succeeded', 'user.created']);

    const erased = await sk('DELETE', `/v1/users/${alice.user.id}`);
    expect(erased).toEqual({ status: 200, body: { id: alice.user.id, deleted: true } });
    expect((await sk('GET', `/v1/users/${alice.user.id}`)).status).toBe(404);
    expect((await sk('GET', `/v1/users/${alice.user.id}/export`)).status).toBe(404);
    expect((await sk('DELETE', `/v1/users/${alice.user.id}`)).status).toBe(404);

    const { db } = server.core;
    const rows = await db.select().from(loginEvents).where(and(eq(loginEvents.appId, app.id), eq(loginEvents.userId, alice.user.id)));
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r).toMatchObject({ status: 'succeeded', openid: null, ip: null, browser: null, os: null, location: null });
    const [bobRow] = await db.select().from(loginEvents).where(eq(loginEvents.userId, bob.user.id));
    expect(bobRow).toMatchObject({ openid: 'o_bob_rights', browser: expect.any(String) });
    expect(await db.select().from(avatars).where(eq(avatars.appId, app.id))).toEqual([]);
    const messages = await db.select().from(webhookMessages).where(eq(webhookMessages.appId, app.id));
    const about = (id: string) => messages.filter((m) => (m.payload.data as { userId?: string }).userId === id);
    for (const m of about(alice.user.id).filter((m) => m.type !== 'user.deleted')) {
      expect(JSON.stringify(m.payload)).not.toContain('o_alice_rights');
      expect(m.payload.data).toMatchObject({ openid: 'erased' });
    }
    expect(JSON.stringify(about(bob.user.id))).toContain('o_bob_rights');

    const deleted = await waitFor('user.deleted delivery', () => receiver.received.find((r) => JSON.parse(r.body).type === 'user.deleted'));
    expect(JSON.parse(deleted.body).data).toEqual({ userId: alice.user.id, time: expect.any(String) });

    // The same WeChat user logging in again is a new user.
    const again = await loginInSandbox(server.url, keys.test, 'o_alice_rights');
    expect(again.user.id).not.toBe(alice.user.id);
  });

  it('reaches no other tenant\'s, app\'s or mode\'s user', async () => {
    const a = await createTestApp(server, live);
    const b = await createTestApp(server, live);
    const user = await loginInSandbox(server.url, a.keys.test, 'o_isolated');
    for (const key of [b.keys.test.secret, b.keys.live!.secret, a.keys.live!.secret]) {
      expect((await api(server, key)('GET', `/v1/users/${user.user.id}/export`)).status).toBe(404);
      expect((await api(server, key)('DELETE', `/v1/users/${user.user.id}`)).status).toBe(404);
    }
    expect((await api(server, a.keys.test.publishable)('DELETE', `/v1/users/${user.user.id}`)).status).toBe(401);
    expect(await server.core.db.select({ id: endUsers.id }).from(endUsers).where(eq(endUsers.id, user.user.id))).toHaveLength(1);
  });
});

describe('the console\'s Users page actions', () => {
  it('exports and erases for admins of the tenant only', async () => {
    const owner = new ConsoleClient(server.url);
    const me = await owner.signUp(`owner-${Date.now()}@example.com`);
    const tenantId = me.tenants[0]!.id;
    const created = await owner.post(`/tenants/${tenantId}/apps`, { name: 'Rights', allowedOrigins: ['https://shop.example.com'] });
    expect(created.status).toBe(201);
    const appId = created.body.app.id as string;
    const user = await loginInSandbox(server.url, created.body.keys.test, 'o_console_rights');
    const base = `/tenants/${tenantId}/apps/${appId}/users/${user.user.id}`;

    const outsider = new ConsoleClient(server.url);
    const other = await outsider.signUp(`outsider-${Date.now()}@example.com`);
    // Another tenant's member learns nothing, not even that the tenant exists.
    expect((await outsider.get(`${base}/export`)).status).toBe(404);
    expect((await outsider.del(base)).status).toBe(404);
    // Their own tenant with the other tenant's app and user: not found.
    expect((await outsider.get(`/tenants/${other.tenants[0]!.id}/apps/${appId}/users/${user.user.id}/export`)).status).toBe(404);

    const exported = await owner.get(`${base}/export`);
    expect(exported.status).toBe(200);
    expect(exported.body.user).toMatchObject({ id: user.user.id, openid: 'o_console_rights' });
    expect(await owner.del(base)).toMatchObject({ status: 200, body: { id: user.user.id, deleted: true } });
    expect((await owner.get(`${base}/export`)).status).toBe(404);
  });
});
