import { and, asc, desc, eq, gte, ilike, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../../../db/client';
import { apps, consoleSessions, endUsers, loginEvents, memberships } from '../../../db/schema/index';
import type { KeyMode } from '../../../lib/ids';
import { afterCursor, decodeCursor, microsOf, toPage } from '../../../lib/pagination';
import type { LiveSource } from './stream';

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export async function searchUsers(db: Db, tenantId: string, appId: string, q: { search?: string; mode?: KeyMode; cursor?: string; limit: number }) {
  const s = q.search?.trim();
  const match = s
    ? s.startsWith('usr_')
      ? eq(endUsers.id, s)
      : or(eq(endUsers.openid, s), ilike(endUsers.openid, `${likeEscape(s)}%`), ilike(endUsers.nickname, `%${likeEscape(s)}%`), eq(endUsers.unionid, s))
    : undefined;
  const rows = await db
    .select({
      id: endUsers.id, mode: endUsers.mode, openid: endUsers.openid, unionid: endUsers.unionid, nickname: endUsers.nickname,
      avatarUrl: endUsers.avatarUrl, loginCount: endUsers.loginCount, firstLoginAt: endUsers.firstLoginAt, lastLoginAt: endUsers.lastLoginAt,
      _us: microsOf(endUsers.lastLoginAt),
    })
    .from(endUsers)
    .where(and(
      eq(endUsers.tenantId, tenantId), eq(endUsers.appId, appId),
      q.mode ? eq(endUsers.mode, q.mode) : undefined, match,
      afterCursor(endUsers.lastLoginAt, endUsers.id, decodeCursor(q.cursor)),
    ))
    .orderBy(desc(endUsers.lastLoginAt), desc(endUsers.id))
    .limit(q.limit + 1);
  return toPage(rows, q.limit);
}

export type EventStatus = 'succeeded' | 'cancelled' | 'expired' | 'failed';

export interface EventFilter {
  status?: EventStatus;
  mode?: KeyMode;
  origin?: string;
  from?: Date;
  to?: Date;
}

const eventColumns = {
  id: loginEvents.id, mode: loginEvents.mode, status: loginEvents.status, userId: loginEvents.userId, openid: loginEvents.openid,
  origin: loginEvents.origin, browser: loginEvents.browser, os: loginEvents.os, ip: loginEvents.ip, location: loginEvents.location,
  errorCode: loginEvents.errorCode, createdAt: loginEvents.createdAt,
};

function eventWhere(tenantId: string, appId: string, f: EventFilter) {
  return and(
    eq(loginEvents.tenantId, tenantId), eq(loginEvents.appId, appId),
    f.status ? eq(loginEvents.status, f.status) : undefined,
    f.mode ? eq(loginEvents.mode, f.mode) : undefined,
    f.origin ? eq(loginEvents.origin, f.origin) : undefined,
    f.from ? gte(loginEvents.createdAt, f.from) : undefined,
    f.to ? lte(loginEvents.createdAt, f.to) : undefined,
  );
}

export async function listEvents(db: Db, tenantId: string, appId: string, f: EventFilter & { cursor?: string; limit: number }) {
  const rows = await db.select({ ...eventColumns, _us: microsOf(loginEvents.createdAt) }).from(loginEvents)
    .where(and(eventWhere(tenantId, appId, f), afterCursor(loginEvents.createdAt, loginEvents.id, decodeCursor(f.cursor))))
    .orderBy(desc(loginEvents.createdAt), desc(loginEvents.id))
    .limit(f.limit + 1);
  return toPage(rows, f.limit);
}

/** Origins seen recently, for the filter's choices. */
export async function recentOrigins(db: Db, tenantId: string, appId: string): Promise<string[]> {
  const rows = await db.selectDistinct({ origin: loginEvents.origin }).from(loginEvents)
    .where(and(eq(loginEvents.tenantId, tenantId), eq(loginEvents.appId, appId), gte(loginEvents.createdAt, sql`now() - interval '30 days'`)))
    .limit(50);
  return rows.map((r) => r.origin).filter((o): o is string => Boolean(o)).sort();
}

export interface DayStats {
  day: string;
  succeeded: number;
  cancelled: number;
  expired: number;
  failed: number;
}

/** Logins per UTC day for the last `days` days, every day present (zeros included) so a chart needs no gap logic. */
export async function dailyStats(db: Db, tenantId: string, appId: string, days: number, mode?: KeyMode): Promise<DayStats[]> {
  const dayExpr = sql<string>`to_char(${loginEvents.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
  const since = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) - (days - 1) * 86_400_000);
  const rows = await db
    .select({ day: dayExpr, status: loginEvents.status, n: sql<number>`count(*)::int` })
    .from(loginEvents)
    .where(and(eq(loginEvents.tenantId, tenantId), eq(loginEvents.appId, appId), mode ? eq(loginEvents.mode, mode) : undefined, gte(loginEvents.createdAt, since)))
    .groupBy(dayExpr, loginEvents.status);
  const out: DayStats[] = [];
  for (let i = 0; i < days; i++) {
    out.push({ day: new Date(since.getTime() + i * 86_400_000).toISOString().slice(0, 10), succeeded: 0, cancelled: 0, expired: 0, failed: 0 });
  }
  const byDay = new Map(out.map((d) => [d.day, d]));
  for (const r of rows) {
    const d = byDay.get(r.day);
    if (d) d[r.status] += Number(r.n);
  }
  return out;
}

/** Events of the last `windowSeconds`, oldest first: what the live stream polls. */
export async function recentEvents(db: Db, tenantId: string, appId: string, since: Date, windowSeconds: number) {
  return db.select(eventColumns).from(loginEvents)
    .where(and(
      eq(loginEvents.tenantId, tenantId), eq(loginEvents.appId, appId),
      gte(loginEvents.createdAt, since),
      gte(loginEvents.createdAt, sql`now() - ${windowSeconds}::int * interval '1 second'`),
    ))
    .orderBy(asc(loginEvents.createdAt))
    .limit(200);
}

/** The live activity page's source: each login event once, as `event: login`. */
export function liveLogins(db: Db, tenantId: string, appId: string): LiveSource {
  return async (since, windowSeconds) =>
    (await recentEvents(db, tenantId, appId, since, windowSeconds)).map((ev) => ({ key: ev.id, at: ev.createdAt, event: 'login', data: ev }));
}

/** The session is live, its account still belongs to the tenant, and the app still exists there. */
export async function stillMember(db: Db, tokenHash: string, tenantId: string, appId: string): Promise<boolean> {
  const rows = await db.select({ one: sql<number>`1` })
    .from(consoleSessions)
    .innerJoin(memberships, and(eq(memberships.accountId, consoleSessions.accountId), eq(memberships.tenantId, tenantId)))
    .innerJoin(apps, and(eq(apps.id, appId), eq(apps.tenantId, tenantId)))
    .where(and(eq(consoleSessions.tokenHash, tokenHash), gte(consoleSessions.expiresAt, sql`now()`)))
    .limit(1);
  return rows.length > 0;
}
