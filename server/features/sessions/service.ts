import type { Core } from '../../core';
import { sha256 } from '../../lib/crypto';
import { ApiError } from '../../lib/errors';
import { newMatchNumber, newSessionId, newSessionSecret, randomBase64url, type KeyMode } from '../../lib/ids';
import type { AppRecord, AppsStore } from '../apps/store';
import type { SessionBus } from './bus';
import { coarseLocation } from './client-info';
import type { ScanAnswer } from '../../../contract/sessions.js';
import { errorFrame, SESSION_ID, type Frame } from './frames';
import { findSessionEnd, recordConfirmedLogin, recordEndedSession, type Profile, type RecordedLogin, type RecordedUser } from './login-record';
import type { ActivityPort, OutboxPort, SignerPort, WechatPort } from './ports';
import { refusal, SAY } from './refusals';
import type { ConfirmedUser, Lease, Session, SessionStore } from './store';

export interface ClientInfo {
  origin: string;
  browser: string;
  os: string;
  ip: string;
  /** A phone can't scan its own screen: it gets an "Open in WeChat" link where one can be made. */
  mobile: boolean;
}

/** A person rescans a few times at most (network retries, reopening the page); a script scans more. */
const MAX_SCANS_PER_SESSION = 10;

/** How long a signed token may wait for its browser to come back for it. */
const TOKEN_WAIT_MS = 120_000;

/** A confirm that finds another one holding the session asks again this often, until that one finishes or its lease lapses. */
const BUSY_POLL_MS = 200;

/** Recovery handles this many lapsed confirms per pass. */
const RECOVERY_BATCH = 50;

export interface SessionService {
  open(app: AppRecord, mode: KeyMode, client: ClientInfo): Promise<Frame & { type: 'session' }>;
  /** The frame for a session's current state, as seen by the holder of its secret (hands the token over). */
  attach(sessionId: string, secret: string, claim?: string): Promise<{ frame: Frame; session: Session | null }>;
  sessionFrame(s: Session, secret: string): Frame & { type: 'session' };
  /**
   * Timed expiry by whoever holds the browser; records the event when a scan was under way.
   * `live`: not expired (being confirmed, or finished otherwise); `missing`: Redis no longer has it.
   */
  expire(sessionId: string): Promise<'expired' | 'live' | 'missing'>;
  scan(scene: string, code: string): Promise<ScanAnswer>;
  /** Sandbox only: play the phone for `openid` (test helpers, the sandbox phone page). */
  sandboxCode(scene: string, openid: string): Promise<string>;
  confirm(scene: string, ticket: string, profile: Profile): Promise<void>;
  cancel(scene: string, ticket: string): Promise<void>;
  /** For side calls of the confirm page (avatar upload): the scanner's session, or an ApiError. */
  checkTicket(scene: string, ticket: string): Promise<{ appId: string; tenantId: string; mode: KeyMode }>;
  get(sessionId: string): Promise<Session | null>;
  /**
   * One pass over confirms whose lease lapsed with nobody retrying them (their instance died, or
   * lost Redis or Postgres mid-way): each is finished from what Postgres recorded, or ended as
   * expired when Postgres has no login for it. Answers how many it settled.
   */
  recoverConfirms(): Promise<number>;
}

