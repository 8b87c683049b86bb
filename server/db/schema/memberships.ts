import { pgTable, primaryKey, text, timestamp, index } from 'drizzle-orm/pg-core';
import { accounts } from './accounts';
import { tenants } from './tenants';

export const memberships = pgTable('memberships', {
  tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  accountId: text('account_id').notNull().references(() => accounts.id, { onDelete: 'cascade' }),
  role: text('role', { enum: ['owner', 'admin', 'viewer'] }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.tenantId, t.accountId] }), index('memberships_account_idx').on(t.accountId)]);
