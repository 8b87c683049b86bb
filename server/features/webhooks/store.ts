import { and, count, desc, eq, gte, inArray, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Attempt, Delivery, DeliveryEvent, DeliveryStatus, Endpoint, Message } from '../../../contract/webhooks.js';
import type { Core } from '../../core';
import { apps, webhookAttempts, webhookDeliveries, webhookEndpoints, webhookMessages } from '../../db/schema/index';
import { decrypt, encrypt } from '../../lib/crypto';
import { ApiError } from '../../lib/errors';
import { newId, type KeyMode } from '../../lib/ids';
import { TEST_EVENT_TYPE, type Envelope } from './events';
import { newWebhookSecret } from './signing';

export const secretContext = (endpointId: string) => `webhook-secret:${endpointId}`;

/** Every query below is filtered by this: another tenant's, app's or mode's rows don't exist. */
export interface WebhookScope {
  tenantId: string;
  appId: string;
  mode: KeyMode;
}

export interface MessagesCursor {
  at: string;
  id: string;
}

export interface MessageFilter {
  limit: number;
  after?: MessagesCursor;
  type?: string;
  status?: DeliveryStatus;
  endpointId?: string;
  since?: Date;
  until?: Date;
}

/** The rotation overlap: the previous secret keeps signing this long. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

type EndpointRow = typeof webhookEndpoints.$inferSelect;

function endpointView(r: EndpointRow): Endpoint {
  return {
    id: r.id,
    url: r.url,
    events: r.events,
    description: r.description,
    enabled: r.enabled,
    disabledReason: r.disabledReason,
    failingSince: r.failingSince?.toISOString() ?? null,
    circuit: { state: r.circuit, pausedUntil: r.pausedUntil?.toISOString() ?? null, consecutiveFailures: r.consecutiveFailures },
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

type DeliveryRow = typeof webhookDeliveries.$inferSelect;
type CircuitOf = Pick<EndpointRow, 'circuit' | 'pausedUntil'>;

/** A delivery as people read it: its stored status refined by its endpoint's breaker. */
export function deliveryView(d: DeliveryRow, ep: CircuitOf): Delivery {
  const paused = d.status === 'pending' && ep.circuit !== 'closed';
  const state = d.status === 'succeeded' ? 'delivered'
    : d.status === 'failed' ? 'failed'
      : paused ? 'paused'
        : d.attempts > 0 ? 'retrying' : 'pending';
  const pausedUntil = paused ? ep.pausedUntil : null;
  // A paused delivery goes no earlier than the pause's end, whatever its own schedule says;
  // a held one goes as soon as the endpoint takes it (its stored time is only a backstop).
  const next = pausedUntil
    ? (d.held || !d.nextAttemptAt || pausedUntil > d.nextAttemptAt ? pausedUntil : d.nextAttemptAt)
    : d.held ? null : d.nextAttemptAt;
  return {
    id: d.id, endpointId: d.endpointId, status: d.status, state, attempts: d.attempts,
    nextAttemptAt: next?.toISOString() ?? null, lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
    pausedUntil: pausedUntil?.toISOString() ?? null, updatedAt: d.updatedAt.toISOString(),
  };
}

/** What the breaker starts from: closed, no failures (a new endpoint, a new URL, re-enabled). */
export const CLOSED_CIRCUIT = { circuit: 'closed', pausedUntil: null, consecutiveFailures: 0, failingSince: null } as const;

