import { randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client';
import { accounts, accountTokens } from '../../../db/schema/index';
import { sha256 } from '../../../lib/crypto';
import { ApiError } from '../../../lib/errors';

export type TokenPurpose = 'verify' | 'reset';

/** Verification can wait a day (people read mail late); a reset link is a key to the account, so 15 minutes. */
export const TOKEN_TTL_MS: Record<TokenPurpose, number> = { verify: 24 * 3600_000, reset: 15 * 60_000 };

/** Mints a single-use link token; the table keeps only its hash. */
export async function issueToken(db: DbOrTx, accountId: string, purpose: TokenPurpose): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await db.insert(accountTokens).values({ tokenHash: sha256(token), accountId, purpose, expiresAt: new Date(Date.now() + TOKEN_TTL_MS[purpose]) });
  return token;
}

/**
 * Spends a token in one statement, so two clicks racing can't both pass: unused, unexpired,
 * of this purpose, and minted after the account's last password change (a reset or change
 * ends every older link). Returns the account, or refuses with one answer for every reason.
 */
export async function consumeToken(db: DbOrTx, token: string, purpose: TokenPurpose): Promise<string> {
  const rows = await db.update(accountTokens).set({ usedAt: sql`now()` })
    .where(and(
      eq(accountTokens.tokenHash, sha256(token)),
      eq(accountTokens.purpose, purpose),
      isNull(accountTokens.usedAt),
      gt(accountTokens.expiresAt, sql`now()`),
      sql`${accountTokens.createdAt} >= (select ${accounts.passwordChangedAt} from ${accounts} where ${accounts.id} = ${accountTokens.accountId})`,
    ))
    .returning({ accountId: accountTokens.accountId });
  if (!rows[0]) throw new ApiError('invalid_token', 'This link was already used, has expired or was replaced; ask for a new one');
  return rows[0].accountId;
}

/** Unused links of a purpose die when a newer one is sent or the password changes. */
export async function dropUnusedTokens(db: DbOrTx, accountId: string): Promise<void> {
  await db.delete(accountTokens).where(and(eq(accountTokens.accountId, accountId), isNull(accountTokens.usedAt)));
}
