import type { ChainableCommander } from 'ioredis';
import { pipelineValues, type RedisClient } from '../../lib/redis';
import type { ConfirmedUser } from '../../../contract/sessions.js';
import type { KeyMode } from '../../lib/ids';
import { ABANDON_CONFIRM, ATTACH, BEGIN_CONFIRM, CANCEL, CLAIM_CONFIRM, COUNT_SCAN, EXPIRE, FINISH_CONFIRM, RELEASE_CONFIRM, SCAN } from './lua';

export type SessionState = 'pending' | 'scanned' | 'confirming' | 'confirmed' | 'consumed' | 'cancelled' | 'expired';

/** What a session holds, minus its secrets (secret hash, ticket hash and token stay in Redis). */
export interface Session {
  id: string;
  appId: string;
  tenantId: string;
  mode: KeyMode;
  state: SessionState;
  match: string;
  origin: string;
  browser: string;
  os: string;
  ip: string;
  location: string | undefined;
  createdAt: number;
  expiresAt: number;
  holder: string | undefined;
  openid: string | undefined;
  unionid: string | undefined;
  /** "Open in WeChat" for a browser on a phone, made once at open and given again on resume. */
  urlLink: string | undefined;
}

export interface NewSession extends Omit<Session, 'state' | 'holder' | 'openid' | 'unionid'> {
  secretHash: string;
  holder: string;
}

export type { ConfirmedUser };

/** After expiry the hash lingers this long, so a resuming browser learns `expired` rather than "unknown". */
const LINGER_MS = 5 * 60_000;

type Reply = [string, ...string[]];

interface Scripts {
  wslCountScan(key: string, now: number): Promise<Reply>;
  wslScan(key: string, now: number, openid: string, unionid: string, ticketHash: string): Promise<Reply>;
  wslBeginConfirm(key: string, now: number, ticketHash: string, leaseMs: number, owner: string): Promise<Reply>;
  wslClaimConfirm(key: string, now: number, leaseMs: number, owner: string): Promise<Reply>;
  wslFinishConfirm(key: string, token: string, user: string, keepMs: number): Promise<Reply>;
  wslReleaseConfirm(key: string, owner: string): Promise<Reply>;
  wslAbandonConfirm(key: string, owner: string): Promise<Reply>;
  wslCancel(key: string, now: number, ticketHash: string): Promise<Reply>;
  wslAttach(key: string, now: number, secretHash: string, instance: string, claim: string): Promise<Reply>;
  wslExpire(key: string, now: number): Promise<Reply>;
}

type ScriptedRedis = RedisClient & Scripts;

/** A pipeline that also carries the finish script (ioredis adds defined commands to pipelines too). */
type FinishPipeline = ChainableCommander & {
  wslFinishConfirm(key: string, token: string, user: string, keepMs: number): ChainableCommander;
};

function defineScripts(redis: RedisClient): ScriptedRedis {
  const r = redis as ScriptedRedis;
  if (typeof r.wslScan === 'function') return r;
  r.defineCommand('wslCountScan', { numberOfKeys: 1, lua: COUNT_SCAN });
  r.defineCommand('wslScan', { numberOfKeys: 1, lua: SCAN });
  r.defineCommand('wslBeginConfirm', { numberOfKeys: 1, lua: BEGIN_CONFIRM });
  r.defineCommand('wslClaimConfirm', { numberOfKeys: 1, lua: CLAIM_CONFIRM });
  r.defineCommand('wslFinishConfirm', { numberOfKeys: 1, lua: FINISH_CONFIRM });
  r.defineCommand('wslReleaseConfirm', { numberOfKeys: 1, lua: RELEASE_CONFIRM });
  r.defineCommand('wslAbandonConfirm', { numberOfKeys: 1, lua: ABANDON_CONFIRM });
  r.defineCommand('wslCancel', { numberOfKeys: 1, lua: CANCEL });
  r.defineCommand('wslAttach', { numberOfKeys: 1, lua: ATTACH });
  r.defineCommand('wslExpire', { numberOfKeys: 1, lua: EXPIRE });
  return r;
}

function toSession(id: string, flat: string[]): Session {
  const h: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!;
  return {
    id,
    appId: h.appId!,
    tenantId: h.tenantId!,
    mode: h.mode as KeyMode,
    state: h.state as SessionState,
    match: h.match!,
    origin: h.origin ?? '',
    browser: h.browser ?? '',
    os: h.os ?? '',
    ip: h.ip ?? '',
    location: h.location || undefined,
    createdAt: Number(h.createdAt),
    expiresAt: Number(h.expiresAt),
    holder: h.holder || undefined,
    openid: h.openid || undefined,
    unionid: h.unionid || undefined,
    urlLink: h.urlLink || undefined,
  };
}

