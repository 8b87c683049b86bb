import { index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { apps } from './apps';
import { tenants } from './tenants';

/**
 * A relying party of one app's OpenID Provider, in one mode: a test-mode client logs people
 * in through the sandbox, a live-mode one through WeChat. Confidential clients keep only the
 * SHA-256 of their secret (shown once); public clients (`none`) have no secret and must use PKCE.
 */
export const oidcClients = pgTable('oidc_clients', {
  /** The OAuth `client_id`, `cli_…`. */
  id: text('id').primaryKey(),
  tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  appId: text('app_id').notNull().references(() => apps.id, { onDelete: 'cascade' }),
  mode: text('mode', { enum: ['test', 'live'] }).notNull(),
  name: text('name').notNull(),
  /** Matched exactly, as registered. */
  redirectUris: jsonb('redirect_uris').$type<string[]>().notNull(),
  tokenEndpointAuthMethod: text('token_endpoint_auth_method', { enum: ['client_secret_basic', 'client_secret_post', 'none'] }).notNull(),
  secretHash: text('secret_hash'),
  secretPrefix: text('secret_prefix'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index('oidc_clients_app_idx').on(t.tenantId, t.appId, t.mode)]);
