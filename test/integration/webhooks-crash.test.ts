import { spawn, type ChildProcess } from 'node:child_process';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookAttempts, webhookDeliveries } from '../../server/db/schema/index';
import type { Database } from '../../server/db/client';
import {
  api, createTenantApp, createWebhookEnv, loginSucceeded, outboxOf, Receiver, waitFor, type WebhookEnv,
} from './webhooks-support';

const TUNING = { scheduleMs: [100, 100, 100, 100, 100, 100, 100], timeoutMs: 2_000, leaseMs: 3_000, sweepIntervalMs: 200 };

let env: WebhookEnv;
let receiver: Receiver;
let child: ChildProcess | undefined;

beforeAll(async () => {
  env = await createWebhookEnv('whcrash');
  receiver = await new Receiver().listen();
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await receiver?.close();
  await env?.dispose();
});

function startChild(): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/integration/webhooks-worker-process.ts'], {
    env: { ...process.env, DB_URL: env.databaseUrl, REDIS_PREFIX: env.redisPrefix, TUNING: JSON.stringify(TUNING) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((ok, fail) => {
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /ready (\S+)/.exec(out);
      if (m) ok({ proc, url: m[1]! });
    });
    proc.once('exit', (code) => fail(new Error(`worker process exited early (${code})`)));
  });
}

describe('a worker that dies mid-delivery', () => {
  it('loses nothing: another process delivers the message after the claim expires', async () => {
    // Records and the API come from an in-process server that runs no workers; the child delivers first.
    const api_ = await env.start(TUNING, { ROLE: 'api' });
    const t = await createTenantApp(api_);
    const created = await api(api_, t.test)('POST', '/v1/webhook_endpoints', { url: receiver.url });
    receiver.secrets = [created.body.secret];

    const started = await startChild();
    child = started.proc;
    // The first request arrives at the receiver and is never answered: the worker is mid-delivery.
    receiver.behaviour = ({ n }) => (n === 0 ? 'hang' : 200);
    const crashed = new Promise<void>((ok) => child!.once('exit', () => ok()));
    const outbox = outboxOf(api_);
    const id = await api_.core.db.transaction((tx) => outbox.record(tx, {
      tenantId: t.tenantId, appId: t.app.id, mode: 'test', type: 'login.succeeded', data: loginSucceeded('usr_c', 'sess_c'),
    }));
    await outbox.dispatch([id]);
    await waitFor('in-flight request', () => receiver.received.length === 1);
    child.kill('SIGKILL');
    await crashed;

    const db: Database = api_.core.database;
    const [d] = await db.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.messageId, id));
    expect(d).toMatchObject({ status: 'pending', attempts: 0 });

    // A fresh worker process (in-process this time) picks it up through its sweeper.
    await env.start(TUNING);
    await waitFor('delivered after the crash', async () => {
      const [row] = await db.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.messageId, id));
      return row?.status === 'succeeded';
    });
    expect(receiver.received.map((r) => r.id)).toEqual([id, id]);
    expect(receiver.received[1]!.verifiedWith).toEqual([created.body.secret]);
    const attempts = await db.db.select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, d!.id));
    // The crashed attempt never got to write its row; the recovery attempt did.
    expect(attempts.map((a) => a.statusCode)).toEqual([200]);
  });
});
