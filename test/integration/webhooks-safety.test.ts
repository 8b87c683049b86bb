import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookAttempts, webhookDeliveries, webhookEndpoints } from '../../server/db/schema/index';
import type { RunningServer } from '../../server/main';
import { encrypt } from '../../server/lib/crypto';
import { newId } from '../../server/lib/ids';
import { secretContext } from '../../server/features/webhooks/store';
import {
  api, createTenantApp, createWebhookEnv, loginSucceeded, outboxOf, Receiver, waitFor, type WebhookEnv,
} from './webhooks-support';

/** A server as a hosted deployment runs it: private webhook URLs not allowed. */
let env: WebhookEnv;
let server: RunningServer;
let receiver: Receiver;

beforeAll(async () => {
  env = await createWebhookEnv('whsafety');
  server = await env.start(
    { scheduleMs: [50, 50, 50, 50, 50, 50, 50], timeoutMs: 300, leaseMs: 2_000, sweepIntervalMs: 200, disableAfterMs: 400 },
    { WEBHOOK_ALLOW_PRIVATE_URLS: 'false' },
  );
  receiver = await new Receiver().listen();
});

afterAll(async () => {
  await receiver?.close();
  await env?.dispose();
});

async function deliveriesOf(messageId: string) {
  return server.core.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.messageId, messageId));
}

async function record(t: Awaited<ReturnType<typeof createTenantApp>>, mode: 'test' | 'live') {
  const outbox = outboxOf(server);
  const id = await server.core.db.transaction((tx) => outbox.record(tx, { tenantId: t.tenantId, appId: t.app.id, mode, type: 'login.succeeded', data: loginSucceeded('usr_x', 'sess_x') }));
  await outbox.dispatch([id]);
  return id;
}

describe('webhook URL safety', () => {
  it('refuses live-mode URLs that are not https or resolve to private, loopback or link-local addresses', async () => {
    const t = await createTenantApp(server);
    const live = api(server, t.live);
    for (const url of [
      'http://example.com/hook',
      'https://127.0.0.1/hook',
      'https://localhost/hook',
      'https://10.1.2.3/hook',
      'https://192.168.0.10/hook',
      'https://172.20.0.1/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://[::1]/hook',
      'https://[fe80::1]/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://0.0.0.0/hook',
      'https://user:pass@example.com/hook',
    ]) {
      const res = await live('POST', '/v1/webhook_endpoints', { url });
      expect(res.status, url).toBe(400);
      expect(res.body.error.code).toBe('bad_request');
    }
    expect((await live('GET', '/v1/webhook_endpoints')).body.data).toEqual([]);
    // A public address literal is accepted (nothing is sent until an event happens).
    expect((await live('POST', '/v1/webhook_endpoints', { url: 'https://93.184.215.14/hook' })).status).toBe(201);

    // Editing a URL goes through the same check.
    const ep = (await live('GET', '/v1/webhook_endpoints')).body.data[0];
    expect((await live('PATCH', `/v1/webhook_endpoints/${ep.id}`, { url: 'https://127.0.0.1/x' })).status).toBe(400);
  });

  it('allows http and localhost in test mode, but not private networks or link-local', async () => {
    const t = await createTenantApp(server);
    const test = api(server, t.test);
    expect((await test('POST', '/v1/webhook_endpoints', { url: receiver.url })).status).toBe(201);
    expect((await test('POST', '/v1/webhook_endpoints', { url: `http://localhost:${receiver.port}/hook` })).status).toBe(201);
    expect((await test('POST', '/v1/webhook_endpoints', { url: 'http://169.254.169.254/latest/meta-data' })).status).toBe(400);
    expect((await test('POST', '/v1/webhook_endpoints', { url: 'http://10.0.0.5/hook' })).status).toBe(400);
  });

  it('checks the address again when delivering, so a name that now resolves to loopback is not called', async () => {
    const t = await createTenantApp(server);
    // As if `localhost` had resolved to a public address when the endpoint was saved (DNS rebinding).
    const id = newId('ep');
    await server.core.db.insert(webhookEndpoints).values({
      id, tenantId: t.tenantId, appId: t.app.id, mode: 'live', url: `http://localhost:${receiver.port}/hook`,
      secretEnc: encrypt(server.core.config.masterKey, 'whsec_' + Buffer.alloc(32, 1).toString('base64'), secretContext(id)),
    });
    const before = receiver.received.length;
    const msg = await record(t, 'live');
    await waitFor('attempt', async () => (await deliveriesOf(msg))[0]!.attempts >= 1);
    const [d] = await deliveriesOf(msg);
    const attempts = await server.core.db.select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, d!.id));
    expect(attempts[0]).toMatchObject({ statusCode: null, error: 'forbidden address' });
    expect(receiver.received.length).toBe(before);
  });

  it('times out a receiver that never answers, and disables an endpoint failing for longer than the limit', async () => {
    const t = await createTenantApp(server);
    const hanging = await new Receiver().listen();
    hanging.behaviour = () => 'hang';
    try {
      const test = api(server, t.test);
      const ep = (await test('POST', '/v1/webhook_endpoints', { url: hanging.url })).body;
      const msg = await record(t, 'test');
      await waitFor('disabled', async () => !(await test('GET', `/v1/webhook_endpoints/${ep.id}`)).body.enabled, 20_000);
      const view = (await test('GET', `/v1/webhook_endpoints/${ep.id}`)).body;
      expect(view.disabledReason).toMatch(/every delivery failed since/);
      await waitFor('failed', async () => (await deliveriesOf(msg))[0]!.status === 'failed');
      const attempts = (await test('GET', `/v1/webhook_messages/${msg}/attempts`)).body.data as Array<{ error: string; statusCode: number | null }>;
      expect(attempts.length).toBeGreaterThanOrEqual(2);
      expect(attempts[0]).toMatchObject({ statusCode: null, error: 'timed out after 300 ms' });
    } finally {
      await hanging.close();
    }
  });
});
