import { pgTable, text, timestamp, index } from 'drizzle-orm/pg-core';
import { accounts } from './accounts';

/** Console sign-in sessions: the cookie holds a random token, the row holds its hash. */
export const consoleSessions = pgTable('console_sessions', {
  tokenHash: text('token_hash').primaryKey(),
  accountId: text('account_id').notNull().references(() => accounts.id, { onDelete: 'cascade' }),
  csrfToken: text('csrf_token').notNull(),
  userAgent: text('user_agent'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
}, (t) => [index('console_sessions_account_idx').on(t.accountId)]);