function tokenOf(flat: string[]): { token: string; user: ConfirmedUser } | null {
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (flat[i] === 'token') {
      const userAt = flat.indexOf('user');
      return { token: flat[i + 1]!, user: JSON.parse(userAt >= 0 ? flat[userAt + 1]! : '{}') as ConfirmedUser };
    }
  }
  return null;
}

export interface Lease {
  ms: number;
  owner: string;
}

export type Outcome<S extends string> = { status: S; session: Session | null };

export interface SessionStore {
  create(s: NewSession): Promise<void>;
  get(id: string): Promise<Session | null>;
  scan(id: string, p: { openid: string; unionid?: string; ticketHash: string }): Promise<Outcome<'scanned' | 'rescanned' | 'expired' | 'taken' | 'gone' | 'missing'>>;
  /**
   * scanned → confirming under a lease of `leaseMs` held by `owner` (or a lapsed lease taken
   * over). The session is first put on the recovery list, so a holder that dies leaves a trace.
   */
  beginConfirm(id: string, ticketHash: string, lease: Lease): Promise<Outcome<'confirming' | 'done' | 'busy' | 'expired' | 'wrong_ticket' | 'not_scanned' | 'gone' | 'missing'>>;
  /** Recovery's claim on a confirm whose lease lapsed. */
  claimConfirm(id: string, lease: Lease): Promise<Outcome<'confirming' | 'busy' | 'state' | 'missing'>>;
  /** confirming → confirmed with the token waiting: the session as it is now, `done` if another finisher won, null if it moved on. */
  finishConfirm(id: string, token: string, user: ConfirmedUser, keepMs: number): Promise<Session | 'done' | null>;
  releaseConfirm(id: string, owner: string): Promise<void>;
  abandonConfirm(id: string, owner: string): Promise<Outcome<'expired' | 'state' | 'missing'>>;
  /** Confirms whose lease ran out by `now` (the recovery list), oldest first. */
  lapsedConfirms(now: number, limit: number): Promise<string[]>;
  /** Off the recovery list: the confirm finished or ended. */
  forgetConfirm(id: string): Promise<void>;
  /** The state of each session (null when Redis no longer has it), in one round trip: the resync pass. */
  states(ids: string[]): Promise<Array<SessionState | null>>;
  cancel(id: string, ticketHash: string): Promise<Outcome<'cancelled' | 'already' | 'expired' | 'wrong_ticket' | 'not_scanned' | 'done' | 'missing'>>;
  /** The secret's holder: route events to `instance` and take the token if it waits (again, for the same `claim`). */
  attach(id: string, secretHash: string, instance: string, claim?: string): Promise<
    | { status: 'token'; session: Session; token: string; user: ConfirmedUser }
    | { status: 'state'; session: Session }
    | { status: 'denied' }
  >;
  expire(id: string): Promise<Outcome<'expired' | 'state' | 'missing'>>;
  /**
   * Counts a phone's scan attempt on a live session (each costs a WeChat call) and answers the
   * session with the attempts so far; an expired session is answered but not counted.
   */
  countScanAttempt(id: string): Promise<{ attempts: number; session: Session } | null>;
  /** Ticket check for side calls (avatar upload): the scanner's ticket, while the session is scanned. */
  ticketMatches(id: string, ticketHash: string): Promise<Session | null>;
}

/**
 * `replicaAckMs`: after writing a confirmed login, wait up to this long for a replica to have it
 * (WAIT 1), before the phone hears 200 and the browser its token, so a master failover right
 * after cannot take the login back. For a Redis Cluster, whose masters have replicas; unset on
 * one Redis (WAIT would only time out there).
 */
