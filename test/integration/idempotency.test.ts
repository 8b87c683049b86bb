/**
 * Idempotency-Key on the creating routes (webhook endpoints, OIDC clients), as Stripe's: a
 * retry gets the first answer again and creates nothing; the key is the app's and mode's own.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyKeys } from '../../server/db/schema/index';
import { sha256 } from '../../server/lib/crypto';
import type { RunningServer } from '../../server/main';
import { api, createTenantApp, createWebhookEnv, Receiver, type WebhookEnv } from './webhooks-support';

let env: WebhookEnv;
let server: RunningServer;
let receiver: Receiver;

beforeAll(async () => {
  env = await createWebhookEnv('idem');
  // Few endpoints per app, so a creation can be refused after its key is claimed.
  server = await env.start(undefined, { WEBHOOK_MAX_ENDPOINTS: '3' });
  receiver = await new Receiver().listen();
});
afterAll(async () => {
  await receiver?.close();
  await env?.dispose();
});

function post(key: string, path: string, body: unknown, idempotencyKey?: string) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
    body: JSON.stringify(body),
  }).then(async (res) => ({ status: res.status, replayed: res.headers.get('idempotent-replayed'), body: await res.json() as Record<string, any> }));
}

describe('Idempotency-Key', () => {
  it('replays a webhook endpoint\'s creation, secret included, and creates one endpoint', async () => {
    const t = await createTenantApp(server);
    const first = await post(t.test, '/v1/webhook_endpoints', { url: receiver.url }, 'create-ep-1');
    expect(first.status).toBe(201);
    expect(first.replayed).toBeNull();
    const again = await post(t.test, '/v1/webhook_endpoints', { url: receiver.url }, 'create-ep-1');
    expect(again).toEqual({ status: 201, replayed: 'true', body: first.body });
    expect(again.body.secret).toMatch(/^whsec_/);
    expect((await api(server, t.test)('GET', '/v1/webhook_endpoints')).body.data).toHaveLength(1);
    // Without a key, or with another, each request creates.
    expect((await post(t.test, '/v1/webhook_endpoints', { url: receiver.url })).status).toBe(201);
    expect((await post(t.test, '/v1/webhook_endpoints', { url: receiver.url }, 'create-ep-2')).body.id).not.toBe(first.body.id);
    expect((await api(server, t.test)('GET', '/v1/webhook_endpoints')).body.data).toHaveLength(3);
    // The secret shown once is not stored readable.
    const [row] = await server.core.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, 'create-ep-1'));
    expect(row!.responseEnc).not.toContain(first.body.secret);
  });

  it('refuses the same key with another body, and while the first request is in flight', async () => {
    const t = await createTenantApp(server);
    expect((await post(t.test, '/v1/webhook_endpoints', { url: receiver.url }, 'k-body')).status).toBe(201);
    const other = await post(t.test, '/v1/webhook_endpoints', { url: `${receiver.url}/other` }, 'k-body');
    expect(other.status).toBe(400);
    expect(other.body.error.code).toBe('bad_request');

    // A first request still running holds its key: what a retry sent too soon meets.
    await server.core.db.insert(idempotencyKeys).values({
      tenantId: t.tenantId, appId: t.app.id, mode: 'test', route: 'webhook_endpoints.create', key: 'k-flight',
      requestHash: sha256(JSON.stringify({ url: receiver.url })), createdAt: new Date(),
    });
    const busy = await post(t.test, '/v1/webhook_endpoints', { url: receiver.url }, 'k-flight');
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('conflict');
  });

  it('keeps nothing for a failed first request, so its retry runs afresh', async () => {
    const t = await createTenantApp(server);
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await post(t.test, '/v1/webhook_endpoints', { url: `${receiver.url}/${i}` })).body.id as string);
    const refused = await post(t.test, '/v1/webhook_endpoints', { url: receiver.url }, 'k-fail');
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('limit_exceeded');
    expect(await server.core.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, 'k-fail'))).toEqual([]);
    expect((await api(server, t.test)('DELETE', `/v1/webhook_endpoints/${made[0]}`)).status).toBe(200);
    const retried = await post(t.test, '/v1/webhook_endpoints', { url: receiver.url }, 'k-fail');
    expect(retried.status).toBe(201);
    expect(retried.replayed).toBeNull();
  });

  it('scopes keys to the app and mode, and covers OIDC client creation', async () => {
    const a = await createTenantApp(server, 'A');
    const b = await createTenantApp(server, 'B');
    const client = { name: 'Shop', redirect_uris: ['https://shop.example.com/cb'] };
    const first = await post(a.live, '/v1/oidc_clients', client, 'same-key');
    expect(first.status).toBe(201);
    expect(first.body.client_secret).toBeTruthy();
    expect(await post(a.live, '/v1/oidc_clients', client, 'same-key')).toEqual({ status: 201, replayed: 'true', body: first.body });
    // Another tenant's app, or the same app's test mode, with the same key: its own request.
    const other = await post(b.live, '/v1/oidc_clients', client, 'same-key');
    expect(other.replayed).toBeNull();
    expect(other.body.client_id).not.toBe(first.body.client_id);
    const testMode = await post(a.test, '/v1/oidc_clients', client, 'same-key');
    expect(testMode.replayed).toBeNull();
    expect(testMode.body.client_id).not.toBe(first.body.client_id);
  });

  it('refuses a malformed key', async () => {
    const t = await createTenantApp(server);
    const r = await post(t.test, '/v1/webhook_endpoints', { url: receiver.url }, 'has space');
    expect(r.status).toBe(400);
  });
});
