import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookEndpoints, webhookMessages } from '../../server/db/schema/index';
import { createAppsStore } from '../../server/features/apps/store';
import { createWebhooksFeature } from '../../server/features/webhooks/index';
import type { RunningServer } from '../../server/main';
import { serveFeatures } from '../helpers/server';
import { api, createTenantApp, createWebhookEnv, Receiver, type WebhookEnv } from './webhooks-support';

let env: WebhookEnv;
let server: RunningServer;
let receiver: Receiver;

beforeAll(async () => {
  env = await createWebhookEnv('whlimits');
  server = await env.start(undefined, { WEBHOOK_MAX_ENDPOINTS: '3', WEBHOOK_TEST_SENDS_PER_MINUTE: '2' });
  receiver = await new Receiver().listen();
});

afterAll(async () => {
  await receiver?.close();
  await env?.dispose();
});

async function endpointCount(appId: string, mode: 'test' | 'live') {
  return (await server.core.db.select().from(webhookEndpoints).where(and(eq(webhookEndpoints.appId, appId), eq(webhookEndpoints.mode, mode)))).length;
}

describe('webhook endpoint cap', () => {
  it('refuses the endpoint past the cap with a reason, and creates nothing', async () => {
    const t = await createTenantApp(server);
    const call = api(server, t.test);
    for (let i = 0; i < 3; i++) expect((await call('POST', '/v1/webhook_endpoints', { url: `${receiver.url}/${i}` })).status).toBe(201);
    const refused = await call('POST', '/v1/webhook_endpoints', { url: `${receiver.url}/3` });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'limit_exceeded', details: { limit: 3 } });
    expect(refused.body.error.message).toMatch(/already has 3 webhook endpoints in test mode/);
    expect(await endpointCount(t.app.id, 'test')).toBe(3);
    // Each mode has its own: live keys can still add theirs.
    expect((await api(server, t.live)('POST', '/v1/webhook_endpoints', { url: `${receiver.url}/live` })).status).toBe(201);
    // Deleting one makes room again.
    const list = (await call('GET', '/v1/webhook_endpoints')).body.data as Array<{ id: string }>;
    expect((await call('DELETE', `/v1/webhook_endpoints/${list[0]!.id}`)).status).toBe(200);
    expect((await call('POST', '/v1/webhook_endpoints', { url: `${receiver.url}/4` })).status).toBe(201);
  });

  it('holds under concurrent creates: never more than the cap', async () => {
    const t = await createTenantApp(server);
    const call = api(server, t.test);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => call('POST', '/v1/webhook_endpoints', { url: `${receiver.url}/c${i}` })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    expect(results.filter((r) => r.status === 403)).toHaveLength(5);
    expect(await endpointCount(t.app.id, 'test')).toBe(3);
  });

  it('takes the cap per tenant from the limits port main.ts gives the feature', async () => {
    const generous = new Set<string>();
    const served = await serveFeatures('whlimitsport', (core) => [createWebhooksFeature(core, {
      apps: createAppsStore(core),
      limits: { endpointsPerApp: async (tenantId) => (generous.has(tenantId) ? 5 : 1) },
    }).feature], { WEBHOOK_ALLOW_PRIVATE_URLS: 'true' });
    try {
      const host = { core: served.core, url: served.url } as RunningServer;
      const free = await createTenantApp(host, 'Free');
      const pro = await createTenantApp(host, 'Pro');
      generous.add(pro.tenantId);
      const create = (key: string, i: number) => api(host, key)('POST', '/v1/webhook_endpoints', { url: `${receiver.url}/p${i}` });
      expect((await create(free.test, 0)).status).toBe(201);
      expect((await create(free.test, 1)).body.error).toMatchObject({ code: 'limit_exceeded', details: { limit: 1 } });
      for (let i = 0; i < 5; i++) expect((await create(pro.test, i)).status).toBe(201);
      expect((await create(pro.test, 5)).status).toBe(403);
    } finally {
      await served.dispose();
    }
  });
});

describe('test sends', () => {
  it('are rate-limited per app and mode: refused with 429 and a retry time, nothing sent', async () => {
    const t = await createTenantApp(server);
    const call = api(server, t.test);
    const ep = (await call('POST', '/v1/webhook_endpoints', { url: receiver.url })).body as { id: string };
    expect((await call('POST', `/v1/webhook_endpoints/${ep.id}/test`)).status).toBe(202);
    expect((await call('POST', `/v1/webhook_endpoints/${ep.id}/test`)).status).toBe(202);
    const refused = await call('POST', `/v1/webhook_endpoints/${ep.id}/test`);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'rate_limited', details: { retryAfterSeconds: expect.any(Number) } });
    expect(refused.body.error.message).toMatch(/At most 2 test events a minute/);
    const messages = await server.core.db.select().from(webhookMessages).where(eq(webhookMessages.appId, t.app.id));
    expect(messages).toHaveLength(2);

    // Another app, and the same app's live mode, have their own allowance.
    const other = await createTenantApp(server, 'Other');
    const otherEp = (await api(server, other.test)('POST', '/v1/webhook_endpoints', { url: receiver.url })).body as { id: string };
    expect((await api(server, other.test)('POST', `/v1/webhook_endpoints/${otherEp.id}/test`)).status).toBe(202);
    const liveEp = (await api(server, t.live)('POST', '/v1/webhook_endpoints', { url: receiver.url })).body as { id: string };
    expect((await api(server, t.live)('POST', `/v1/webhook_endpoints/${liveEp.id}/test`)).status).toBe(202);
  });
});