export function createSessionStore(redis: RedisClient, keyOf: (id: string) => string, confirmingKey: string, replicaAckMs?: number): SessionStore {
  const r = defineScripts(redis);
  const outcome = <S extends string>(id: string, reply: Reply): Outcome<S> => ({
    status: reply[0] as S,
    session: reply.length > 1 ? toSession(id, reply.slice(1)) : null,
  });

  return {
    async create(s) {
      const key = keyOf(s.id);
      const fields: Record<string, string> = {
        appId: s.appId, tenantId: s.tenantId, mode: s.mode, state: 'pending', match: s.match,
        origin: s.origin, browser: s.browser, os: s.os, ip: s.ip, location: s.location ?? '',
        createdAt: String(s.createdAt), expiresAt: String(s.expiresAt), holder: s.holder, secret: s.secretHash,
        ...(s.urlLink ? { urlLink: s.urlLink } : {}),
      };
      await r.multi().hset(key, fields).pexpireat(key, s.expiresAt + LINGER_MS).exec();
    },
    async get(id) {
      const flat = await r.hgetall(keyOf(id));
      if (!flat.state) return null;
      const s = toSession(id, Object.entries(flat).flat());
      if ((s.state === 'pending' || s.state === 'scanned') && Date.now() >= s.expiresAt) s.state = 'expired';
      return s;
    },
    async scan(id, p) {
      return outcome(id, await r.wslScan(keyOf(id), Date.now(), p.openid, p.unionid ?? '', p.ticketHash));
    },
    async beginConfirm(id, ticketHash, lease) {
      const now = Date.now();
      // The list is another key (another cluster slot), so not in the script, and not in one
      // pipeline (a cluster's pipeline stays on one node); sent together all the same. Listed
      // first: an entry whose begin was refused is dropped by the next recovery pass; a listing
      // that failed fails the begin (a 503), and its lease lapses for the phone's retry.
      const [, reply] = await Promise.all([
        r.zadd(confirmingKey, now + lease.ms, id),
        r.wslBeginConfirm(keyOf(id), now, ticketHash, lease.ms, lease.owner),
      ]);
      return outcome(id, reply);
    },
    async claimConfirm(id, lease) {
      const now = Date.now();
      const reply = await r.wslClaimConfirm(keyOf(id), now, lease.ms, lease.owner);
      if (reply[0] === 'confirming') await r.zadd(confirmingKey, now + lease.ms, id);
      return outcome(id, reply);
    },
    async finishConfirm(id, token, user, keepMs) {
      // Sent together, as beginConfirm's; an entry a failed ZREM leaves is dropped by the recovery pass.
      const finish = replicaAckMs
        // One pipeline, so the WAIT goes to the session's own master, on the connection that wrote.
        ? pipelineValues((r.pipeline() as FinishPipeline).wslFinishConfirm(keyOf(id), token, JSON.stringify(user), keepMs).call('WAIT', 1, replicaAckMs))
          .then(([reply]) => reply as Reply)
        : r.wslFinishConfirm(keyOf(id), token, JSON.stringify(user), keepMs);
      const [reply] = await Promise.all([finish, r.zrem(confirmingKey, id)]);
      if (reply[0] === 'missing') return null;
      return reply[0] === 'done' ? 'done' : toSession(id, reply.slice(1));
    },
    async releaseConfirm(id, owner) {
      await r.wslReleaseConfirm(keyOf(id), owner);
    },
    async abandonConfirm(id, owner) {
      return outcome(id, await r.wslAbandonConfirm(keyOf(id), owner));
    },
    async lapsedConfirms(now, limit) {
      return r.zrangebyscore(confirmingKey, '-inf', now, 'LIMIT', 0, limit);
    },
    async forgetConfirm(id) {
      await r.zrem(confirmingKey, id);
    },
    async states(ids) {
      if (!ids.length) return [];
      // Not one pipeline: the sessions lie in every slot of a cluster. Sent at once all the same.
      const states = await Promise.all(ids.map((id) => r.hget(keyOf(id), 'state')));
      return states.map((v) => (v as SessionState | null) ?? null);
    },
    async cancel(id, ticketHash) {
      return outcome(id, await r.wslCancel(keyOf(id), Date.now(), ticketHash));
    },
    async attach(id, secretHash, instance, claim = '') {
      const reply = await r.wslAttach(keyOf(id), Date.now(), secretHash, instance, claim);
      if (reply[0] === 'denied') return { status: 'denied' };
      const session = toSession(id, reply.slice(1));
      if (reply[0] === 'token') {
        const t = tokenOf(reply.slice(1))!;
        session.state = 'consumed';
        return { status: 'token', session, ...t };
      }
      return { status: 'state', session };
    },
    async expire(id) {
      return outcome(id, await r.wslExpire(keyOf(id), Date.now()));
    },
    async countScanAttempt(id) {
      const reply = await r.wslCountScan(keyOf(id), Date.now());
      if (reply[0] === 'missing') return null;
      const session = toSession(id, reply.slice(1));
      return { attempts: reply[0] === 'expired' ? 0 : Number(reply[0]), session };
    },
    async ticketMatches(id, ticketHash) {
      const [state, ticket] = await r.hmget(keyOf(id), 'state', 'ticket');
      if (state !== 'scanned' || ticket !== ticketHash) return null;
      return this.get(id);
    },
  };
}
