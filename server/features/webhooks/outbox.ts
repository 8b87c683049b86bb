import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Tx } from '../../db/client';
import { webhookDeliveries, webhookEndpoints, webhookMessages } from '../../db/schema/index';
import { newId, type KeyMode } from '../../lib/ids';
import { eventDataSchemas, type Envelope, type OutboxMessage } from './events';
import type { DeliveryQueue } from './queue';

export interface OutboxScope {
  tenantId: string;
  appId: string;
  mode: KeyMode;
}

export interface WebhookOutbox {
  /** Inserts the message and one delivery per subscribed, enabled endpoint, in the caller's transaction. */
  record(tx: Tx, msg: OutboxMessage): Promise<string>;
  /**
   * The same rows as `record`, as SQL for a caller that writes its event and the event's
   * messages in one statement (no transaction round trips): CTEs `m` (the messages, from a
   * CTE `msgs (id, type, data)` the caller defines before them) and `d` (their deliveries,
   * `returning id, message_id, endpoint_id`, all due at `at`). Message ids come from `newId('msg')`; `data` must match the
   * type's schema in events.ts (the caller's tests check it).
   */
  statementCtes(scope: OutboxScope, at: Date): SQL;
  /** After commit: enqueue the deliveries (best effort; the sweeper recovers what is lost). */
  dispatch(messageIds: string[]): Promise<void>;
  /**
   * After commit: enqueue deliveries the caller's statement wrote and read back (`d`), due at
   * once, without looking them up again: the first attempt starts one Redis round trip after
   * the confirm (best effort, like dispatch).
   */
  enqueue(deliveries: Array<{ id: string; endpointId: string }>, due: Date): Promise<void>;
}

export function subscribes(events: string[], type: string): boolean {
  return events.length === 0 || events.includes(type);
}

export function createOutbox(queue: DeliveryQueue): WebhookOutbox {
  // The deliveries of messages recorded here, so dispatch enqueues them without a query (most
  // apps have no endpoints, and a dispatch of nothing shouldn't cost one either). A message
  // recorded by another process is not in these: dispatch looks its deliveries up.
  const fannedOut = new Map<string, Array<{ id: string; due: Date; endpointId: string }>>();
  const recordedHere = new Set<string>();
  return {
    statementCtes(scope, at) {
      const time = at.toISOString();
      return sql`m as (
        insert into webhook_messages (id, tenant_id, app_id, mode, type, payload, created_at, fanned_out_at)
        select msgs.id, ${scope.tenantId}::text, ${scope.appId}::text, ${scope.mode}::text, msgs.type,
          jsonb_build_object('type', msgs.type, 'timestamp', ${time}::text, 'data', msgs.data), ${time}::timestamptz, ${time}::timestamptz
        from msgs
        returning id, type
      ), d as (
        insert into webhook_deliveries (id, tenant_id, message_id, endpoint_id, status, next_attempt_at, created_at)
        -- 'dlv_' and 16 characters of random, like newId('dlv'): 12 bytes of a v4 UUID in base64, + and / replaced.
        select 'dlv_' || translate(encode(substring(uuid_send(gen_random_uuid()) from 1 for 12), 'base64'), '+/', 'xz'),
          ${scope.tenantId}::text, m.id, ep.id, 'pending', ${time}::timestamptz, ${time}::timestamptz
        from m join webhook_endpoints ep
          on ep.tenant_id = ${scope.tenantId}::text and ep.app_id = ${scope.appId}::text and ep.mode = ${scope.mode}::text and ep.enabled
        where jsonb_array_length(ep.events) = 0 or ep.events @> jsonb_build_array(m.type)
        returning id, message_id, endpoint_id
      )`;
    },

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
        fannedOut.set(id, rows.map((r) => ({ id: r.id, due: now, endpointId: r.endpointId })));
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
      const known = messageIds.flatMap((id) => fannedOut.get(id) ?? []);
      const elsewhere = messageIds.filter((id) => !recordedHere.has(id));
      for (const id of messageIds) {
        fannedOut.delete(id);
        recordedHere.delete(id);
      }
      await Promise.all([
        queue.enqueue(known),
        elsewhere.length ? queue.enqueueWhere(inArray(webhookDeliveries.messageId, elsewhere)) : undefined,
      ]);
    },
    enqueue: (deliveries, due) => queue.enqueue(deliveries.map((d) => ({ ...d, due }))),
  };
}
