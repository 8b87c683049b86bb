import { index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Idempotency-Key of a creating request (Stripe's semantics), per app, mode and route: the
 * first request's answer is kept for a day and replayed to a retry with the same key. The
 * answer holds a secret shown once, so it is stored encrypted under the master key.
 */
export const idempotencyKeys = pgTable('idempotency_keys', {
  tenantId: text('tenant_id').notNull(),
  appId: text('app_id').notNull(),
  mode: text('mode').notNull(),
  route: text('route').notNull(),
  key: text('key').notNull(),
  /** sha256 of the request body: the same key with another body is a client's mistake. */
  requestHash: text('request_hash').notNull(),
  /** Null while the first request is in flight. */
  statusCode: integer('status_code'),
  responseEnc: text('response_enc'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  primaryKey({ columns: [t.appId, t.mode, t.route, t.key] }),
  index('idempotency_keys_created_idx').on(t.createdAt),
]);
