import { date, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

/** Logins per app, day and mode: what billing counts. Incremented in the login's transaction. */
export const usageCounters = pgTable('usage_counters', {
  tenantId: text('tenant_id').notNull(),
  appId: text('app_id').notNull(),
  day: date('day').notNull(),
  mode: text('mode', { enum: ['test', 'live'] }).notNull(),
  logins: integer('logins').notNull().default(0),
}, (t) => [primaryKey({ columns: [t.appId, t.day, t.mode] })]);
