import { Redis } from 'ioredis';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../server/core';
import { webhookEndpoints } from '../../server/db/schema/index';
import { liveLogins } from '../../server/features/console/activity/store';
import { createLiveStreams } from '../../server/features/console/activity/stream';
import { createDeliveryQueue } from '../../server/features/webhooks/queue';
import { createRetention } from '../../server/features/webhooks/retention';
import { createSweeper } from '../../server/features/webhooks/sweeper';
import { createJobs } from '../../server/lib/jobs';
import { createLogger } from '../../server/lib/logger';
import type { RunningServer } from '../../server/main';
import { createTestDatabase } from '../helpers/db';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { api, createTenantApp, FAST_SCHEDULE, loginSucceeded, outboxOf, waitFor } from './webhooks-support';

/** A logger like production's (same redaction and serializers) writing into memory. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return {
    logger: createLogger('warn', 'test', stream),
    text: () => lines.join('\n'),
    line: (msg: string) => lines.map((l) => JSON.parse(l) as { msg: string; err?: unknown }).find((l) => l.msg === msg),
  };
}

/** The error went through pino's err serializer (an object with a type and stack), not in as a string. */
function expectSerialized(entry: { err?: unknown } | undefined) {
  expect(entry).toBeDefined();
  expect(entry!.err).toMatchObject({ type: expect.any(String), message: expect.any(String), stack: expect.any(String) });
}

describe('webhook worker paths log errors through the redacting serializer', () => {
  let env: TestEnv;
  let server: RunningServer;
  const logs = capture();
  let tenant: Server;

  beforeAll(async () => {
    env = await createTestEnv('whlogs');
    server = await env.start({}, { webhooks: FAST_SCHEDULE, logger: logs.logger });
  });
  afterAll(async () => {
    tenant?.closeAllConnections();
    await new Promise((ok) => (tenant ? tenant.close(ok) : ok(undefined)));
    await env?.dispose();
  });

  it('a delivery job that fails on a database write logs the error without its bound values', async () => {
    // The tenant's backend echoes a secret in its answer, which the delivery log stores; the
    // endpoint is deleted while the attempt is in flight, so storing that answer fails and
    // drizzle's error message carries every bound value, the answer included.
    const secret = 'whsec_EchoedBackByTheTenantZx81Qp';
    let endpointId = '';
    tenant = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        void server.core.db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, endpointId)).then(() => res.end(`ok ${secret}`));
      });
    });
    await new Promise<void>((ok) => tenant.listen(0, '127.0.0.1', ok));
    const t = await createTenantApp(server);
    const created = await api(server, t.test)('POST', '/v1/webhook_endpoints', { url: `http://127.0.0.1:${(tenant.address() as AddressInfo).port}/hook` });
    expect(created.status).toBe(201);
    endpointId = created.body.id;
    const outbox = outboxOf(server);
    const id = await server.core.db.transaction((tx) => outbox.record(tx, {
      tenantId: t.tenantId, appId: t.app.id, mode: 'test', type: 'login.succeeded', data: loginSucceeded('usr_logs', 'sess_logs'),
    }));
    await outbox.dispatch([id]);

    const failed = await waitFor('the job failure log', () => logs.line('webhook delivery job failed; the sweeper will retry it'));
    expectSerialized(failed);
    expect(JSON.stringify(failed)).toContain('params: [redacted]');
    expect(logs.text()).not.toContain(secret);
  });
});

describe('sweeper, retention, enqueue and the console stream during an outage', () => {
  const logs = capture();
  let core: Core;
  let dropDb: () => Promise<void>;
  let jobs: ReturnType<typeof createJobs>;
  let http: Server | undefined;

  beforeAll(async () => {
    const database = await createTestDatabase('whlogsoutage');
    dropDb = database.drop;
    // Postgres gone (the pool is closed) and Redis unreachable (nothing listens on port 1).
    await database.database.close();
    jobs = createJobs({ prefix: 'wsltest-logs', connection: { host: '127.0.0.1', port: 1, maxRetriesPerRequest: null }, runsWorkers: false, logger: logs.logger, redis: new Redis({ port: 1, lazyConnect: true }), instanceId: 'inst_logs' });
    core = { db: database.database.db, logger: logs.logger, jobs, config: { webhookRetentionDays: 30 } } as unknown as Core;
  });
  afterAll(async () => {
    http?.closeAllConnections();
    await new Promise((ok) => (http ? http.close(ok) : ok(undefined)));
    await jobs?.close();
    await dropDb?.();
  });

  it('the sweeper and retention log the failed query, its bound values redacted', async () => {
    const queue = createDeliveryQueue(core);
    const sweeper = createSweeper(core, queue, { intervalMs: 60_000, batch: 5000 });
    const retention = createRetention(core, { retentionMs: 86_400_000, intervalMs: 60_000, batch: 5000 });
    sweeper.start();
    retention.start();
    await Promise.all([sweeper.stop(), retention.stop()]);
    for (const msg of ['webhook sweep failed', 'webhook retention pass failed']) {
      const entry = logs.line(msg);
      expectSerialized(entry);
      const text = JSON.stringify(entry);
      expect(text).toContain('params: [redacted]');
      // The sweeper binds 'pending', retention its cutoff date: neither appears.
      expect(text).not.toMatch(/params: (pending|\d{4}-)/);
    }
  });

  it('a failed enqueue logs the error object', async () => {
    await createDeliveryQueue(core).enqueue([{ id: 'dlv_logs', due: new Date() }]);
    expectSerialized(logs.line('webhook enqueue failed; the sweeper will retry'));
  });

  it('the console live stream logs a failed poll without its bound values', async () => {
    const tenantId = 'ten_SecretishTenantMarker9';
    const streams = createLiveStreams({ logger: logs.logger });
    const app = express();
    app.get('/stream', (_req, res) => streams.open(res, liveLogins(core.db, tenantId, 'app_logs'), async () => true));
    http = createServer(app);
    await new Promise<void>((ok) => http!.listen(0, '127.0.0.1', ok));
    const ctl = new AbortController();
    const res = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/stream`, { signal: ctl.signal });
    expect(res.status).toBe(200);
    try {
      const entry = await waitFor('the stream poll failure log', () => logs.line('console live stream poll failed'));
      expectSerialized(entry);
      expect(JSON.stringify(entry)).toContain('params: [redacted]');
      expect(logs.text()).not.toContain(tenantId);
    } finally {
      ctl.abort();
      streams.closeAll();
    }
  });
});
