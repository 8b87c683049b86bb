import { pgTable, text, timestamp, index, uniqueIndex } from 'drizzle-orm/pg-core';
import { apps } from './apps';
import { tenants } from './tenants';

/** One row per finished session: the record of truth for activity, charts and usage. */
export const loginEvents = pgTable('login_events', {
  id: text('id').primaryKey(),
  tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  appId: text('app_id').notNull().references(() => apps.id, { onDelete: 'cascade' }),
  mode: text('mode', { enum: ['test', 'live'] }).notNull(),
  sessionId: text('session_id').notNull(),
  status: text('status', { enum: ['succeeded', 'cancelled', 'expired', 'failed'] }).notNull(),
  userId: text('user_id'),
  openid: text('openid'),
  origin: text('origin'),
  browser: text('browser'),
  os: text('os'),
  ip: text('ip'),
  location: text('location'),
  errorCode: text('error_code'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  uniqueIndex('login_events_session_idx').on(t.sessionId),
  index('login_events_app_time_idx').on(t.tenantId, t.appId, t.createdAt),
]);
