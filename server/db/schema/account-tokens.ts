import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { accounts } from './accounts';

/**
 * Single-use emailed links (verify the email, reset the password). The link carries a random
 * token; only its SHA-256 is stored, so a read of this table opens nothing.
 */
export const accountTokens = pgTable('account_tokens', {
  tokenHash: text('token_hash').primaryKey(),
  accountId: text('account_id').notNull().references(() => accounts.id, { onDelete: 'cascade' }),
  purpose: text('purpose', { enum: ['verify', 'reset'] }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  usedAt: timestamp('used_at', { withTimezone: true }),
}, (t) => [index('account_tokens_account_idx').on(t.accountId)]);

/** Ten one-time recovery codes per two-factor enrolment, hashed like the links. */
export const recoveryCodes = pgTable('recovery_codes', {
  codeHash: text('code_hash').primaryKey(),
  accountId: text('account_id').notNull().references(() => accounts.id, { onDelete: 'cascade' }),
  usedAt: timestamp('used_at', { withTimezone: true }),
}, (t) => [index('recovery_codes_account_idx').on(t.accountId)]);
