import { and, eq, inArray } from 'drizzle-orm';
import type { Tx } from '../../db/client';
import { webhookDeliveries, webhookEndpoints, webhookMessages } from '../../db/schema/index';
import { newId } from '../../lib/ids';
import { eventDataSchemas, type Envelope, type OutboxMessage } from './events';
import type { DeliveryQueue } from './queue';

export interface WebhookOutbox {
  /** Inserts the message and one delivery per subscribed, enabled endpoint, in the caller's transaction. */
  record(tx: Tx, msg: OutboxMessage): Promise<string>;
  /** After commit: enqueue the deliveries (best effort; the sweeper recovers what is lost). */
  dispatch(messageIds: string[]): Promise<void>;
}

export function subscribes(events: string[], type: string): boolean {
  return events.length === 0 || events.includes(type);
}

export function createOutbox(queue: DeliveryQueue): WebhookOutbox {
  // Messages recorded here that fanned out to at least one endpoint. Most apps have no
  // endpoints, and a dispatch of nothing shouldn't cost a query on every login. A message
  // recorded by another process is dispatched anyway (not in this set: looked up as before).
  const fannedOut = new Set<string>();
  const recordedHere = new Set<string>();
  return {
    async record(tx, msg) {
      const data = eventDataSchemas[msg.type].parse(msg.data) as Record<string, unknown>;
      const now = new Date();
      const id = newId('msg');
      const envelope: Envelope = { type: msg.type, timestamp: now.toISOString(), data };
      // The message insert rides along with the endpoint lookup: one round trip, not two.
      const inserted = tx.$with('m').as(tx.insert(webhookMessages).values({
        id, tenantId: msg.tenantId, appId: msg.appId, mode: msg.mode, type: msg.type, payload: { ...envelope }, createdAt: now, fannedOutAt: now,
      }).returning({ id: webhookMessages.id }));
      const endpoints = await tx
        .with(inserted)
        .select({ id: webhookEndpoints.id, events: webhookEndpoints.events })
        .from(webhookEndpoints)
        .where(and(
          eq(webhookEndpoints.tenantId, msg.tenantId),
          eq(webhookEndpoints.appId, msg.appId),
          eq(webhookEndpoints.mode, msg.mode),
          eq(webhookEndpoints.enabled, true),
        ));
      const rows = endpoints.filter((e) => subscribes(e.events, msg.type)).map((e) => ({
        id: newId('dlv'), tenantId: msg.tenantId, messageId: id, endpointId: e.id, status: 'pending' as const, nextAttemptAt: now, createdAt: now,
      }));
      if (rows.length) {
        await tx.insert(webhookDeliveries).values(rows);
        fannedOut.add(id);
      }
      // A rolled-back transaction never dispatches; forgetting is always safe (dispatch then queries).
      if (recordedHere.size > 10_000) {
        recordedHere.clear();
        fannedOut.clear();
      }
      recordedHere.add(id);
      return id;
    },
    async dispatch(messageIds) {
      const due = messageIds.filter((id) => fannedOut.has(id) || !recordedHere.has(id));
      for (const id of messageIds) {
        fannedOut.delete(id);
        recordedHere.delete(id);
      }
      if (!due.length) return;
      await queue.enqueueWhere(inArray(webhookDeliveries.messageId, due));
    },
  };
}
