import { and, count, eq } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { avatars } from '../../db/schema/index';
import { newId } from '../../lib/ids';

export interface StoredAvatar {
  contentType: string;
  bytes: Buffer;
}

/** Avatars chosen on the confirm page; rows belong to the tenant and app of the session they came with. */
export function createAvatarStore(db: Db) {
  return {
    async insert(a: { tenantId: string; appId: string; sessionId: string; contentType: string; bytes: Buffer }): Promise<string> {
      const id = newId('avt');
      await db.insert(avatars).values({ id, ...a });
      return id;
    },

    async get(id: string): Promise<StoredAvatar | null> {
      const [row] = await db.select({ contentType: avatars.contentType, bytes: avatars.bytes }).from(avatars).where(eq(avatars.id, id)).limit(1);
      // PGlite hands bytea back as a Uint8Array, postgres-js as a Buffer.
      return row ? { contentType: row.contentType, bytes: Buffer.from(row.bytes) } : null;
    },

    async countForSession(appId: string, sessionId: string): Promise<number> {
      const [row] = await db.select({ n: count() }).from(avatars).where(and(eq(avatars.appId, appId), eq(avatars.sessionId, sessionId)));
      return Number(row?.n ?? 0);
    },
  };
}

export type AvatarStore = ReturnType<typeof createAvatarStore>;
