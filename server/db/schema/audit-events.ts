import { index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { tenants } from './tenants';

/**
 * Who changed what, written in the same transaction as the change (features/audit). `appId`
 * is set when the target belongs to one app, so `GET /v1/audit_events` can answer per app.
 * `summary` holds before/after values with secrets left out.
 */
export const auditEvents = pgTable('audit_events', {
  id: text('id').primaryKey(),
  tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  appId: text('app_id'),
  at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  actorType: text('actor_type', { enum: ['account', 'api_key', 'operator', 'system'] }).notNull(),
  actorId: text('actor_id'),
  actorEmail: text('actor_email'),
  action: text('action').notNull(),
  targetType: text('target_type').notNull(),
  targetId: text('target_id').notNull(),
  ip: text('ip'),
  summary: jsonb('summary').$type<Record<string, unknown>>(),
}, (t) => [index('audit_events_tenant_idx').on(t.tenantId, t.at, t.id), index('audit_events_app_idx').on(t.appId, t.at, t.id)]);
