import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { ConsoleClient } from './console-client';
import { createWebhookEnv, FAST_SCHEDULE, loginSucceeded, outboxOf, Receiver, type WebhookEnv } from './webhooks-support';

let env: WebhookEnv;
let s: RunningServer;
let receiver: Receiver;

beforeAll(async () => {
  env = await createWebhookEnv('whlive');
  // The first retry waits longer than the stream's poll, so the page sees the delivery retrying.
  s = await env.start({ ...FAST_SCHEDULE, scheduleMs: [3_000, 50, 50] });
  receiver = await new Receiver().listen();
});
afterAll(async () => {
  await receiver?.close();
  await env?.dispose();
});

interface Sse { event: string; data: Record<string, unknown> }

/** Reads server-sent events until `until` has seen what it needs. */
async function readEvents(res: Response, until: (events: Sse[]) => boolean): Promise<Sse[]> {
  const reader = res.body!.getReader();
  const events: Sse[] = [];
  let buffer = '';
  while (!until(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += new TextDecoder().decode(value);
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) });
    }
  }
  return events;
}

describe('the console\'s live delivery log', () => {
  it('streams each change of a delivery\'s state, and the log answers the real state', async () => {
    const owner = new ConsoleClient(s.url);
    const me = await owner.signUp('live-hooks@example.com');
    const tenantId = me.tenants[0]!.id;
    const appId = (await owner.post(`/tenants/${tenantId}/apps`, { name: 'Live Shop', allowedOrigins: ['https://shop.example.com'] })).body.app.id as string;
    const base = `/tenants/${tenantId}/apps/${appId}/webhooks`;
    const ep = (await owner.post(`${base}/endpoints?mode=test`, { url: receiver.url })).body as { id: string };
    receiver.behaviour = ({ n }) => (n === 0 ? 503 : 200);

    const ctrl = new AbortController();
    const res = await fetch(`${s.url}/console/api${base}/stream?mode=test`, { headers: { cookie: owner.cookie! }, signal: ctrl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    // Someone else's organisation can't watch it.
    const stranger = new ConsoleClient(s.url);
    await stranger.signUp('live-stranger@example.com');
    expect((await fetch(`${s.url}/console/api${base}/stream?mode=test`, { headers: { cookie: stranger.cookie! } })).status).toBe(404);

    const outbox = outboxOf(s);
    const messageId = await s.core.db.transaction((tx) => outbox.record(tx, {
      tenantId, appId, mode: 'test', type: 'login.succeeded', data: loginSucceeded('usr_live', 'sess_live'),
    }));
    await outbox.dispatch([messageId]);

    const events = await readEvents(res, (evs) => evs.some((e) => e.event === 'delivery' && e.data.state === 'delivered'));
    ctrl.abort();
    const states = events.filter((e) => e.event === 'delivery').map((e) => e.data);
    for (const d of states) expect(d).toMatchObject({ messageId, type: 'login.succeeded', endpointId: ep.id });
    const retrying = states.find((d) => d.state === 'retrying');
    expect(retrying).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: expect.any(String), pausedUntil: null });
    expect(states.at(-1)).toMatchObject({ state: 'delivered', status: 'succeeded', attempts: 2, nextAttemptAt: null });

    // The log a page loads afterwards says the same, not "pending · 0 attempts".
    const log = await owner.get(`${base}/messages?mode=test`);
    expect(log.body.data[0].deliveries[0]).toMatchObject({ state: 'delivered', attempts: 2, lastAttemptAt: expect.any(String) });
  });
});
