import { customType, pgTable, text, timestamp, index } from 'drizzle-orm/pg-core';
import { apps } from './apps';
import { tenants } from './tenants';

const bytea = customType<{ data: Buffer }>({ dataType: () => 'bytea' });

/** Avatars a visitor chose with `chooseAvatar` on the confirm page, served at /v1/avatars/:id. */
export const avatars = pgTable('avatars', {
  id: text('id').primaryKey(),
  tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  appId: text('app_id').notNull().references(() => apps.id, { onDelete: 'cascade' }),
  sessionId: text('session_id').notNull(),
  contentType: text('content_type').notNull(),
  bytes: bytea('bytes').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index('avatars_app_idx').on(t.appId)]);
