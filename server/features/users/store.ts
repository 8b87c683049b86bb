import { and, desc, eq, sql } from 'drizzle-orm';
import type { EndUser } from '../../../contract/users.js';
import type { Core } from '../../core';
import { endUsers } from '../../db/schema/index';
import type { KeyMode } from '../../lib/ids';

/** One end user as the server API shows it. */
export type EndUserView = EndUser;

/** Everything a read is scoped by; it always comes from the caller's secret key. */
export interface UserScope {
  tenantId: string;
  appId: string;
  mode: KeyMode;
}

/**
 * Position after the last row of a page. `at` is first_login_at in UTC with Postgres's full
 * microseconds: a JS Date would drop them and make the next page repeat or skip rows.
 */
export interface UsersCursor {
  at: string;
  id: string;
}

export interface UsersStore {
  get(scope: UserScope, id: string): Promise<EndUserView | null>;
  /** Newest first by first login (which never changes, so pages stay stable while users log in). */
  list(scope: UserScope, opts: { limit: number; after?: UsersCursor }): Promise<{ data: EndUserView[]; next: UsersCursor | null }>;
}

const columns = {
  id: endUsers.id,
  openid: endUsers.openid,
  unionid: endUsers.unionid,
  nickname: endUsers.nickname,
  avatarUrl: endUsers.avatarUrl,
  firstLoginAt: endUsers.firstLoginAt,
  lastLoginAt: endUsers.lastLoginAt,
  loginCount: endUsers.loginCount,
  cursorAt: sql<string>`to_char(${endUsers.firstLoginAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
};

type Row = { [K in keyof typeof columns]: K extends 'cursorAt' ? string : (typeof endUsers.$inferSelect)[Exclude<K, 'cursorAt'>] };

function toView(r: Row): EndUserView {
  return {
    id: r.id,
    openid: r.openid,
    unionid: r.unionid,
    nickname: r.nickname,
    avatarUrl: r.avatarUrl,
    firstLoginAt: r.firstLoginAt.toISOString(),
    lastLoginAt: r.lastLoginAt.toISOString(),
    loginCount: r.loginCount,
  };
}

/** Byte order for the tie-break, so ordering and the cursor comparison never depend on the database's locale. */
const idBytes = sql`${endUsers.id} collate "C"`;

/** The sealed phone number of a user (features/phone), read for single-user answers only. */
export interface UserPhonePort {
  read(owner: { tenantId: string; appId: string; mode: KeyMode; openid: string }): Promise<{ phoneNumber: string; verifiedAt: Date } | null>;
}

export function createUsersStore(core: Pick<Core, 'db'>, phones?: UserPhonePort): UsersStore {
  const inScope = (s: UserScope) => and(eq(endUsers.tenantId, s.tenantId), eq(endUsers.appId, s.appId), eq(endUsers.mode, s.mode));

  return {
    async get(scope, id) {
      const [row] = await core.db.select(columns).from(endUsers).where(and(inScope(scope), eq(endUsers.id, id))).limit(1);
      if (!row) return null;
      const phone = await phones?.read({ ...scope, openid: row.openid });
      return phone ? { ...toView(row), phoneNumber: phone.phoneNumber, phoneNumberVerifiedAt: phone.verifiedAt.toISOString() } : toView(row);
    },

    async list(scope, { limit, after }) {
      const rows = await core.db
        .select(columns)
        .from(endUsers)
        .where(and(
          inScope(scope),
          after ? sql`(${endUsers.firstLoginAt}, ${idBytes}) < (${after.at}::timestamptz, ${after.id} collate "C")` : undefined,
        ))
        .orderBy(desc(endUsers.firstLoginAt), desc(idBytes))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        data: page.map(toView),
        next: rows.length > limit && last ? { at: last.cursorAt, id: last.id } : null,
      };
    },
  };
}
