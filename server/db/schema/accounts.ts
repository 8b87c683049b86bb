import { integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** People who sign in to the console. Email is stored lower-cased. */
export const accounts = pgTable('accounts', {
  id: text('id').primaryKey(),
  email: text('email').notNull(),
  name: text('name'),
  passwordHash: text('password_hash').notNull(),
  /** Null until the emailed link is followed; live keys, invitations and billing wait for it. */
  emailVerifiedAt: timestamp('email_verified_at', { withTimezone: true }),
  /** The TOTP seed, sealed under MASTER_KEY (context `totp:<account id>`); set at enrolment, before it is confirmed. */
  totpSecret: text('totp_secret'),
  /** Set once a first code confirmed the enrolment: from then on sign-in asks for a code. */
  totpEnabledAt: timestamp('totp_enabled_at', { withTimezone: true }),
  /** The last TOTP time step accepted: a code is good once (RFC 6238 §5.2), never replayed. */
  totpLastStep: integer('totp_last_step'),
  /** Emailed links minted before this no longer work (a reset or password change ends them all). */
  passwordChangedAt: timestamp('password_changed_at', { withTimezone: true }).notNull().defaultNow(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [uniqueIndex('accounts_email_idx').on(t.email)]);
