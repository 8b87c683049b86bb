import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { ConsoleClient } from './console-client';
import { createWebhookEnv, loginSucceeded, outboxOf, Receiver, waitFor, type WebhookEnv } from './webhooks-support';

let env: WebhookEnv;
let s: RunningServer;
let receiver: Receiver;

beforeAll(async () => {
  env = await createWebhookEnv('whconsole');
  s = await env.start();
  receiver = await new Receiver().listen();
});
afterAll(async () => {
  await receiver?.close();
  await env?.dispose();
});

describe('console webhook routes', () => {
  it('manage endpoints, reveal and rotate secrets, send a test event, read the log and replay', async () => {
    const owner = new ConsoleClient(s.url);
    const me = await owner.signUp('hooks@example.com');
    const tenantId = me.tenants[0]!.id;
    const created = await owner.post(`/tenants/${tenantId}/apps`, { name: 'Hook Shop', allowedOrigins: ['https://shop.example.com'] });
    expect(created.status).toBe(201);
    const appId = created.body.app.id as string;
    const base = `/tenants/${tenantId}/apps/${appId}/webhooks`;

    const ep = await owner.post(`${base}/endpoints?mode=test`, { url: receiver.url, events: ['login.succeeded'], description: 'orders' });
    expect(ep.status).toBe(201);
    expect(ep.body.secret).toMatch(/^whsec_/);
    receiver.secrets = [ep.body.secret];
    const list = await owner.get(`${base}/endpoints?mode=test`);
    expect(list.body.data).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain('whsec_');
    expect((await owner.get(`${base}/endpoints?mode=live`)).body.data).toEqual([]);
    expect((await owner.get(`${base}/endpoints?mode=other`)).status).toBe(400);

    const revealed = await owner.post(`${base}/endpoints/${ep.body.id}/secret?mode=test`);
    expect(revealed.body.secret).toBe(ep.body.secret);
    // Reveal is a write: no CSRF token, no secret.
    expect((await owner.call('POST', `${base}/endpoints/${ep.body.id}/secret?mode=test`, {}, { csrf: null })).status).toBe(403);

    const test = await owner.post(`${base}/endpoints/${ep.body.id}/test?mode=test`);
    expect(test.status).toBe(202);
    await waitFor('test event', () => receiver.received.length === 1);
    expect(receiver.received[0]!.verifiedWith).toEqual([ep.body.secret]);

    const outbox = outboxOf(s);
    const msg = await s.core.db.transaction((tx) => outbox.record(tx, {
      tenantId, appId, mode: 'test', type: 'login.succeeded', data: loginSucceeded('usr_console', 'sess_console'),
    }));
    await outbox.dispatch([msg]);
    await waitFor('login event', () => receiver.received.length === 2);

    const log = await owner.get(`${base}/messages?mode=test&type=login.succeeded`);
    expect(log.status).toBe(200);
    expect(log.body.data.map((m: { id: string }) => m.id)).toEqual([msg]);
    const attempts = await owner.get(`${base}/messages/${msg}/attempts?mode=test`);
    expect(attempts.body.data).toEqual([expect.objectContaining({ statusCode: 200, endpointId: ep.body.id })]);

    const replay = await owner.post(`${base}/messages/${msg}/replay?mode=test`);
    expect(replay.body).toEqual({ messageId: msg, deliveries: 1 });
    await waitFor('replayed', () => receiver.received.length === 3);

    const rotated = await owner.post(`${base}/endpoints/${ep.body.id}/rotate?mode=test`);
    expect(rotated.body.secret).not.toBe(ep.body.secret);
    const off = await owner.patch(`${base}/endpoints/${ep.body.id}?mode=test`, { enabled: false });
    expect(off.body).toMatchObject({ enabled: false });
    expect(off.body.disabledReason).toMatch(/by the tenant/);
    expect((await owner.post(`${base}/endpoints/${ep.body.id}/replay-failed?mode=test`, { since: new Date(0).toISOString() })).status).toBe(409);

    // Someone else's organisation sees none of it.
    const stranger = new ConsoleClient(s.url);
    const other = await stranger.signUp('stranger@example.com');
    expect((await stranger.get(`${base}/endpoints?mode=test`)).status).toBe(404);
    const otherTenant = other.tenants[0]!.id;
    expect((await stranger.get(`/tenants/${otherTenant}/apps/${appId}/webhooks/endpoints?mode=test`)).status).toBe(404);
    expect((await stranger.post(`/tenants/${otherTenant}/apps/${appId}/webhooks/endpoints/${ep.body.id}/secret?mode=test`)).status).toBe(404);

    expect((await owner.del(`${base}/endpoints/${ep.body.id}?mode=test`)).status).toBe(204);
    expect((await owner.get(`${base}/endpoints?mode=test`)).body.data).toEqual([]);
  }, 90_000);
});
