import { jsonb, pgTable, text, timestamp, index } from 'drizzle-orm/pg-core';
import { apps } from './apps';
import { tenants } from './tenants';

/**
 * Per-app ES256 keys. The active key has retiredAt null; a retired key stays in the JWKS
 * until publishUntil (retirement + the longest token lifetime), so its tokens still verify.
 */
export const signingKeys = pgTable('signing_keys', {
  id: text('id').primaryKey(),
  tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  appId: text('app_id').notNull().references(() => apps.id, { onDelete: 'cascade' }),
  alg: text('alg').notNull().default('ES256'),
  publicJwk: jsonb('public_jwk').$type<Record<string, string>>().notNull(),
  /** PKCS#8 PEM, AES-256-GCM under MASTER_KEY, context `signing-key:<id>`. */
  privateKeyEnc: text('private_key_enc').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  retiredAt: timestamp('retired_at', { withTimezone: true }),
  publishUntil: timestamp('publish_until', { withTimezone: true }),
}, (t) => [index('signing_keys_app_idx').on(t.appId)]);
