import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookDeliveries, webhookEndpoints } from '../../server/db/schema/index';
import type { RunningServer } from '../../server/main';
import {
  api, createTenantApp, createWebhookEnv, loginSucceeded, outboxOf, receiverPool, waitFor, type WebhookEnv,
} from './webhooks-support';

let env: WebhookEnv;
let server: RunningServer;
const receivers = receiverPool();
const receiver = receivers.receiver;

beforeAll(async () => {
  env = await createWebhookEnv('whdelivery');
  server = await env.start();
});

afterAll(async () => {
  await receivers.closeAll();
  await env?.dispose();
});

/** A fresh app with one endpoint pointing at a fresh receiver that knows the endpoint's secret. */
async function setup(events?: string[]) {
  const t = await createTenantApp(server);
  const r = await receiver();
  const call = api(server, t.test);
  const created = await call('POST', '/v1/webhook_endpoints', { url: r.url, ...(events ? { events } : {}), description: 'backend' });
  expect(created.status).toBe(201);
  r.secrets = [created.body.secret];
  return { t, r, call, endpoint: created.body as { id: string; secret: string } };
}

async function record(t: Awaited<ReturnType<typeof createTenantApp>>, mode: 'test' | 'live' = 'test', type: 'login.succeeded' | 'user.created' = 'login.succeeded') {
  const outbox = outboxOf(server);
  const data = type === 'login.succeeded'
    ? loginSucceeded('usr_a1', 'sess_1')
    : { userId: 'usr_a1', openid: 'o_1', time: new Date().toISOString() };
  const id = await server.core.db.transaction((tx) => outbox.record(tx, { tenantId: t.tenantId, appId: t.app.id, mode, type, data }));
  await outbox.dispatch([id]);
  return id;
}

async function deliveryOf(messageId: string) {
  const [d] = await server.core.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.messageId, messageId));
  return d!;
}

describe('webhook endpoints API', () => {
  it('creates an endpoint, shows the secret only at creation, and scopes every route to the key', async () => {
    const { t, call, endpoint } = await setup(['login.succeeded']);
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{40,}={0,2}$/);
    expect(Buffer.from(endpoint.secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    expect(endpoint).toMatchObject({ events: ['login.succeeded'], description: 'backend', enabled: true });

    const list = await call('GET', '/v1/webhook_endpoints');
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain('whsec_');
    const one = await call('GET', `/v1/webhook_endpoints/${endpoint.id}`);
    expect(one.status).toBe(200);
    expect(one.body.secret).toBeUndefined();

    const patched = await call('PATCH', `/v1/webhook_endpoints/${endpoint.id}`, { events: ['user.created', 'login.cancelled'], description: null });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ events: ['user.created', 'login.cancelled'], description: null });

    // Another tenant's key, and the same app's live key, see nothing.
    const other = await createTenantApp(server, 'Other');
    for (const key of [other.test, t.live]) {
      const c = api(server, key);
      expect((await c('GET', `/v1/webhook_endpoints/${endpoint.id}`)).status).toBe(404);
      expect((await c('PATCH', `/v1/webhook_endpoints/${endpoint.id}`, { enabled: false })).status).toBe(404);
      expect((await c('POST', `/v1/webhook_endpoints/${endpoint.id}/rotate_secret`)).status).toBe(404);
      expect((await c('POST', `/v1/webhook_endpoints/${endpoint.id}/test`)).status).toBe(404);
      expect((await c('DELETE', `/v1/webhook_endpoints/${endpoint.id}`)).status).toBe(404);
      expect((await c('GET', '/v1/webhook_endpoints')).body.data).toEqual([]);
    }

    expect((await call('POST', '/v1/webhook_endpoints', { url: 'http://127.0.0.1:1/x', events: ['login.nope'] })).status).toBe(400);
    expect((await call('POST', '/v1/webhook_endpoints', { url: 'ftp://example.com/x' })).status).toBe(400);
    expect((await fetch(`${server.url}/v1/webhook_endpoints`)).status).toBe(401);

    expect((await call('DELETE', `/v1/webhook_endpoints/${endpoint.id}`)).status).toBe(200);
    expect((await call('GET', `/v1/webhook_endpoints/${endpoint.id}`)).status).toBe(404);
  });
});

