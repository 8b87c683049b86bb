import { inArray } from 'drizzle-orm';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Core } from '../../core';
import { webhookDeliveries } from '../../db/schema/index';
import { ApiError } from '../../lib/errors';
import type { DeliveryQueue } from './queue';
import { decodeCursor, encodeCursor, type MessagesQuery } from './schemas';
import type { Endpoint, Message } from '../../../contract/webhooks.js';
import type { WebhookScope, WebhookStore } from './store';
import { checkUrl, UnsafeUrlError, webhookUrlPolicy } from './url-safety';

/**
 * Per-tenant limits the webhooks feature enforces but doesn't decide: main.ts passes them
 * (from the config today; billing's plan once it knows one: free 3, pro 20, DESIGN §7).
 */
export interface WebhookLimits {
  /** Endpoints one app may have in each mode. */
  endpointsPerApp(tenantId: string): Promise<number>;
}

/** What both the server API and the console do with endpoints: checks, then store, then enqueue. */
export function createWebhookService(core: Core, store: WebhookStore, queue: DeliveryQueue, limits: WebhookLimits) {
  // Each test send is a real delivery to a URL the tenant chose: limited per app and mode.
  const testSends = new RateLimiterRedis({
    storeClient: core.redis.client,
    keyPrefix: core.key('rl', 'webhook-test'),
    points: core.config.webhookTestSendsPerMinute,
    duration: 60,
  });

  async function safeUrl(s: WebhookScope, url: string): Promise<string> {
    try {
      return (await checkUrl(url, webhookUrlPolicy(core.config, s.mode))).href;
    } catch (err) {
      if (err instanceof UnsafeUrlError) throw new ApiError('bad_request', `body.url: ${err.message}`, { field: 'url', reason: err.message });
      throw err;
    }
  }

  async function dispatchDeliveries(ids: string[]) {
    if (ids.length) await queue.enqueueWhere(inArray(webhookDeliveries.id, ids));
  }

  return {
    store,

    async createEndpoint(s: WebhookScope, input: { url: string; events?: string[]; description?: string | null }) {
      const url = await safeUrl(s, input.url);
      const limit = await limits.endpointsPerApp(s.tenantId);
      return store.createEndpoint(s, { url, events: [...new Set(input.events ?? [])], description: input.description ?? null }, limit);
    },

    async updateEndpoint(s: WebhookScope, id: string, patch: { url?: string; events?: string[]; description?: string | null; enabled?: boolean }): Promise<Endpoint> {
      if (!(await store.getEndpoint(s, id))) throw new ApiError('not_found', 'No such webhook endpoint');
      const url = patch.url === undefined ? undefined : await safeUrl(s, patch.url);
      const events = patch.events === undefined ? undefined : [...new Set(patch.events)];
      const ep = await store.updateEndpoint(s, id, { ...patch, url, events });
      if (!ep) throw new ApiError('not_found', 'No such webhook endpoint');
      return ep;
    },

    /** One page of the delivery log, newest first, with an opaque cursor to the next. */
    async messagesPage(s: WebhookScope, q: MessagesQuery): Promise<{ data: Message[]; nextCursor: string | null }> {
      const page = await store.listMessages(s, {
        limit: q.limit, after: q.cursor ? decodeCursor(q.cursor) : undefined, type: q.type, status: q.status,
        endpointId: q.endpoint_id, since: q.since, until: q.until,
      });
      return { data: page.data, nextCursor: page.next ? encodeCursor(page.next) : null };
    },

    async sendTestEvent(s: WebhookScope, endpointId: string): Promise<{ messageId: string }> {
      const ep = await store.getEndpoint(s, endpointId);
      if (!ep) throw new ApiError('not_found', 'No such webhook endpoint');
      if (!ep.enabled) throw new ApiError('invalid_state', 'This endpoint is disabled; enable it first');
      try {
        await testSends.consume(`${s.appId}:${s.mode}`);
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        const seconds = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
        throw new ApiError('rate_limited', `At most ${core.config.webhookTestSendsPerMinute} test events a minute per app; try again in ${seconds} s`, { retryAfterSeconds: seconds });
      }
      const r = await store.createTestMessage(s, endpointId);
      if (!r) throw new ApiError('not_found', 'No such webhook endpoint');
      await queue.enqueueWhere(inArray(webhookDeliveries.messageId, [r.messageId]));
      return r;
    },

    async replayMessage(s: WebhookScope, messageId: string, endpointId?: string): Promise<{ messageId: string; deliveries: number }> {
      const ids = await store.replayMessage(s, messageId, endpointId);
      if (!ids) throw new ApiError('not_found', 'No such webhook message');
      await dispatchDeliveries(ids);
      return { messageId, deliveries: ids.length };
    },

    async replayFailed(s: WebhookScope, endpointId: string, since: Date): Promise<{ endpointId: string; deliveries: number }> {
      const ep = await store.getEndpoint(s, endpointId);
      if (!ep) throw new ApiError('not_found', 'No such webhook endpoint');
      if (!ep.enabled) throw new ApiError('invalid_state', 'This endpoint is disabled; enable it first');
      const ids = await store.replayFailed(s, endpointId, since);
      // Large backlogs go out in chunks the sweeper would also pick up.
      for (let i = 0; i < ids.length; i += 1000) await dispatchDeliveries(ids.slice(i, i + 1000));
      return { endpointId, deliveries: ids.length };
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