export function createSessionService(deps: {
  core: Core;
  store: SessionStore;
  bus: SessionBus;
  apps: AppsStore;
  wechat: WechatPort;
  signer: SignerPort;
  outbox: OutboxPort;
  activity: ActivityPort;
}): SessionService {
  const { core, store, bus, apps, wechat, signer, outbox, activity } = deps;
  const log = core.logger.child({ feature: 'sessions' });

  const qrUrl = (id: string) => `${core.config.publicUrl}/v1/sessions/${id}/qr`;

  function sessionFrame(s: Session, secret: string): Frame & { type: 'session' } {
    const frame = { type: 'session' as const, session: s.id, secret, expiresAt: new Date(s.expiresAt).toISOString(), qr: qrUrl(s.id), match: s.match };
    return s.urlLink ? { ...frame, urlLink: s.urlLink } : frame;
  }

  function checkScene(scene: string): void {
    if (!SESSION_ID.test(scene)) throw new ApiError('session_not_found', 'This code is not one of ours; refresh the code on your computer');
  }

  function liveForPhone(s: Session | null | undefined): Session {
    if (!s) throw new ApiError('session_not_found', SAY.unknown);
    if (s.state === 'expired') throw new ApiError('session_expired', SAY.expired);
    return s;
  }

  async function loadForPhone(scene: string): Promise<Session> {
    checkScene(scene);
    return liveForPhone(await store.get(scene));
  }

  function dispatchQuietly(ids: string[]) {
    if (ids.length) outbox.dispatch(ids).catch((err) => log.warn({ err }, 'webhook dispatch deferred to the sweeper'));
  }

  /** Events are hints (the session in Redis is the truth, and resync passes catch lost ones): a failed publish fails nothing. */
  function notify(holder: string | undefined, id: string, event: 'scanned' | 'confirmed' | 'cancelled' | 'expired') {
    bus.publish(holder, id, event).catch((err) => log.warn({ err, sessionId: id }, 'session event not published; the resync pass delivers it'));
  }

  const newLease = (): Lease => ({ ms: core.config.confirmLeaseMs, owner: randomBase64url(9) });

  function tokenUser(u: RecordedUser): ConfirmedUser {
    return { id: u.id, openid: u.openid, ...(u.unionid ? { unionid: u.unionid } : {}), ...(u.nickname ? { name: u.nickname } : {}), ...(u.avatarUrl ? { picture: u.avatarUrl } : {}) };
  }

  /** The session's confirm ended without a login (recovery fenced it in Postgres): tell the browser. */
  async function abandon(s: Session, lease: Lease) {
    const r = await store.abandonConfirm(s.id, lease.owner);
    await store.forgetConfirm(s.id);
    if (r.status === 'expired') {
      core.metrics.sessionTransitions.inc({ state: 'expired' });
      notify(r.session?.holder, s.id, 'expired');
    }
  }

  /**
   * Finish a confirm this caller holds the lease of: write the login (or, with `profile` null
   * or when an earlier attempt wrote it, read what was recorded), sign the token from the
   * record, hand it to the session and tell the browser. Any failure before the hand-over gives
   * the lease up so a retry or recovery finishes instead.
   */
  async function complete(s: Session, lease: Lease, profile: Profile | null): Promise<void> {
    let user: ConfirmedUser;
    let token: string;
    let toDispatch: Extract<RecordedLogin, { recorded: true }>['toDispatch'] | undefined;
    try {
      const app = await apps.getApp(s.appId);
      if (!app) throw new ApiError('session_not_found', 'This site no longer exists');
      const written = profile ? await recordConfirmedLogin(core.database, outbox, activity, s, profile) : { recorded: false as const };
      let recorded: RecordedUser;
      if (written.recorded) {
        recorded = written.user;
        toDispatch = written.toDispatch;
      } else {
        const end = await findSessionEnd(core.db, s.id);
        if (end?.status !== 'succeeded') {
          await abandon(s, lease);
          throw refusal('confirm', 'expired');
        }
        recorded = end.user;
      }
      // Test and bench fault point: die at the worst moment, the login in Postgres and Redis not told.
      if (core.config.faultExitAfterLoginRecord) process.exit(70);
      user = tokenUser(recorded);
      token = await signer.sign(app, s.mode, { sub: user.id, openid: user.openid, ...(user.unionid ? { unionid: user.unionid } : {}), ...(user.name ? { name: user.name } : {}), ...(user.picture ? { picture: user.picture } : {}), jti: s.id });
    } catch (err) {
      await store.releaseConfirm(s.id, lease.owner).catch((e) => log.warn({ err: e, sessionId: s.id }, 'confirm lease not released; it lapses'));
      throw err;
    }
    const done = await store.finishConfirm(s.id, token, user, TOKEN_WAIT_MS);
    if (done === 'done' || !done) return;
    core.metrics.sessionTransitions.inc({ state: 'confirmed' });
    if (toDispatch?.deliveries.length) {
      outbox.enqueue(toDispatch.deliveries, toDispatch.at).catch((err) => log.warn({ err }, 'webhook dispatch deferred to the sweeper'));
    }
    notify(done.holder, s.id, 'confirmed');
  }

  async function runScan(s: Session, identity: { openid: string; unionid?: string }): Promise<ScanAnswer> {
    const ticket = randomBase64url(32);
    const r = await store.scan(s.id, { ...identity, ticketHash: sha256(ticket) });
    if (r.status !== 'scanned' && r.status !== 'rescanned') throw refusal('scan', r.status);
    const session = r.session!;
    if (r.status === 'scanned') {
      core.metrics.sessionTransitions.inc({ state: 'scanned' });
      notify(session.holder, session.id, 'scanned');
    }
    const app = await apps.getApp(session.appId);
    return {
      ticket,
      site: {
        name: app?.displayName || app?.name || 'Unknown site',
        origin: session.origin,
        ...(app?.logoUrl ? { logoUrl: app.logoUrl } : {}),
      },
      request: {
        browser: session.browser,
        os: session.os,
        ip: session.ip,
        ...(session.location ? { location: session.location } : {}),
        createdAt: new Date(session.createdAt).toISOString(),
      },
      match: session.match,
      expiresAt: new Date(session.expiresAt).toISOString(),
    };
  }

  /**
   * In the sandbox the "app" is the sandbox phone page itself. Live, a URL Link needs a published,
   * non-personal mini-program (the app's urlLinkEnabled); without one the element shows a
   * save-the-code hint instead, so a failure here only drops the link.
   */
  async function openInWechatLink(app: AppRecord, s: Session): Promise<string | undefined> {
    if (s.mode === 'test') return `${core.config.publicUrl}/sandbox/phone?scene=${s.id}`;
    if (!app.urlLinkEnabled) return undefined;
    return wechat
      .generateUrlLink({ appId: app.id, mode: s.mode }, { page: app.mpPage, query: `scene=${s.id}`, envVersion: app.envVersion })
      .catch((err) => {
        log.warn({ err, appId: app.id }, 'no URL Link for a phone visitor');
        return undefined;
      });
  }

  return {
    sessionFrame,
    get: (id) => store.get(id),

    async open(app, mode, client) {
      const now = Date.now();
      const s: Session = {
        id: newSessionId(), appId: app.id, tenantId: app.tenantId, mode, state: 'pending', match: newMatchNumber(),
        origin: client.origin, browser: client.browser, os: client.os, ip: client.ip, location: coarseLocation(client.ip),
        createdAt: now, expiresAt: now + app.sessionTtlSeconds * 1000, holder: core.instanceId, openid: undefined, unionid: undefined,
        urlLink: undefined,
      };
      // Made before the session is stored, so a resume on any instance gives the same link.
      if (client.mobile) s.urlLink = await openInWechatLink(app, s);
      const secret = newSessionSecret();
      await store.create({ ...s, holder: core.instanceId, secretHash: sha256(secret) });
      core.metrics.sessionsCreated.inc({ mode });
      return sessionFrame(s, secret);
    },

    async attach(sessionId, secret, claim) {
      if (!SESSION_ID.test(sessionId)) return { frame: errorFrame('session_not_found', SAY.finished), session: null };
      const r = await store.attach(sessionId, sha256(secret), core.instanceId, claim);
      if (r.status === 'denied') return { frame: errorFrame('session_not_found', SAY.finished), session: null };
      if (r.status === 'token') return { frame: { type: 'success', token: r.token, user: r.user }, session: r.session };
      const s = r.session;
      switch (s.state) {
        case 'pending':
          return { frame: sessionFrame(s, secret), session: s };
        case 'scanned':
        case 'confirming':
          return { frame: { type: 'scanned' }, session: s };
        case 'cancelled':
          return { frame: { type: 'cancelled' }, session: s };
        case 'expired':
          return { frame: { type: 'expired' }, session: s };
        default:
          return { frame: errorFrame('session_not_found', SAY.finished), session: null };
      }
    },

    async expire(sessionId) {
      const r = await store.expire(sessionId);
      if (r.status === 'missing') return 'missing';
      if (r.status !== 'expired') return r.session?.state === 'expired' ? 'expired' : 'live';
      core.metrics.sessionTransitions.inc({ state: 'expired' });
      // A code nobody scanned is just an idle page; one that was scanned is an abandoned login.
      if (r.session?.openid) await recordEndedSession(core.db, null, r.session, 'expired').catch((err) => log.warn({ err }, 'could not record expiry'));
      return 'expired';
    },

    async scan(scene, code) {
      checkScene(scene);
      const counted = await store.countScanAttempt(scene);
      const s = liveForPhone(counted?.session);
      // Every scan spends one of the tenant's WeChat calls: a public code is not a way to burn them.
      if (counted!.attempts > MAX_SCANS_PER_SESSION) {
        throw new ApiError('rate_limited', 'Too many scans of this code; refresh the code on your computer');
      }
      const identity = await wechat.code2Session({ appId: s.appId, mode: s.mode }, code);
      const refused = await activity.refusal(s, identity.openid);
      if (refused) {
        // The browser hears why too (its element fires `failed`); the session stays unscanned.
        await bus.publish(s.holder, s.id, 'refused', `${refused.code} ${refused.message}`);
        throw new ApiError(refused.code, refused.message);
      }
      return runScan(s, identity);
    },

    async sandboxCode(scene, openid) {
      const s = await loadForPhone(scene);
      if (s.mode !== 'test') throw new ApiError('live_mode_forbidden', 'The sandbox phone only works for test-mode sessions');
      return wechat.sandboxPhoneCode(s.appId, openid);
    },

    async confirm(scene, ticket, profile) {
      if (!SESSION_ID.test(scene)) throw refusal('confirm', 'missing');
      const lease = newLease();
      const ticketHash = sha256(ticket);
      let begun = await store.beginConfirm(scene, ticketHash, lease);
      // Another confirm holds it: a double tap (it finishes in a moment), or one whose instance
      // died (its lease lapses, then this retry takes over and finishes the login).
      const until = Date.now() + lease.ms + BUSY_POLL_MS;
      while (begun.status === 'busy' && Date.now() < until) {
        await new Promise((r) => setTimeout(r, BUSY_POLL_MS));
        begun = await store.beginConfirm(scene, ticketHash, lease);
      }
      if (begun.status === 'done') return;
      if (begun.status !== 'confirming') throw refusal('confirm', begun.status);
      await complete(begun.session!, lease, profile);
    },

    async recoverConfirms() {
      let settled = 0;
      for (const id of await store.lapsedConfirms(Date.now(), RECOVERY_BATCH)) {
        const lease = newLease();
        const claim = await store.claimConfirm(id, lease);
        if (claim.status === 'busy') continue;
        if (claim.status !== 'confirming') {
          await store.forgetConfirm(id);
          continue;
        }
        const s = claim.session!;
        // The fence: an `expired` event unless the login is there already (or is being written
        // right now, in which case this insert waits for it and then writes nothing).
        await recordEndedSession(core.db, null, s, 'expired');
        await complete(s, lease, null).catch((err) => {
          if (!(err instanceof ApiError)) throw err;
        });
        settled++;
      }
      return settled;
    },

    async cancel(scene, ticket) {
      if (!SESSION_ID.test(scene)) throw refusal('cancel', 'missing');
      const r = await store.cancel(scene, sha256(ticket));
      if (r.status === 'already') return;
      if (r.status !== 'cancelled') throw refusal('cancel', r.status);
      const s = r.session!;
      core.metrics.sessionTransitions.inc({ state: 'cancelled' });
      notify(s.holder, s.id, 'cancelled');
      dispatchQuietly(await recordEndedSession(core.db, outbox, s, 'cancelled'));
    },

    async checkTicket(scene, ticket) {
      const s = SESSION_ID.test(scene) ? await store.ticketMatches(scene, sha256(ticket)) : null;
      if (!s) throw new ApiError('wrong_user', 'Only the WeChat user who scanned this code, while it is waiting for confirmation, can do this');
      if (s.state === 'expired') throw new ApiError('session_expired', SAY.expired);
      return { appId: s.appId, tenantId: s.tenantId, mode: s.mode };
    },
  };
}