export function createWebhookStore(core: Pick<Core, 'db' | 'config'>) {
  const { db } = core;
  const inScope = (s: WebhookScope) =>
    and(eq(webhookEndpoints.tenantId, s.tenantId), eq(webhookEndpoints.appId, s.appId), eq(webhookEndpoints.mode, s.mode));
  const msgScope = (s: WebhookScope) =>
    and(eq(webhookMessages.tenantId, s.tenantId), eq(webhookMessages.appId, s.appId), eq(webhookMessages.mode, s.mode));

  async function row(s: WebhookScope, id: string): Promise<EndpointRow | null> {
    const [r] = await db.select().from(webhookEndpoints).where(and(inScope(s), eq(webhookEndpoints.id, id)));
    return r ?? null;
  }

  async function messageExists(s: WebhookScope, id: string): Promise<boolean> {
    const [m] = await db.select({ id: webhookMessages.id }).from(webhookMessages).where(and(msgScope(s), eq(webhookMessages.id, id)));
    return Boolean(m);
  }

  return {
    messageExists,

    /** Refuses (403 limit_exceeded) when the app already has `limit` endpoints in this mode. */
    async createEndpoint(s: WebhookScope, input: { url: string; events: string[]; description: string | null }, limit: number) {
      const id = newId('ep');
      const secret = newWebhookSecret();
      return db.transaction(async (tx) => {
        // The app's row lock makes count-then-insert atomic: two creates at once can't both take the last place.
        await tx.select({ id: apps.id }).from(apps).where(and(eq(apps.id, s.appId), eq(apps.tenantId, s.tenantId))).for('update');
        const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(webhookEndpoints).where(inScope(s));
        if (n >= limit) {
          throw new ApiError('limit_exceeded', `This app already has ${n} webhook endpoint${n === 1 ? '' : 's'} in ${s.mode} mode, the most its plan allows (${limit}); delete one first`, { limit });
        }
        const [r] = await tx.insert(webhookEndpoints).values({
          id, tenantId: s.tenantId, appId: s.appId, mode: s.mode, url: input.url, events: input.events, description: input.description,
          secretEnc: encrypt(core.config.masterKey, secret, secretContext(id)),
        }).returning();
        return { endpoint: endpointView(r!), secret };
      });
    },

    async listEndpoints(s: WebhookScope): Promise<Endpoint[]> {
      const rows = await db.select().from(webhookEndpoints).where(inScope(s)).orderBy(webhookEndpoints.createdAt, webhookEndpoints.id);
      return rows.map(endpointView);
    },

    async getEndpoint(s: WebhookScope, id: string): Promise<Endpoint | null> {
      const r = await row(s, id);
      return r ? endpointView(r) : null;
    },

    /** For admins who ask to see it (console); the API only shows it at creation and rotation. */
    async revealSecret(s: WebhookScope, id: string): Promise<string | null> {
      const r = await row(s, id);
      return r ? decrypt(core.config.masterKey, r.secretEnc, secretContext(id)) : null;
    },

    async updateEndpoint(s: WebhookScope, id: string, patch: { url?: string; events?: string[]; description?: string | null; enabled?: boolean }) {
      const now = new Date();
      const set: Partial<typeof webhookEndpoints.$inferInsert> = { updatedAt: now };
      // A new URL is a new receiver: its predecessor's failures say nothing about it.
      if (patch.url !== undefined) Object.assign(set, { url: patch.url }, CLOSED_CIRCUIT);
      if (patch.events !== undefined) set.events = patch.events;
      if (patch.description !== undefined) set.description = patch.description;
      if (patch.enabled !== undefined) {
        set.enabled = patch.enabled;
        // Re-enabling starts a fresh failure streak, or it would be disabled again at once.
        if (patch.enabled) Object.assign(set, { disabledReason: null }, CLOSED_CIRCUIT);
        else set.disabledReason = `Disabled ${now.toISOString()} by the tenant`;
      }
      const [r] = await db.update(webhookEndpoints).set(set).where(and(inScope(s), eq(webhookEndpoints.id, id))).returning();
      return r ? endpointView(r) : null;
    },

    async deleteEndpoint(s: WebhookScope, id: string): Promise<boolean> {
      const r = await db.delete(webhookEndpoints).where(and(inScope(s), eq(webhookEndpoints.id, id))).returning({ id: webhookEndpoints.id });
      return r.length > 0;
    },

    async rotateSecret(s: WebhookScope, id: string): Promise<{ secret: string; previousSecretUntil: string } | null> {
      return db.transaction(async (tx) => {
        const [r] = await tx.select().from(webhookEndpoints).where(and(inScope(s), eq(webhookEndpoints.id, id))).for('update');
        if (!r) return null;
        const secret = newWebhookSecret();
        const until = new Date(Date.now() + ROTATION_OVERLAP_MS);
        await tx.update(webhookEndpoints).set({
          secretEnc: encrypt(core.config.masterKey, secret, secretContext(id)),
          previousSecretEnc: r.secretEnc,
          previousSecretUntil: until,
          updatedAt: new Date(),
        }).where(eq(webhookEndpoints.id, id));
        return { secret, previousSecretUntil: until.toISOString() };
      });
    },

    /** A `webhook.test` message to one endpoint only. Returns the message id, or null if no such endpoint. */
    async createTestMessage(s: WebhookScope, endpointId: string): Promise<{ messageId: string } | null> {
      return db.transaction(async (tx) => {
        const [ep] = await tx.select({ id: webhookEndpoints.id }).from(webhookEndpoints).where(and(inScope(s), eq(webhookEndpoints.id, endpointId)));
        if (!ep) return null;
        const now = new Date();
        const id = newId('msg');
        const envelope: Envelope = {
          type: TEST_EVENT_TYPE,
          timestamp: now.toISOString(),
          data: { endpointId, message: 'A test event sent from wechat-scan-login. No user logged in.' },
        };
        await tx.insert(webhookMessages).values({ id, ...s, type: TEST_EVENT_TYPE, payload: { ...envelope }, createdAt: now, fannedOutAt: now });
        await tx.insert(webhookDeliveries).values({ id: newId('dlv'), tenantId: s.tenantId, messageId: id, endpointId, status: 'pending', nextAttemptAt: now, createdAt: now });
        return { messageId: id };
      });
    },

    async listMessages(s: WebhookScope, f: MessageFilter): Promise<{ data: Message[]; next: MessagesCursor | null }> {
      const conds: Array<SQL | undefined> = [msgScope(s)];
      if (f.type) conds.push(eq(webhookMessages.type, f.type));
      if (f.since) conds.push(gte(webhookMessages.createdAt, f.since));
      if (f.until) conds.push(lte(webhookMessages.createdAt, f.until));
      if (f.after) {
        const at = new Date(f.after.at);
        conds.push(or(lt(webhookMessages.createdAt, at), and(eq(webhookMessages.createdAt, at), lt(webhookMessages.id, f.after.id))));
      }
      if (f.status || f.endpointId) {
        const dconds: Array<SQL | undefined> = [eq(webhookDeliveries.messageId, webhookMessages.id)];
        if (f.status) dconds.push(eq(webhookDeliveries.status, f.status));
        if (f.endpointId) dconds.push(eq(webhookDeliveries.endpointId, f.endpointId));
        conds.push(sql`exists (select 1 from ${webhookDeliveries} where ${and(...dconds)})`);
      }
      const rows = await db.select().from(webhookMessages).where(and(...conds))
        .orderBy(desc(webhookMessages.createdAt), desc(webhookMessages.id)).limit(f.limit + 1);
      const page = rows.slice(0, f.limit);
      const deliveries = page.length
        ? await db.select({ d: webhookDeliveries, circuit: webhookEndpoints.circuit, pausedUntil: webhookEndpoints.pausedUntil })
          .from(webhookDeliveries)
          .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
          .where(inArray(webhookDeliveries.messageId, page.map((m) => m.id)))
        : [];
      const data = page.map((m) => ({
        id: m.id,
        type: m.type,
        timestamp: String((m.payload as { timestamp?: unknown }).timestamp ?? m.createdAt.toISOString()),
        payload: m.payload,
        createdAt: m.createdAt.toISOString(),
        deliveries: deliveries.filter((r) => r.d.messageId === m.id).map((r) => deliveryView(r.d, r)),
      }));
      const last = page[page.length - 1];
      return { data, next: rows.length > f.limit && last ? { at: last.createdAt.toISOString(), id: last.id } : null };
    },

    /**
     * Deliveries of this scope that changed at or after `since` and within the last
     * `windowSeconds` (the console's live log polls this), oldest change first.
     */
    async deliveryChanges(s: WebhookScope, since: Date, windowSeconds: number): Promise<DeliveryEvent[]> {
      const rows = await db
        .select({ d: webhookDeliveries, type: webhookMessages.type, circuit: webhookEndpoints.circuit, pausedUntil: webhookEndpoints.pausedUntil })
        .from(webhookDeliveries)
        .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
        .innerJoin(webhookMessages, eq(webhookMessages.id, webhookDeliveries.messageId))
        .where(and(
          eq(webhookDeliveries.tenantId, s.tenantId), inScope(s),
          gte(webhookDeliveries.updatedAt, since),
          gte(webhookDeliveries.updatedAt, sql`now() - ${windowSeconds}::int * interval '1 second'`),
        ))
        .orderBy(webhookDeliveries.updatedAt)
        .limit(500);
      return rows.map((r) => ({ ...deliveryView(r.d, r), messageId: r.d.messageId, type: r.type }));
    },

    /** Endpoints of this scope edited, or whose breaker moved, at or after `since` and within the window. */
    async endpointChanges(s: WebhookScope, since: Date, windowSeconds: number): Promise<Endpoint[]> {
      const rows = await db.select().from(webhookEndpoints).where(and(
        inScope(s),
        gte(webhookEndpoints.updatedAt, since),
        gte(webhookEndpoints.updatedAt, sql`now() - ${windowSeconds}::int * interval '1 second'`),
      ));
      return rows.map(endpointView);
    },

    async listAttempts(s: WebhookScope, messageId: string): Promise<Attempt[] | null> {
      const [m] = await db.select({ id: webhookMessages.id }).from(webhookMessages).where(and(msgScope(s), eq(webhookMessages.id, messageId)));
      if (!m) return null;
      const rows = await db
        .select({ a: webhookAttempts, endpointId: webhookDeliveries.endpointId })
        .from(webhookAttempts)
        .innerJoin(webhookDeliveries, eq(webhookDeliveries.id, webhookAttempts.deliveryId))
        .where(eq(webhookDeliveries.messageId, messageId))
        .orderBy(webhookAttempts.createdAt, webhookAttempts.attempt);
      return rows.map(({ a, endpointId }) => ({
        id: a.id, deliveryId: a.deliveryId, endpointId, attempt: a.attempt, statusCode: a.statusCode, durationMs: a.durationMs,
        responseBody: a.responseBody, error: a.error, createdAt: a.createdAt.toISOString(),
      }));
    },

    /**
     * Make a message's deliveries due now (all its endpoints, or one). Deliveries resume the
     * schedule where they stopped; one whose schedule is spent gets one more attempt.
     * Returns the delivery ids made due, or null when the message isn't in scope.
     */
    async replayMessage(s: WebhookScope, messageId: string, endpointId?: string): Promise<string[] | null> {
      if (!(await messageExists(s, messageId))) return null;
      const now = new Date();
      const conds = [eq(webhookDeliveries.messageId, messageId), eq(webhookDeliveries.tenantId, s.tenantId)];
      if (endpointId) conds.push(eq(webhookDeliveries.endpointId, endpointId));
      const rows = await db.update(webhookDeliveries)
        .set({ status: 'pending', nextAttemptAt: now, held: false, updatedAt: now })
        .where(and(...conds, sql`${webhookDeliveries.endpointId} in (select ${webhookEndpoints.id} from ${webhookEndpoints} where ${and(inScope(s), eq(webhookEndpoints.enabled, true))})`))
        .returning({ id: webhookDeliveries.id });
      return rows.map((r) => r.id);
    },

    /** Every failed delivery to this endpoint since `since`, made due now. */
    async replayFailed(s: WebhookScope, endpointId: string, since: Date): Promise<string[]> {
      const now = new Date();
      const rows = await db.update(webhookDeliveries)
        .set({ status: 'pending', nextAttemptAt: now, held: false, updatedAt: now })
        .where(and(
          eq(webhookDeliveries.endpointId, endpointId),
          eq(webhookDeliveries.tenantId, s.tenantId),
          eq(webhookDeliveries.status, 'failed'),
          gte(webhookDeliveries.createdAt, since),
        ))
        .returning({ id: webhookDeliveries.id });
      return rows.map((r) => r.id);
    },
  };
}

export type WebhookStore = ReturnType<typeof createWebhookStore>;
