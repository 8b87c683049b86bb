import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventDataSchemas } from '../../server/features/webhooks/events';
import type { RunningServer } from '../../server/main';
import { openSocket, postJson, testScan, TEST_ORIGIN } from '../helpers/login';
import { api, createTenantApp, createWebhookEnv, Receiver, waitFor, type WebhookEnv } from './webhooks-support';

/** Real logins through the sandbox, as the widget and the phone make them, reaching a tenant backend. */
let env: WebhookEnv;
let server: RunningServer;
let receiver: Receiver;

beforeAll(async () => {
  env = await createWebhookEnv('whlogin');
  server = await env.start();
  receiver = await new Receiver().listen();
});
afterAll(async () => {
  await receiver?.close();
  await env?.dispose();
});

describe('login events as webhooks', () => {
  it('a confirmed login sends user.created and login.succeeded; a cancel sends login.cancelled', async () => {
    const t = await createTenantApp(server);
    const created = await api(server, t.test)('POST', '/v1/webhook_endpoints', { url: receiver.url });
    receiver.secrets = [created.body.secret];
    // Subscribed to cancels only: the login's messages must not fan out to it.
    const cancelsOnly = await api(server, t.test)('POST', '/v1/webhook_endpoints', { url: `${receiver.url}/cancels`, events: ['login.cancelled'] });
    expect(cancelsOnly.status).toBe(201);
    const pk = (await server.core.db.query.apiKeys.findFirst({ where: (k, { and, eq }) => and(eq(k.appId, t.app.id), eq(k.kind, 'publishable'), eq(k.mode, 'test')) }))!.plain!;

    const sock = await openSocket(server.url, pk);
    const s = await sock.next('session');
    const scan = await testScan(server.url, t.test, String(s.session), 'o_webhook_ada');
    await postJson(`${server.url}/v1/mp/confirm`, { scene: s.session, ticket: scan.body.ticket, profile: { nickname: 'Ada' } });
    await sock.next('scanned');
    const success = await sock.next('success');
    const userId = (success.user as { id: string }).id;
    await waitFor('two events', () => receiver.received.length === 2);
    const events = receiver.received.map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });
    expect(receiver.received.every((r) => r.verifiedWith.length === 1 && r.path === '/hook')).toBe(true);
    const byType = Object.fromEntries(events.map((e) => [e.type, e.data]));
    expect(byType['user.created']).toMatchObject({ userId, openid: 'o_webhook_ada' });
    expect(byType['login.succeeded']).toMatchObject({
      userId, openid: 'o_webhook_ada', nickname: 'Ada', origin: TEST_ORIGIN, sessionId: s.session, ip: '127.0.0.1',
    });
    expect(String(byType['login.succeeded']!.browser)).toContain('Chrome');
    // Exactly the documented fields, no more: the payloads are built in SQL by the confirm statement.
    for (const e of events) expect(() => (eventDataSchemas[e.type as keyof typeof eventDataSchemas] as z.ZodObject).strict().parse(e.data)).not.toThrow();
    const deliveries = await server.core.db.query.webhookDeliveries.findMany();
    expect(deliveries.map((d) => d.endpointId).sort()).toEqual([created.body.id, created.body.id]);
    for (const d of deliveries) expect(d.id).toMatch(/^dlv_[A-Za-z0-9]{16}$/);

    // The same person again: no second user.created.
    const sock2 = await openSocket(server.url, pk);
    const s2 = await sock2.next('session');
    const scan2 = await testScan(server.url, t.test, String(s2.session), 'o_webhook_ada');
    await postJson(`${server.url}/v1/mp/confirm`, { scene: s2.session, ticket: scan2.body.ticket });
    await waitFor('third event', () => receiver.received.length === 3);
    expect(JSON.parse(receiver.received[2]!.body)).toMatchObject({ type: 'login.succeeded', data: { userId, sessionId: s2.session } });

    const sock3 = await openSocket(server.url, pk);
    const s3 = await sock3.next('session');
    const scan3 = await testScan(server.url, t.test, String(s3.session), 'o_webhook_bob');
    await postJson(`${server.url}/v1/mp/cancel`, { scene: s3.session, ticket: scan3.body.ticket });
    await waitFor('cancel event', () => receiver.received.length === 5);
    expect(receiver.received.filter((r) => r.path === '/hook/cancels').map((r) => JSON.parse(r.body).type)).toEqual(['login.cancelled']);
    expect(JSON.parse(receiver.received.filter((r) => r.path === '/hook')[3]!.body)).toMatchObject({ type: 'login.cancelled', data: { sessionId: s3.session, origin: TEST_ORIGIN } });
    for (const x of [sock, sock2, sock3]) x.close();
  });
});
