import { index, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { apps } from './apps';
import { tenants } from './tenants';

/**
 * A visitor's WeChat-verified phone number for one app, keyed like end_users (app, mode, openid)
 * because the number is exchanged before the login that may create the end user. Only ever
 * sealed: AES-256-GCM under MASTER_KEY, context `phone:<app id>:<mode>:<openid>`.
 */
export const endUserPhones = pgTable('end_user_phones', {
  appId: text('app_id').notNull().references(() => apps.id, { onDelete: 'cascade' }),
  mode: text('mode', { enum: ['test', 'live'] }).notNull(),
  openid: text('openid').notNull(),
  tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  phoneNumberEnc: text('phone_number_enc').notNull(),
  /** When WeChat last vouched for the number (a successful getuserphonenumber). */
  verifiedAt: timestamp('verified_at', { withTimezone: true }).notNull(),
}, (t) => [
  primaryKey({ columns: [t.appId, t.mode, t.openid] }),
  index('end_user_phones_tenant_idx').on(t.tenantId),
]);
