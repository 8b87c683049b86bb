import { boolean, integer, jsonb, pgTable, text, timestamp, index } from 'drizzle-orm/pg-core';
import { apps } from './apps';
import { tenants } from './tenants';

export const webhookEndpoints = pgTable('webhook_endpoints', {
  id: text('id').primaryKey(),
  tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  appId: text('app_id').notNull().references(() => apps.id, { onDelete: 'cascade' }),
  mode: text('mode', { enum: ['test', 'live'] }).notNull(),
  url: text('url').notNull(),
  description: text('description'),
  /** Empty = every event type. */
  events: jsonb('events').$type<string[]>().notNull().default([]),
  enabled: boolean('enabled').notNull().default(true),
  disabledReason: text('disabled_reason'),
  /** `whsec_…`, AES-256-GCM under MASTER_KEY, context `webhook-secret:<endpoint id>`. */
  secretEnc: text('secret_enc').notNull(),
  /** After a rotation the old secret keeps signing beside the new one until previousSecretUntil. */
  previousSecretEnc: text('previous_secret_enc'),
  previousSecretUntil: timestamp('previous_secret_until', { withTimezone: true }),
  /** First failure of the current failing streak; 5 days of it disables the endpoint. */
  failingSince: timestamp('failing_since', { withTimezone: true }),
  /**
   * The circuit breaker (features/webhooks/breaker.ts): failures in a row since the last
   * success; `open` pauses deliveries until `pausedUntil`; `half_open` lets one probe through,
   * whose claim lasts until `pausedUntil`.
   */
  consecutiveFailures: integer('consecutive_failures').notNull().default(0),
  circuit: text('circuit', { enum: ['closed', 'open', 'half_open'] }).notNull().default('closed'),
  pausedUntil: timestamp('paused_until', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index('webhook_endpoints_app_idx').on(t.tenantId, t.appId)]);
