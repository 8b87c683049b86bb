import { and, asc, desc, eq, isNull } from 'drizzle-orm';
import type { Db } from '../../../db/client';
import { apiKeys, signingKeys } from '../../../db/schema/index';
import { sha256 } from '../../../lib/crypto';
import { ApiError } from '../../../lib/errors';
import { newApiKey, newId, type KeyMode } from '../../../lib/ids';

/** Publishable keys in full (they are public); secret keys only by name and display prefix. */
export async function listKeys(db: Db, tenantId: string, appId: string) {
  const rows = await db
    .select({
      id: apiKeys.id, kind: apiKeys.kind, mode: apiKeys.mode, name: apiKeys.name, plain: apiKeys.plain,
      displayPrefix: apiKeys.displayPrefix, lastUsedAt: apiKeys.lastUsedAt, revokedAt: apiKeys.revokedAt, createdAt: apiKeys.createdAt,
    })
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.appId, appId)))
    .orderBy(asc(apiKeys.mode), asc(apiKeys.kind), desc(apiKeys.createdAt));
  return rows.map(({ plain, ...k }) => (k.kind === 'publishable' ? { ...k, key: plain } : k));
}

/** Same shape as the apps store mints (hash + `sk_mode_xxxx…last4`), with the person's name for it. */
export async function createSecretKey(db: Db, tenantId: string, appId: string, mode: KeyMode, name: string) {
  const secret = newApiKey('sk', mode);
  const id = newId('key');
  const displayPrefix = `${secret.slice(0, 12)}…${secret.slice(-4)}`;
  await db.insert(apiKeys).values({ id, tenantId, appId, kind: 'secret', mode, name, keyHash: sha256(secret), displayPrefix });
  return { id, mode, name, displayPrefix, secret };
}

export async function revokeKey(db: Db, tenantId: string, appId: string, keyId: string): Promise<void> {
  const r = await db.update(apiKeys).set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.appId, appId), eq(apiKeys.id, keyId), eq(apiKeys.kind, 'secret'), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  if (!r.length) throw new ApiError('not_found', 'No such active secret key');
}

/** Public facts about signing keys: never the private part, which stays encrypted in the row. */
export async function listSigningKeys(db: Db, tenantId: string, appId: string) {
  return db
    .select({ kid: signingKeys.id, alg: signingKeys.alg, createdAt: signingKeys.createdAt, retiredAt: signingKeys.retiredAt, publishUntil: signingKeys.publishUntil })
    .from(signingKeys)
    .where(and(eq(signingKeys.tenantId, tenantId), eq(signingKeys.appId, appId)))
    .orderBy(desc(signingKeys.createdAt))
    .limit(20);
}
