import { integer, pgTable, text, timestamp, index, uniqueIndex } from 'drizzle-orm/pg-core';
import { apps } from './apps';
import { tenants } from './tenants';

/** A visitor who logged in to one app: `usr_…` is stable per (app, mode, openid). */
export const endUsers = pgTable('end_users', {
  id: text('id').primaryKey(),
  tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  appId: text('app_id').notNull().references(() => apps.id, { onDelete: 'cascade' }),
  mode: text('mode', { enum: ['test', 'live'] }).notNull(),
  openid: text('openid').notNull(),
  unionid: text('unionid'),
  nickname: text('nickname'),
  avatarUrl: text('avatar_url'),
  loginCount: integer('login_count').notNull().default(0),
  firstLoginAt: timestamp('first_login_at', { withTimezone: true }).notNull().defaultNow(),
  lastLoginAt: timestamp('last_login_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  uniqueIndex('end_users_openid_idx').on(t.appId, t.mode, t.openid),
  index('end_users_tenant_idx').on(t.tenantId, t.appId, t.lastLoginAt),
]);
