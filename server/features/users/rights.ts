import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { UserExport } from '../../../contract/users.js';
import type { Core } from '../../core';
import type { Tx } from '../../db/client';
import { avatars, endUserPhones, endUsers, loginEvents, webhookMessages } from '../../db/schema/index';
import type { UserPhonePort } from './store';
import type { KeyMode } from '../../lib/ids';

/** What erasure needs from webhooks: the outbox row in the erasure's own transaction, then its dispatch. */
export interface UserEventsPort {
  record(tx: Tx, msg: { tenantId: string; appId: string; mode: KeyMode; type: 'user.deleted'; data: Record<string, unknown> }): Promise<string>;
  dispatch(messageIds: string[]): Promise<void>;
}

/**
 * Whose user it is. The server API always knows the mode (from the secret key); the console
 * names a user by app and id alone, and the id decides the mode.
 */
export interface RightsScope {
  tenantId: string;
  appId: string;
  mode?: KeyMode;
}

/** End users' rights: a copy of everything held about them, and erasure (PIPL Art. 45/47, GDPR Art. 15/17/20). */
export interface UserRights {
  exportUser(scope: RightsScope, userId: string): Promise<UserExport | null>;
  /** False when there is no such user in the scope. */
  erase(scope: RightsScope, userId: string): Promise<boolean>;
}

export function createUserRights(core: Pick<Core, 'db' | 'config'>, deps: { events: UserEventsPort; phones?: UserPhonePort }): UserRights {
  const { db } = core;
  const userIn = (s: RightsScope, id: string) =>
    and(eq(endUsers.tenantId, s.tenantId), eq(endUsers.appId, s.appId), s.mode ? eq(endUsers.mode, s.mode) : undefined, eq(endUsers.id, id));
  // The user's own mode, so their rows and no other mode's are touched.
  const loginsOf = (s: RightsScope & { mode: KeyMode }, id: string) =>
    and(eq(loginEvents.tenantId, s.tenantId), eq(loginEvents.appId, s.appId), eq(loginEvents.mode, s.mode), eq(loginEvents.userId, id));
  const messagesAbout = (s: RightsScope & { mode: KeyMode }, id: string) =>
    and(eq(webhookMessages.tenantId, s.tenantId), eq(webhookMessages.appId, s.appId), eq(webhookMessages.mode, s.mode), sql`${webhookMessages.payload}->'data'->>'userId' = ${id}`);
  const avatarsOf = (s: RightsScope, sessionIds: string[]) =>
    and(eq(avatars.tenantId, s.tenantId), eq(avatars.appId, s.appId), inArray(avatars.sessionId, sessionIds));

  return {
    async exportUser(scope, userId) {
      const [user] = await db.select().from(endUsers).where(userIn(scope, userId)).limit(1);
      if (!user) return null;
      const s = { ...scope, mode: user.mode };
      const logins = await db.select().from(loginEvents).where(loginsOf(s, userId)).orderBy(asc(loginEvents.createdAt));
      const sessionIds = logins.map((l) => l.sessionId);
      const pictures = sessionIds.length
        ? await db.select({ id: avatars.id, contentType: avatars.contentType, createdAt: avatars.createdAt }).from(avatars).where(avatarsOf(s, sessionIds))
        : [];
      const phone = await deps.phones?.read({ tenantId: s.tenantId, appId: s.appId, mode: s.mode, openid: user.openid });
      const messages = await db.select({ id: webhookMessages.id, type: webhookMessages.type, payload: webhookMessages.payload, createdAt: webhookMessages.createdAt })
        .from(webhookMessages).where(messagesAbout(s, userId)).orderBy(asc(webhookMessages.createdAt));
      return {
        exportedAt: new Date().toISOString(),
        user: {
          id: user.id, mode: user.mode, openid: user.openid, unionid: user.unionid, nickname: user.nickname, avatarUrl: user.avatarUrl,
          firstLoginAt: user.firstLoginAt.toISOString(), lastLoginAt: user.lastLoginAt.toISOString(), loginCount: user.loginCount,
          ...(phone ? { phoneNumber: phone.phoneNumber, phoneNumberVerifiedAt: phone.verifiedAt.toISOString() } : {}),
        },
        logins: logins.map((l) => ({
          id: l.id, sessionId: l.sessionId, status: l.status, origin: l.origin, browser: l.browser, os: l.os, ip: l.ip,
          location: l.location, errorCode: l.errorCode, createdAt: l.createdAt.toISOString(),
        })),
        avatars: pictures.map((a) => ({ id: a.id, url: `${core.config.publicUrl}/v1/avatars/${a.id}`, contentType: a.contentType, createdAt: a.createdAt.toISOString() })),
        webhookMessages: messages.map((m) => ({ ...m, createdAt: m.createdAt.toISOString() })),
      };
    },

    async erase(scope, userId) {
      const messageId = await db.transaction(async (tx) => {
        const [user] = await tx.select({ mode: endUsers.mode, openid: endUsers.openid }).from(endUsers).where(userIn(scope, userId)).for('update');
        if (!user) return null;
        const s = { ...scope, mode: user.mode };
        const sessions = await tx.select({ id: loginEvents.sessionId }).from(loginEvents).where(loginsOf(s, userId));
        if (sessions.length) await tx.delete(avatars).where(avatarsOf(s, sessions.map((r) => r.id)));
        // Logins stay, so counts and charts keep their numbers; the usr_ id they keep points at nothing once the
        // mapping below is gone (a later login of the same WeChat user gets a new id).
        await tx.update(loginEvents).set({ openid: null, ip: null, location: null, browser: null, os: null }).where(loginsOf(s, userId));
        // The delivery log keeps its messages (and replays stay well-formed) without the person in them.
        await tx.update(webhookMessages).set({
          payload: sql`jsonb_set(${webhookMessages.payload}, '{data}', (${webhookMessages.payload}->'data') - 'unionid' - 'nickname' - 'avatarUrl'
            || '{"openid":"erased"}'::jsonb
            || (case when (${webhookMessages.payload}->'data') ? 'ip' then '{"ip":null,"browser":null,"os":null}'::jsonb else '{}'::jsonb end))`,
        }).where(messagesAbout(s, userId));
        await tx.delete(endUserPhones).where(and(eq(endUserPhones.tenantId, s.tenantId), eq(endUserPhones.appId, s.appId), eq(endUserPhones.mode, s.mode), eq(endUserPhones.openid, user.openid)));
        await tx.delete(endUsers).where(eq(endUsers.id, userId));
        return deps.events.record(tx, { tenantId: s.tenantId, appId: s.appId, mode: s.mode, type: 'user.deleted', data: { userId, time: new Date().toISOString() } });
      });
      if (!messageId) return false;
      await deps.events.dispatch([messageId]);
      return true;
    },
  };
}
