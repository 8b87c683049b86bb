import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { rowsOf, type Database, type Db } from '../../db/client';
import { loginEvents } from '../../db/schema/index';
import { newId } from '../../lib/ids';
import type { ActivityPort, OutboxPort } from './ports';
import type { Session } from './store';

export interface Profile {
  nickname?: string;
  avatarUrl?: string;
}

export interface RecordedUser {
  id: string;
  openid: string;
  unionid?: string;
  nickname?: string;
  avatarUrl?: string;
}

export type RecordedLogin =
  | {
    recorded: true;
    user: RecordedUser;
    /** Webhook deliveries written, due at `at`, to enqueue (none when the app has no endpoints). */
    toDispatch: { deliveries: Array<{ id: string; endpointId: string }>; at: Date };
  }
  /** The session already has its login event (an earlier attempt wrote it): see findSessionEnd. */
  | { recorded: false };

const recordedRow = z.object({
  id: z.string(),
  unionid: z.string().nullable(),
  nickname: z.string().nullable(),
  avatarUrl: z.string().nullable(),
  deliveries: z.array(z.tuple([z.string(), z.string()])).nullable(),
  recorded: z.boolean(),
});

const endRow = z.object({
  status: z.enum(['succeeded', 'cancelled', 'expired', 'failed']),
  id: z.string().nullable(),
  openid: z.string().nullable(),
  unionid: z.string().nullable(),
  nickname: z.string().nullable(),
  avatarUrl: z.string().nullable(),
});

function recordedUser(row: { id: string; unionid: string | null; nickname: string | null; avatarUrl: string | null }, openid: string): RecordedUser {
  return {
    id: row.id, openid,
    ...(row.unionid ? { unionid: row.unionid } : {}),
    ...(row.nickname ? { nickname: row.nickname } : {}),
    ...(row.avatarUrl ? { avatarUrl: row.avatarUrl } : {}),
  };
}

/**
 * Everything a confirmed login must not lose, in ONE statement (so one round trip and no
 * BEGIN/COMMIT, and still all or nothing): the end user, the login event (usage is rolled up
 * from it, see features/usage), the webhook outbox rows (`user.created` for a new user,
 * `login.succeeded` always), and billing's monthly-active-user and meter rows (ActivityPort). If the instance dies after it, the webhook sweeper still
 * delivers; if it fails, nothing happened and the confirm can be retried.
 *
 * Idempotent per session: a session that already has a login event (an earlier attempt that
 * died after writing, or recovery's fence) writes nothing and answers `recorded: false`; the
 * caller reads what was recorded (findSessionEnd) and signs from that. The unique index on
 * login_events.session_id settles two attempts racing: the loser's event and messages are not
 * written (they hang off `e`).
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
      select ${newId('usr')}::text, ${s.tenantId}::text, ${s.appId}::text, ${s.mode}::text, ${openid}::text, ${s.unionid || null}::text,
        ${profile.nickname || null}::text, ${profile.avatarUrl || null}::text, 1, ${time}::timestamptz, ${time}::timestamptz
      where not exists (select 1 from login_events where session_id = ${s.id}::text)
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
      on conflict (session_id) do nothing
      returning user_id
    ), msgs (id, type, data) as (
      select ${newId('msg')}::text, 'user.created'::text,
        jsonb_strip_nulls(jsonb_build_object('userId', u.id, 'openid', ${openid}::text, 'unionid', u.unionid, 'time', ${time}::text))
      from u join e on true where u.created
      union all
      select ${newId('msg')}::text, 'login.succeeded'::text,
        jsonb_build_object('userId', u.id, 'openid', ${openid}::text, 'origin', ${s.origin}::text, 'browser', ${s.browser}::text,
          'os', ${s.os}::text, 'ip', ${s.ip}::text, 'sessionId', ${s.id}::text, 'time', ${time}::text)
        || jsonb_strip_nulls(jsonb_build_object('unionid', u.unionid, 'nickname', u.nickname, 'avatarUrl', u.avatar_url))
      from u join e on true
    ), ${outbox.statementCtes(scope, at)}, ${activity.statementCtes(scope, at)}
    select u.id, u.unionid, u.nickname, u.avatar_url as "avatarUrl",
      (select json_agg(json_build_array(d.id, d.endpoint_id)) from d) as deliveries, exists (select 1 from e) as recorded
    from u`);
  if (!rows.length) return { recorded: false };
  const row = recordedRow.parse(rows[0]);
  if (!row.recorded) return { recorded: false };
  return { recorded: true, user: recordedUser(row, openid), toDispatch: { deliveries: (row.deliveries ?? []).map(([id, endpointId]) => ({ id, endpointId })), at } };
}

/**
 * How Postgres says a session ended, if it has: for a confirm that finds its login already
 * written (sign the token from this user) and for recovery. Null when nothing is recorded.
 */
export async function findSessionEnd(db: Db, sessionId: string): Promise<{ status: 'succeeded'; user: RecordedUser } | { status: 'cancelled' | 'expired' | 'failed' } | null> {
  const rows = rowsOf(await db.execute(sql`
    select e.status, u.id, u.openid, nullif(u.unionid, '') as unionid, nullif(u.nickname, '') as nickname, nullif(u.avatar_url, '') as "avatarUrl"
    from login_events e left join end_users u on u.id = e.user_id
    where e.session_id = ${sessionId}`));
  if (!rows.length) return null;
  const row = endRow.parse(rows[0]);
  if (row.status !== 'succeeded') return { status: row.status };
  if (!row.id || !row.openid) throw new Error(`login event of session ${sessionId} has no user`);
  return { status: 'succeeded', user: recordedUser({ ...row, id: row.id }, row.openid) };
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
