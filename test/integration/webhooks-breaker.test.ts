import { desc, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookAttempts, webhookDeliveries } from '../../server/db/schema/index';
import type { RunningServer } from '../../server/main';
import { api, createTenantApp, createWebhookEnv, loginSucceeded, outboxOf, Receiver, waitFor, type WebhookEnv } from './webhooks-support';

const THRESHOLD = 3;
/** Long enough that the checks made while open finish before it ends, on a loaded machine too. */
const PAUSE_MS = 2_000;
/** A hanging attempt gives up after this: the failures that trip the breaker are timeouts. */
const TIMEOUT_MS = 1_500;

let env: WebhookEnv;
let server: RunningServer;
let receiver: Receiver;

beforeAll(async () => {
  env = await createWebhookEnv('whbreaker');
  server = await env.start({
    // Retries come due long before the pause ends: they must wait for it, not spend attempts.
    scheduleMs: [30, 30, 30, 30, 30, 30, 30],
    timeoutMs: TIMEOUT_MS,
    leaseMs: 15_000,
    sweepIntervalMs: 200,
    // One attempt at a time, so the failures in a row are counted in a known order.
    endpointConcurrency: 1,
    breaker: { threshold: THRESHOLD, pauseMs: PAUSE_MS, maxPauseMs: 10_000 },
  });
  receiver = await new Receiver().listen();
});

afterAll(async () => {
  await receiver?.close();
  await env?.dispose();
});

interface Circuit { state: string; pausedUntil: string | null; consecutiveFailures: number }

describe('circuit breaker', () => {
  it('opens after timeouts in a row, pauses without spending retries, probes half-open, doubles the pause, and closes', async () => {
    const t = await createTenantApp(server);
    const call = api(server, t.test);
    const created = await call('POST', '/v1/webhook_endpoints', { url: receiver.url });
    expect(created.status).toBe(201);
    expect(created.body.circuit).toEqual({ state: 'closed', pausedUntil: null, consecutiveFailures: 0 });
    const endpointId = created.body.id as string;
    const circuit = async () => (await call('GET', `/v1/webhook_endpoints/${endpointId}`)).body.circuit as Circuit;
    const lastAttempt = async () => {
      const [a] = await server.core.db.select({ at: webhookAttempts.createdAt }).from(webhookAttempts)
        .innerJoin(webhookDeliveries, eq(webhookDeliveries.id, webhookAttempts.deliveryId))
        .where(eq(webhookDeliveries.endpointId, endpointId)).orderBy(desc(webhookAttempts.createdAt)).limit(1);
      return a!.at.getTime();
    };

    receiver.behaviour = () => 'hang';
    const outbox = outboxOf(server);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(await server.core.db.transaction((tx) => outbox.record(tx, {
        tenantId: t.tenantId, appId: t.app.id, mode: 'test', type: 'login.succeeded', data: loginSucceeded(`usr_b${i}`, `sess_b${i}`),
      })));
    }
    await outbox.dispatch(ids);

    // While open nothing is sent, so the breaker and the last attempt can be read together:
    // read the breaker on both sides of the attempt, and try again if it moved in between.
    const whileOpen = async (atLeast: number) => {
      const c = await circuit();
      if (c.state !== 'open' || c.consecutiveFailures < atLeast) return null;
      const last = await lastAttempt();
      return JSON.stringify(await circuit()) === JSON.stringify(c) ? { ...c, last } : null;
    };
    const pauseFor = (failures: number) => PAUSE_MS * 2 ** (failures - THRESHOLD);

    // Open: the pause starts at the failure that reached the threshold, and every attempt so far failed.
    const opened = await waitFor('the breaker to open', () => whileOpen(THRESHOLD));
    expect(Date.parse(opened.pausedUntil!) - opened.last).toBe(pauseFor(opened.consecutiveFailures));
    expect(receiver.received).toHaveLength(opened.consecutiveFailures);
    const log = await call('GET', '/v1/webhook_messages');
    const deliveries = log.body.data.flatMap((m: { deliveries: unknown[] }) => m.deliveries);
    expect(deliveries).toHaveLength(3);
    for (const d of deliveries) expect(d).toMatchObject({ state: 'paused', pausedUntil: opened.pausedUntil, status: 'pending' });

    // The probe at the pause's end fails: open again, for twice as long. Nothing was sent
    // before the pause ended, though every retry was due long before.
    const reopened = await waitFor('a failed probe', () => whileOpen(opened.consecutiveFailures + 1));
    expect(receiver.received).toHaveLength(reopened.consecutiveFailures);
    expect(receiver.received[opened.consecutiveFailures]!.at).toBeGreaterThanOrEqual(Date.parse(opened.pausedUntil!));
    expect(Date.parse(reopened.pausedUntil!) - reopened.last).toBe(2 * pauseFor(reopened.consecutiveFailures - 1));

    // The next probe is held back by the receiver while we look: half-open lets only it through.
    let answer!: (status: number) => void;
    const answered = new Promise<number>((ok) => (answer = ok));
    receiver.behaviour = () => answered;
    const probes = reopened.consecutiveFailures + 1;
    await waitFor('the probe to arrive', () => receiver.received.length === probes);
    expect(receiver.received[probes - 1]!.at).toBeGreaterThanOrEqual(Date.parse(reopened.pausedUntil!));
    expect((await circuit()).state).toBe('half_open');
    expect(receiver.received).toHaveLength(probes);
    answer(200);

    // Closed: the probe's success lets the held deliveries go, each with its retries intact.
    await waitFor('all delivered', async () => {
      const rows = await server.core.db.select().from(webhookDeliveries).where(inArray(webhookDeliveries.messageId, ids));
      return rows.every((d) => d.status === 'succeeded');
    });
    expect(await circuit()).toEqual({ state: 'closed', pausedUntil: null, consecutiveFailures: 0 });
    const rows = await server.core.db.select().from(webhookDeliveries).where(inArray(webhookDeliveries.messageId, ids));
    for (const d of rows) expect(d.attempts).toBe(receiver.received.filter((r) => r.id === d.messageId).length);
    // After the probe, one attempt for each of the two other messages: no retry was spent while paused.
    expect(receiver.received).toHaveLength(probes + 2);
    const after = await call('GET', '/v1/webhook_messages');
    for (const m of after.body.data) expect(m.deliveries[0]).toMatchObject({ state: 'delivered', pausedUntil: null });
  });

  it('starts a new URL, or a re-enabled endpoint, with a closed breaker', async () => {
    const t = await createTenantApp(server);
    const call = api(server, t.test);
    receiver.behaviour = () => 'hang';
    const ep = (await call('POST', '/v1/webhook_endpoints', { url: receiver.url })).body as { id: string };
    const outbox = outboxOf(server);
    const failUntilOpen = async () => {
      for (let i = 0; i < THRESHOLD; i++) {
        const id = await server.core.db.transaction((tx) => outbox.record(tx, {
          tenantId: t.tenantId, appId: t.app.id, mode: 'test', type: 'user.created', data: { userId: `usr_n${i}`, openid: `o_${i}`, time: new Date().toISOString() },
        }));
        await outbox.dispatch([id]);
      }
      await waitFor('open', async () => (await call('GET', `/v1/webhook_endpoints/${ep.id}`)).body.circuit.state !== 'closed');
    };
    const closed = { state: 'closed', pausedUntil: null, consecutiveFailures: 0 };

    await failUntilOpen();
    const moved = await call('PATCH', `/v1/webhook_endpoints/${ep.id}`, { url: `${receiver.url}/v2` });
    expect(moved.body.circuit).toEqual(closed);
    expect(moved.body.failingSince).toBeNull();

    await failUntilOpen();
    expect((await call('PATCH', `/v1/webhook_endpoints/${ep.id}`, { enabled: false })).body.circuit.state).not.toBe('closed');
    const enabled = await call('PATCH', `/v1/webhook_endpoints/${ep.id}`, { enabled: true });
    expect(enabled.body.circuit).toEqual(closed);
  });
});

