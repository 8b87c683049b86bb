import { randomBytes } from 'node:crypto';
import { and, eq, gt, lt, ne } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../../db/client';
import { accounts, consoleSessions } from '../../../db/schema/index';
import { sha256 } from '../../../lib/crypto';

/** How long a console sign-in lasts; the cookie's Max-Age matches. */
export const SESSION_TTL_MS = 7 * 24 * 3600 * 1000;

export interface SignedIn {
  tokenHash: string;
  csrfToken: string;
  account: { id: string; email: string; name: string | null; emailVerified: boolean; twoFactor: boolean };
}

export async function createSession(db: Db, accountId: string, userAgent: string | undefined): Promise<{ token: string; csrfToken: string }> {
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  await db.insert(consoleSessions).values({
    tokenHash: sha256(token),
    accountId,
    csrfToken,
    userAgent: userAgent?.slice(0, 300) ?? null,
    expiresAt: new Date(Date.now() + SESSION_TTL_MS),
  });
  // Opportunistic cleanup keeps the table from growing without a sweeper.
  await db.delete(consoleSessions).where(and(eq(consoleSessions.accountId, accountId), lt(consoleSessions.expiresAt, new Date())));
  return { token, csrfToken };
}

export async function findSession(db: Db, token: string): Promise<SignedIn | null> {
  const rows = await db
    .select({
      tokenHash: consoleSessions.tokenHash,
      csrfToken: consoleSessions.csrfToken,
      id: accounts.id,
      email: accounts.email,
      name: accounts.name,
      emailVerifiedAt: accounts.emailVerifiedAt,
      totpEnabledAt: accounts.totpEnabledAt,
    })
    .from(consoleSessions)
    .innerJoin(accounts, eq(accounts.id, consoleSessions.accountId))
    .where(and(eq(consoleSessions.tokenHash, sha256(token)), gt(consoleSessions.expiresAt, new Date())))
    .limit(1);
  const r = rows[0];
  return r ? { tokenHash: r.tokenHash, csrfToken: r.csrfToken, account: { id: r.id, email: r.email, name: r.name, emailVerified: r.emailVerifiedAt !== null, twoFactor: r.totpEnabledAt !== null } } : null;
}

/** A new password ends every session of the account but the one that set it (if any). */
export async function deleteOtherSessions(db: DbOrTx, accountId: string, keepTokenHash: string | null): Promise<void> {
  await db.delete(consoleSessions).where(keepTokenHash
    ? and(eq(consoleSessions.accountId, accountId), ne(consoleSessions.tokenHash, keepTokenHash))
    : eq(consoleSessions.accountId, accountId));
}

export async function deleteSession(db: Db, tokenHash: string): Promise<void> {
  await db.delete(consoleSessions).where(eq(consoleSessions.tokenHash, tokenHash));
}
