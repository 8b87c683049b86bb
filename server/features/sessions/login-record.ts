import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { endUsers, loginEvents } from '../../db/schema/index';
import { newId } from '../../lib/ids';
import type { OutboxPort } from './ports';
import type { Session } from './store';

export interface Profile {
  nickname?: string;
  avatarUrl?: string;
}

export interface RecordedLogin {
  user: { id: string; openid: string; unionid?: string; nickname?: string; avatarUrl?: string };
  messageIds: string[];
}

/**
 * One transaction for everything a confirmed login must not lose: the end user, the login
 * event (usage is rolled up from it, see features/usage), and the webhook outbox rows. If the instance dies after commit, the webhook
 * sweeper still delivers; if the commit fails, nothing happened and the confirm can be retried.
 */
export async function recordConfirmedLogin(db: Db, outbox: OutboxPort, s: Session, profile: Profile): Promise<RecordedLogin> {
  const openid = s.openid!;
  return db.transaction(async (tx) => {
    const now = new Date();
    // The user upsert and the login event in one statement (one round trip inside the
    // transaction): the event takes the user id from the upsert's RETURNING.
    const upsert = tx.$with('u').as(tx
      .insert(endUsers)
      .values({
        id: newId('usr'), tenantId: s.tenantId, appId: s.appId, mode: s.mode, openid, unionid: s.unionid ?? null,
        nickname: profile.nickname ?? null, avatarUrl: profile.avatarUrl ?? null, loginCount: 1, firstLoginAt: now, lastLoginAt: now,
      })
      .onConflictDoUpdate({
        target: [endUsers.appId, endUsers.mode, endUsers.openid],
        set: {
          lastLoginAt: now,
          loginCount: sql`${endUsers.loginCount} + 1`,
          unionid: sql`coalesce(excluded.unionid, ${endUsers.unionid})`,
          nickname: sql`coalesce(excluded.nickname, ${endUsers.nickname})`,
          avatarUrl: sql`coalesce(excluded.avatar_url, ${endUsers.avatarUrl})`,
        },
      })
      // xmax = 0 only on a freshly inserted row: the cheapest way to know "created".
      .returning({ id: endUsers.id, unionid: endUsers.unionid, nickname: endUsers.nickname, avatarUrl: endUsers.avatarUrl, created: sql<boolean>`(xmax = 0)`.as('created') }));
    // A data-modifying CTE runs whether or not the outer query reads it.
    const event = tx.$with('e').as(tx
      .insert(loginEvents)
      .values({
        id: newId('evt'), tenantId: s.tenantId, appId: s.appId, mode: s.mode, sessionId: s.id, status: 'succeeded',
        userId: sql`(select ${upsert.id} from ${upsert})`, openid, origin: s.origin, browser: s.browser, os: s.os, ip: s.ip,
        location: s.location ?? null, createdAt: now,
      })
      .returning({ id: loginEvents.id }));
    const [row] = await tx.with(upsert, event).select().from(upsert);
    const u = row!;
    const user = {
      id: u.id, openid,
      ...(u.unionid ? { unionid: u.unionid } : {}),
      ...(u.nickname ? { nickname: u.nickname } : {}),
      ...(u.avatarUrl ? { avatarUrl: u.avatarUrl } : {}),
    };
    const base = { tenantId: s.tenantId, appId: s.appId, mode: s.mode };
    const messageIds: string[] = [];
    if (u.created) {
      messageIds.push(await outbox.record(tx, { ...base, type: 'user.created', data: { userId: u.id, openid, ...(user.unionid ? { unionid: user.unionid } : {}), time: now.toISOString() } }));
    }
    messageIds.push(await outbox.record(tx, {
      ...base,
      type: 'login.succeeded',
      data: {
        userId: u.id, openid, ...(user.unionid ? { unionid: user.unionid } : {}),
        ...(user.nickname ? { nickname: user.nickname } : {}), ...(user.avatarUrl ? { avatarUrl: user.avatarUrl } : {}),
        origin: s.origin, browser: s.browser, os: s.os, ip: s.ip, sessionId: s.id, time: now.toISOString(),
      },
    }));
    return { user, messageIds };
  });
}

/** Cancelled and (scanned-then-)expired sessions are recorded too: the console charts their share. */
export async function recordEndedSession(db: Db, outbox: OutboxPort | null, s: Session, status: 'cancelled' | 'expired'): Promise<string[]> {
  return db.transaction(async (tx) => {
    const now = new Date();
    const inserted = await tx
      .insert(loginEvents)
      .values({
        id: newId('evt'), tenantId: s.tenantId, appId: s.appId, mode: s.mode, sessionId: s.id, status,
        openid: s.openid ?? null, origin: s.origin, browser: s.browser, os: s.os, ip: s.ip, location: s.location ?? null, createdAt: now,
      })
      .onConflictDoNothing({ target: loginEvents.sessionId })
      .returning({ id: loginEvents.id });
    if (!inserted.length || status !== 'cancelled' || !outbox) return [];
    return [await outbox.record(tx, {
      tenantId: s.tenantId, appId: s.appId, mode: s.mode, type: 'login.cancelled',
      data: { sessionId: s.id, origin: s.origin, time: now.toISOString() },
    })];
  });
}