describe('circuit breaker, an endpoint that refuses fast', () => {
  const FLAKY_PAUSE_MS = 5_000;
  const LOGINS = 20;
  let flakyEnv: WebhookEnv;
  let flaky: RunningServer;
  let mid: Receiver;

  beforeAll(async () => {
    flakyEnv = await createWebhookEnv('whflaky');
    // The schedule's retry is due long before a pause would end: a paused retry is seen at once.
    flaky = await flakyEnv.start({
      scheduleMs: [100, 100, 100],
      timeoutMs: 10_000,
      leaseMs: 15_000,
      sweepIntervalMs: 200,
      breaker: { threshold: THRESHOLD, pauseMs: FLAKY_PAUSE_MS, maxPauseMs: FLAKY_PAUSE_MS },
    });
    mid = await new Receiver().listen();
  });

  afterAll(async () => {
    await mid?.close();
    await flakyEnv?.dispose();
  });

  it('gets every retry on schedule when it answers 503 to each first attempt and 2xx to the retry', async () => {
    const t = await createTenantApp(flaky);
    const call = api(flaky, t.test);
    const ep = (await call('POST', '/v1/webhook_endpoints', { url: mid.url })).body as { id: string };
    // A receiver mid-deploy: every message is refused once, quickly, then taken.
    mid.behaviour = ({ n }) => (n === 0 ? 503 : 204);
    const outbox = outboxOf(flaky);
    const ids: string[] = [];
    for (let i = 0; i < LOGINS; i++) {
      ids.push(await flaky.core.db.transaction((tx) => outbox.record(tx, {
        tenantId: t.tenantId, appId: t.app.id, mode: 'test', type: 'login.succeeded', data: loginSucceeded(`usr_m${i}`, `sess_m${i}`),
      })));
    }
    await outbox.dispatch(ids);

    const rows = await waitFor('all delivered', async () => {
      const r = await flaky.core.db.select().from(webhookDeliveries).where(inArray(webhookDeliveries.messageId, ids));
      return r.length === LOGINS && r.every((d) => d.status === 'succeeded') && r;
    });
    // Twenty fast refusals in a row never opened the breaker: nothing was paused, so each
    // retry came on its schedule, never as late as a pause would have made it.
    for (const d of rows) expect(d.attempts).toBe(2);
    for (const id of ids) {
      const [first, retry] = mid.received.filter((r) => r.id === id);
      expect(first!.status).toBe(503);
      expect(retry!.status).toBe(204);
      expect(retry!.at - first!.at).toBeLessThan(FLAKY_PAUSE_MS);
    }
    expect(mid.received).toHaveLength(2 * LOGINS);
    const after = (await call('GET', `/v1/webhook_endpoints/${ep.id}`)).body;
    expect(after.circuit).toEqual({ state: 'closed', pausedUntil: null, consecutiveFailures: 0 });
  });
});
