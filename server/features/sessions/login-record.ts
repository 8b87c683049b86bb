import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database, Db } from '../../db/client';
import { loginEvents } from '../../db/schema/index';
import { newId } from '../../lib/ids';
import type { ActivityPort, OutboxPort } from './ports';
import type { Session } from './store';

export interface Profile {
  nickname?: string;
  avatarUrl?: string;
}

export interface RecordedLogin {
  user: { id: string; openid: string; unionid?: string; nickname?: string; avatarUrl?: string };
  /** Outbox messages that have deliveries to enqueue (none when the app has no endpoints). */
  toDispatch: string[];
}

const recordedRow = z.object({
  id: z.string(),
  unionid: z.string().nullable(),
  nickname: z.string().nullable(),
  avatarUrl: z.string().nullable(),
  fanned: z.array(z.string()).nullable(),
});

/**
 * Everything a confirmed login must not lose, in ONE statement (so one round trip and no
 * BEGIN/COMMIT, and still all or nothing): the end user, the login event (usage is rolled up
 * from it, see features/usage), the webhook outbox rows (`user.created` for a new user,
 * `login.succeeded` always), and billing's monthly-active-user and meter rows (ActivityPort). If the instance dies after it, the webhook sweeper still
 * delivers; if it fails, nothing happened and the confirm can be retried.
 *
 * The messages' data is built here in SQL from the upserted user (a returning user keeps the
 * nickname and avatar they had): the fields the event schemas in webhooks/events.ts always
 * carry, plus the optional ones that are present (jsonb_strip_nulls).
 */
export async function recordConfirmedLogin(database: Pick<Database, 'executePrepared'>, outbox: OutboxPort, activity: Pick<ActivityPort, 'statementCtes'>, s: Session, profile: Profile): Promise<RecordedLogin> {
  const openid = s.openid!;
  const at = new Date();
  const time = at.toISOString();
  const scope = { tenantId: s.tenantId, appId: s.appId, mode: s.mode };
  const rows = await database.executePrepared(sql`
    with u as (
      insert into end_users (id, tenant_id, app_id, mode, openid, unionid, nickname, avatar_url, login_count, first_login_at, last_login_at)
      values (${newId('usr')}, ${s.tenantId}, ${s.appId}, ${s.mode}, ${openid}, ${s.unionid || null}, ${profile.nickname || null},
        ${profile.avatarUrl || null}, 1, ${time}::timestamptz, ${time}::timestamptz)
      on conflict (app_id, mode, openid) do update set
        last_login_at = excluded.last_login_at,
        login_count = end_users.login_count + 1,
        unionid = coalesce(excluded.unionid, end_users.unionid),
        nickname = coalesce(excluded.nickname, end_users.nickname),
        avatar_url = coalesce(excluded.avatar_url, end_users.avatar_url)
      -- xmax = 0 only on a freshly inserted row: the cheapest way to know "created".
      returning id, nullif(unionid, '') as unionid, nullif(nickname, '') as nickname, nullif(avatar_url, '') as avatar_url, (xmax = 0) as created
    ), e as (
      insert into login_events (id, tenant_id, app_id, mode, session_id, status, user_id, openid, origin, browser, os, ip, location, created_at)
      select ${newId('evt')}::text, ${s.tenantId}::text, ${s.appId}::text, ${s.mode}::text, ${s.id}::text, 'succeeded', u.id, ${openid}::text,
        ${s.origin}::text, ${s.browser}::text, ${s.os}::text, ${s.ip}::text, ${s.location ?? null}::text, ${time}::timestamptz
      from u
    ), msgs (id, type, data) as (
      select ${newId('msg')}::text, 'user.created'::text,
        jsonb_strip_nulls(jsonb_build_object('userId', u.id, 'openid', ${openid}::text, 'unionid', u.unionid, 'time', ${time}::text))
      from u where u.created
      union all
      select ${newId('msg')}::text, 'login.succeeded'::text,
        jsonb_build_object('userId', u.id, 'openid', ${openid}::text, 'origin', ${s.origin}::text, 'browser', ${s.browser}::text,
          'os', ${s.os}::text, 'ip', ${s.ip}::text, 'sessionId', ${s.id}::text, 'time', ${time}::text)
        || jsonb_strip_nulls(jsonb_build_object('unionid', u.unionid, 'nickname', u.nickname, 'avatarUrl', u.avatar_url))
      from u
    ), ${outbox.statementCtes(scope, at)}, ${activity.statementCtes(scope, at)}
    select u.id, u.unionid, u.nickname, u.avatar_url as "avatarUrl",
      (select array_agg(distinct message_id) from d) as fanned
    from u`);
  const row = recordedRow.parse(rows[0]);
  return {
    user: {
      id: row.id, openid,
      ...(row.unionid ? { unionid: row.unionid } : {}),
      ...(row.nickname ? { nickname: row.nickname } : {}),
      ...(row.avatarUrl ? { avatarUrl: row.avatarUrl } : {}),
    },
    toDispatch: row.fanned ?? [],
  };
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