describe('webhook delivery', () => {
  it('delivers a recorded message that the standardwebhooks library verifies', async () => {
    const { t, r, call, endpoint } = await setup();
    const id = await record(t);
    await waitFor('delivery', () => r.received.length === 1);
    const got = r.received[0]!;
    expect(got.id).toBe(id);
    expect(got.verifiedWith).toEqual([endpoint.secret]);
    const body = JSON.parse(got.body);
    expect(body).toMatchObject({ type: 'login.succeeded', data: { userId: 'usr_a1', sessionId: 'sess_1', openid: 'o_usr_a1' } });
    expect(Number.isNaN(Date.parse(body.timestamp))).toBe(false);
    await waitFor('succeeded row', async () => (await deliveryOf(id)).status === 'succeeded');
    expect(await deliveryOf(id)).toMatchObject({ status: 'succeeded', attempts: 1, nextAttemptAt: null });

    const msgs = await call('GET', '/v1/webhook_messages');
    expect(msgs.body.data.map((m: { id: string }) => m.id)).toEqual([id]);
    expect(msgs.body.data[0].deliveries[0]).toMatchObject({ endpointId: endpoint.id, status: 'succeeded', attempts: 1 });
    const attempts = await call('GET', `/v1/webhook_messages/${id}/attempts`);
    expect(attempts.body.data).toHaveLength(1);
    expect(attempts.body.data[0]).toMatchObject({ attempt: 1, statusCode: 200, responseBody: 'ok', error: null });
  });

  it('sends only subscribed types, and only to endpoints of the message\'s mode', async () => {
    const { t, r } = await setup(['user.created']);
    const skipped = await record(t, 'test', 'login.succeeded');
    const liveOne = await record(t, 'live', 'user.created');
    const wanted = await record(t, 'test', 'user.created');
    await waitFor('delivery', () => r.received.length >= 1);
    await new Promise((ok) => setTimeout(ok, 300));
    expect(r.received.map((x) => x.id)).toEqual([wanted]);
    const rows = await server.core.db.select().from(webhookDeliveries);
    expect(rows.some((d) => d.messageId === skipped || d.messageId === liveOne)).toBe(false);
  });

  it('retries a receiver that is down, then delivers once with the same webhook-id, every attempt recorded', async () => {
    const { t, r, call } = await setup();
    r.behaviour = ({ n }) => (n < 3 ? 503 : 200);
    const id = await record(t);
    await waitFor('delivered', async () => (await deliveryOf(id)).status === 'succeeded');
    expect(r.received).toHaveLength(4);
    expect(new Set(r.received.map((x) => x.id))).toEqual(new Set([id]));
    expect(r.received.every((x) => x.verifiedWith.length === 1)).toBe(true);
    expect(r.received.filter((x) => x.status === 200)).toHaveLength(1);
    // Each attempt is signed afresh, but the body is the same bytes every time.
    expect(new Set(r.received.map((x) => x.body)).size).toBe(1);
    const attempts = (await call('GET', `/v1/webhook_messages/${id}/attempts`)).body.data as Array<{ attempt: number; statusCode: number; error: string | null; responseBody: string }>;
    expect(attempts.map((a) => [a.attempt, a.statusCode])).toEqual([[1, 503], [2, 503], [3, 503], [4, 200]]);
    expect(attempts[0]!.error).toBe('HTTP 503');
    expect(attempts[0]!.responseBody).toBe('nope 503');
    expect(await deliveryOf(id)).toMatchObject({ status: 'succeeded', attempts: 4 });
  });

  it('gives up after the whole schedule, and records a network error as an attempt', async () => {
    const { t, r, call, endpoint } = await setup();
    r.behaviour = () => 500;
    const id = await record(t);
    await waitFor('failed', async () => (await deliveryOf(id)).status === 'failed');
    expect(r.received).toHaveLength(8);
    const d = await deliveryOf(id);
    expect(d).toMatchObject({ status: 'failed', attempts: 8, nextAttemptAt: null });
    const [ep] = await server.core.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id));
    expect(ep!.failingSince).not.toBeNull();
    expect(ep!.enabled).toBe(true);

    // Point it at a closed port: a network error is an attempt too.
    await r.close();
    const failed = await call('GET', '/v1/webhook_messages?status=failed');
    expect(failed.body.data.map((m: { id: string }) => m.id)).toEqual([id]);
    expect((await call('POST', `/v1/webhook_messages/${id}/replay`)).status).toBe(202);
    await waitFor('failed again', async () => (await deliveryOf(id)).attempts === 9 && (await deliveryOf(id)).status === 'failed');
    const attempts = (await call('GET', `/v1/webhook_messages/${id}/attempts`)).body.data as Array<{ statusCode: number | null; error: string }>;
    expect(attempts[8]).toMatchObject({ statusCode: null, error: 'ECONNREFUSED' });
  });

  it('disables the endpoint on 410 Gone and stops sending to it', async () => {
    const { t, r, call, endpoint } = await setup();
    r.behaviour = () => 410;
    const id = await record(t);
    await waitFor('failed', async () => (await deliveryOf(id)).status === 'failed');
    expect(r.received).toHaveLength(1);
    const ep = (await call('GET', `/v1/webhook_endpoints/${endpoint.id}`)).body;
    expect(ep.enabled).toBe(false);
    expect(ep.disabledReason).toContain('410');
    const later = await record(t);
    expect(await server.core.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.messageId, later))).toEqual([]);
    expect((await call('POST', `/v1/webhook_endpoints/${endpoint.id}/test`)).status).toBe(409);

    // Re-enabled, it receives again.
    r.behaviour = () => 200;
    const re = await call('PATCH', `/v1/webhook_endpoints/${endpoint.id}`, { enabled: true });
    expect(re.body).toMatchObject({ enabled: true, disabledReason: null });
    await record(t);
    await waitFor('delivery after re-enable', () => r.received.length === 2);
  });

  it('signs with both secrets during a rotation overlap, then only the new one', async () => {
    const { t, r, call, endpoint } = await setup();
    const rotated = await call('POST', `/v1/webhook_endpoints/${endpoint.id}/rotate_secret`);
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.secret as string;
    expect(fresh).not.toBe(endpoint.secret);
    expect(Date.parse(rotated.body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23 * 3_600_000);
    r.secrets = [endpoint.secret, fresh];
    await record(t);
    await waitFor('delivery', () => r.received.length === 1);
    expect(r.received[0]!.verifiedWith).toEqual([endpoint.secret, fresh]);
    expect(String(r.received[0]!.headers['webhook-signature']).split(' ')).toHaveLength(2);

    // Once the overlap is over, only the new secret signs.
    await server.core.db.update(webhookEndpoints).set({ previousSecretUntil: new Date(Date.now() - 1000) }).where(eq(webhookEndpoints.id, endpoint.id));
    await record(t);
    await waitFor('second delivery', () => r.received.length === 2);
    expect(r.received[1]!.verifiedWith).toEqual([fresh]);
  });

  it('replays one message, and every failed delivery of an endpoint since a time', async () => {
    const { t, r, call, endpoint } = await setup();
    const first = await record(t);
    await waitFor('delivered', async () => (await deliveryOf(first)).status === 'succeeded');
    const replay = await call('POST', `/v1/webhook_messages/${first}/replay`, {});
    expect(replay).toMatchObject({ status: 202, body: { messageId: first, deliveries: 1 } });
    await waitFor('replayed', () => r.received.length === 2);
    expect(r.received[1]!.id).toBe(first);
    expect(r.received[1]!.verifiedWith).toHaveLength(1);

    r.behaviour = () => 500;
    const since = new Date().toISOString();
    const failedIds = [await record(t), await record(t)];
    for (const id of failedIds) await waitFor('failed', async () => (await deliveryOf(id)).status === 'failed');
    r.behaviour = () => 200;
    const before = r.received.length;
    const res = await call('POST', `/v1/webhook_endpoints/${endpoint.id}/replay_failed`, { since });
    expect(res).toMatchObject({ status: 202, body: { endpointId: endpoint.id, deliveries: 2 } });
    await waitFor('recovered', async () => (await Promise.all(failedIds.map(deliveryOf))).every((d) => d.status === 'succeeded'));
    const recovered = r.received.slice(before).filter((x) => x.status === 200).map((x) => x.id).sort();
    expect(recovered).toEqual([...failedIds].sort());
    expect((await call('POST', `/v1/webhook_endpoints/${endpoint.id}/replay_failed`, { since: 'yesterday' })).status).toBe(400);

    const other = await createTenantApp(server, 'Other');
    expect((await api(server, other.test)('POST', `/v1/webhook_messages/${first}/replay`)).status).toBe(404);
    expect((await api(server, other.test)('GET', `/v1/webhook_messages/${first}/attempts`)).status).toBe(404);
  });

  it('sends a test event to one endpoint', async () => {
    const { r, call, endpoint } = await setup(['user.created']);
    const res = await call('POST', `/v1/webhook_endpoints/${endpoint.id}/test`);
    expect(res.status).toBe(202);
    await waitFor('test event', () => r.received.length === 1);
    expect(r.received[0]!.id).toBe(res.body.messageId);
    expect(r.received[0]!.verifiedWith).toHaveLength(1);
    expect(JSON.parse(r.received[0]!.body)).toMatchObject({ type: 'webhook.test', data: { endpointId: endpoint.id } });
  });

  it('pages the message log with filters', async () => {
    const { t, call } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await record(t, 'test', i % 2 ? 'user.created' : 'login.succeeded'));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { data: Array<{ id: string }>; nextCursor: string | null } } =
        await call('GET', `/v1/webhook_messages?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((m) => m.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const users = await call('GET', '/v1/webhook_messages?type=user.created');
    expect(users.body.data.map((m: { id: string }) => m.id)).toEqual([ids[3], ids[1]]);
    expect((await call('GET', '/v1/webhook_messages?cursor=garbage')).status).toBe(400);
    expect((await call('GET', '/v1/webhook_messages?status=maybe')).status).toBe(400);
  });
});
