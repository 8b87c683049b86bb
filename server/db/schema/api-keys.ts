import { pgTable, text, timestamp, index, uniqueIndex } from 'drizzle-orm/pg-core';
import { apps } from './apps';
import { tenants } from './tenants';

/**
 * Publishable keys are public (they sit in web pages) and are looked up by their value;
 * secret keys are shown once and only their SHA-256 is kept, plus a display prefix.
 */
export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  appId: text('app_id').notNull().references(() => apps.id, { onDelete: 'cascade' }),
  kind: text('kind', { enum: ['publishable', 'secret'] }).notNull(),
  mode: text('mode', { enum: ['test', 'live'] }).notNull(),
  name: text('name'),
  /** sha256(key) for both kinds, so lookups are uniform; publishable keys also keep `plain`. */
  keyHash: text('key_hash').notNull(),
  plain: text('plain'),
  displayPrefix: text('display_prefix').notNull(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [uniqueIndex('api_keys_hash_idx').on(t.keyHash), index('api_keys_app_idx').on(t.appId)]);
