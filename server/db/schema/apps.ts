import { boolean, integer, jsonb, pgTable, text, timestamp, index } from 'drizzle-orm/pg-core';
import { CODE_STYLES, ENV_VERSIONS, PHONE_NUMBER_SETTINGS } from '../../../contract/constants.js';
import { tenants } from './tenants';

/**
 * A tenant's site. Every app has a test mode (the built-in simulator) and, once WeChat
 * credentials are set, a live mode; which one a request uses comes from the key.
 */
export const apps = pgTable('apps', {
  id: text('id').primaryKey(),
  tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  /** Shown on the phone's confirm screen; defaults to name. */
  displayName: text('display_name'),
  logoUrl: text('logo_url'),
  wechatAppId: text('wechat_app_id'),
  /** AES-256-GCM under MASTER_KEY, context `app-secret:<app id>`. Write-only. */
  wechatSecretEnc: text('wechat_secret_enc'),
  allowedOrigins: jsonb('allowed_origins').$type<string[]>().notNull().default([]),
  mpPage: text('mp_page').notNull().default('pages/scan-login/index'),
  envVersion: text('env_version', { enum: ENV_VERSIONS }).notNull().default('release'),
  checkPath: boolean('check_path').notNull().default(true),
  sessionTtlSeconds: integer('session_ttl_seconds').notNull().default(120),
  tokenTtlSeconds: integer('token_ttl_seconds').notNull().default(300),
  /** Set when a live code was verified with WeChat; URL Links need a published, non-personal mini-program. */
  urlLinkEnabled: boolean('url_link_enabled').notNull().default(false),
  /** `link`: we draw an ordinary QR code of {PUBLIC_URL}/q/{appId}/{sessionId}; no WeChat call (DESIGN §11). */
  codeStyle: text('code_style', { enum: CODE_STYLES }).notNull().default('wxacode'),
  /** Asks the visitor for their phone number on the confirm page; WeChat charges the mini-program per successful use of the button. */
  phoneNumber: text('phone_number', { enum: PHONE_NUMBER_SETTINGS }).notNull().default('off'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index('apps_tenant_idx').on(t.tenantId)]);
