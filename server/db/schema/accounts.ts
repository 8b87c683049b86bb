import { pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** People who sign in to the console. Email is stored lower-cased. */
export const accounts = pgTable('accounts', {
  id: text('id').primaryKey(),
  email: text('email').notNull(),
  name: text('name'),
  passwordHash: text('password_hash').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [uniqueIndex('accounts_email_idx').on(t.email)]);
