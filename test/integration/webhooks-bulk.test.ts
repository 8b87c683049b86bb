import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookDeliveries } from '../../server/db/schema/index';
import type { RunningServer } from '../../server/main';
import {
  api, createTenantApp, createWebhookEnv, loginSucceeded, outboxOf, Receiver, waitFor, type WebhookEnv,
} from './webhooks-support';

let env: WebhookEnv;
let servers: RunningServer[];
let receiver: Receiver;

beforeAll(async () => {
  env = await createWebhookEnv('whbulk');
  // Two worker processes with their own sweepers, competing for the same queue.
  servers = [await env.start(), await env.start()];
  receiver = await new Receiver().listen();
});

afterAll(async () => {
  await receiver?.close();
  await env?.dispose();
});

describe('1,000 logins', () => {
  it('become 1,000 deliveries: none missing, none duplicated, every signature valid', { timeout: 120_000 }, async () => {
    const [a] = servers as [RunningServer, RunningServer];
    const t = await createTenantApp(a);
    const created = await api(a, t.test)('POST', '/v1/webhook_endpoints', { url: receiver.url, events: ['login.succeeded'] });
    receiver.secrets = [created.body.secret];
    // A few failures on the way, so retries are part of the run.
    receiver.behaviour = ({ n, id }) => (n === 0 && id.charCodeAt(id.length - 1) % 10 === 0 ? 500 : 200);

    const outbox = outboxOf(a);
    const ids: string[] = [];
    for (let i = 0; i < 1000; i += 10) {
      const batch = await a.core.db.transaction(async (tx) => {
        const out: string[] = [];
        for (let j = i; j < i + 10; j++) {
          out.push(await outbox.record(tx, { tenantId: t.tenantId, appId: t.app.id, mode: 'test', type: 'login.succeeded', data: loginSucceeded(`usr_${j}`, `sess_${j}`) }));
        }
        return out;
      });
      ids.push(...batch);
      await outbox.dispatch(batch);
    }

    await waitFor('all delivered', async () => {
      const [row] = await a.core.db.select({ n: sql<number>`count(*)::int` }).from(webhookDeliveries).where(eq(webhookDeliveries.status, 'succeeded'));
      return row!.n === 1000;
    }, 100_000);

    const ok = receiver.received.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1000);
    expect(new Set(ok.map((r) => r.id))).toEqual(new Set(ids));
    expect(receiver.received.filter((r) => r.verifiedWith.length !== 1)).toEqual([]);
    const bodies = ok.map((r) => JSON.parse(r.body) as { data: { sessionId: string } });
    expect(new Set(bodies.map((b) => b.data.sessionId)).size).toBe(1000);
    const [pending] = await a.core.db.select({ n: sql<number>`count(*)::int` }).from(webhookDeliveries).where(eq(webhookDeliveries.status, 'pending'));
    expect(pending!.n).toBe(0);
  });
});
