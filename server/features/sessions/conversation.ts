import type { SessionEvent } from './bus';
import { CLOSE } from './gate';
import { errorFrame, type ClientFrame, type Frame } from './frames';


/** Per-socket message budget: a widget sends a handful of frames per session. */
export const MESSAGES_PER_WINDOW = 30;
export const MESSAGE_WINDOW_MS = 10_000;
/** A store that failed the expiry check is asked again this much later. */
export const EXPIRY_RETRY_MS = 1_000;

const UNAVAILABLE = 'The login service is briefly unavailable; try again';

/**
 * One socket's conversation, as data. `follow` is the session whose events this socket waits
 * for (at most one); `shown` is the last state the browser was sent for it, so a replayed hint
 * (bus message, resync pass) never sends a frame twice.
 */
export interface Model {
  phase: 'awaiting_resume' | 'opening' | 'waiting' | 'ended' | 'done' | 'closed';
  /** Why a session is being opened: a failure means something different for each. */
  opening: 'first' | 'refresh' | 'recover' | null;
  resumeId: string | null;
  follow: { id: string; secret: string; shown: 'pending' | 'scanned' } | null;
  /** An attach (token hand-over or final state) is in flight: do not start a second. */
  attaching: boolean;
  budget: { left: number; since: number };
}

export type Input =
  | { type: 'start'; at: number }
  | { type: 'message'; msg: ClientFrame | null; at: number }
  | { type: 'resume_timeout' }
  | { type: 'opened'; frame: Frame & { type: 'session' }; expiresAt: number }
  | { type: 'open_refused'; code: string; message: string }
  | { type: 'open_failed' }
  | { type: 'attached'; id: string; frame: Frame; expiresAt: number | null }
  | { type: 'attach_failed'; id: string }
  /** A hint that the session changed: a bus message, or a resync pass that read its state. */
  | { type: 'event'; id: string; event: SessionEvent | 'vanished'; detail: string }
  | { type: 'expiry_due'; id: string; at: number }
  | { type: 'expiry'; id: string; outcome: 'expired' | 'live' | 'missing' | 'error'; at: number }
  | { type: 'closed' };

export type Effect =
  | { do: 'send'; frame: Frame | { type: 'pong' } }
  | { do: 'close'; code: number; reason: string }
  /** Open a new session; `counted` spends the per-IP session limit first (not for server-initiated recovery). */
  | { do: 'open'; counted: boolean }
  | { do: 'attach'; id: string; secret: string }
  /** Listen for the session's events and arm its expiry timer at `expiresAt`. */
  | { do: 'follow'; id: string; expiresAt: number }
  | { do: 'unfollow' }
  | { do: 'expire'; id: string };

export function initial(resumeId: string | null, at: number): Model {
  return {
    phase: resumeId ? 'awaiting_resume' : 'opening', opening: resumeId ? null : 'first', resumeId, follow: null, attaching: false,
    budget: { left: MESSAGES_PER_WINDOW, since: at },
  };
}

type Step = [Model, Effect[]];

const send = (frame: Frame | { type: 'pong' }): Effect => ({ do: 'send', frame });

/** The session this socket follows is over (cancelled, expired, error): the socket stays for a `refresh`. */
function end(m: Model, frame: Frame): Step {
  return [{ ...m, phase: 'ended', follow: null, attaching: false }, [{ do: 'unfollow' }, send(frame)]];
}

function onMessage(m: Model, msg: ClientFrame | null, at: number): Step {
  const budget = at - m.budget.since >= MESSAGE_WINDOW_MS ? { left: MESSAGES_PER_WINDOW, since: at } : { ...m.budget };
  budget.left -= 1;
  const spent = { ...m, budget };
  if (budget.left < 0) {
    return [{ ...spent, phase: 'closed', follow: null }, [{ do: 'unfollow' }, send(errorFrame('rate_limited', 'Too many messages on this connection')), { do: 'close', code: CLOSE.rate_limited, reason: 'rate_limited' }]];
  }
  if (!msg) return [spent, [send(errorFrame('bad_request', 'Unknown or malformed frame'))]];
  if (msg.type === 'ping') return [spent, [send({ type: 'pong' })]];
  if (m.phase === 'awaiting_resume') {
    if (msg.type !== 'resume' || msg.session !== m.resumeId) return [spent, [send(errorFrame('bad_request', 'Expected a resume frame for the session in the URL'))]];
    return [{ ...spent, phase: 'waiting', follow: { id: msg.session, secret: msg.secret, shown: 'pending' }, attaching: true }, [{ do: 'attach', id: msg.session, secret: msg.secret }]];
  }
  if (msg.type === 'resume') return [spent, [send(errorFrame('bad_request', 'Resume only as the first frame of a socket opened with ?session='))]];
  if (m.phase === 'done') return [spent, [send(errorFrame('bad_request', 'This login is complete'))]];
  // refresh: a new session replaces whatever this socket followed, and counts like any new session.
  return [{ ...spent, phase: 'opening', opening: 'refresh', follow: null, attaching: false }, [{ do: 'unfollow' }, { do: 'open', counted: true }]];
}

function onAttached(m: Model, id: string, frame: Frame, expiresAt: number | null): Step {
  if (m.follow?.id !== id || m.phase !== 'waiting') return [m, []];
  const resuming = m.resumeId === id && m.follow.shown === 'pending' && m.attaching && m.opening === null;
  const settled = { ...m, attaching: false, opening: null };
  switch (frame.type) {
    case 'success':
      return [{ ...settled, phase: 'done', follow: null }, [{ do: 'unfollow' }, send(frame), { do: 'close', code: 1000, reason: 'done' }]];
    case 'session':
    case 'scanned': {
      const shown = frame.type === 'session' ? 'pending' : 'scanned';
      const effects: Effect[] = [];
      if (resuming && expiresAt !== null) effects.push({ do: 'follow', id, expiresAt });
      if (resuming || shown !== m.follow!.shown) effects.push(send(frame));
      return [{ ...settled, resumeId: null, follow: { ...m.follow!, shown } }, effects];
    }
    case 'error':
      if (resuming) {
        return [{ ...settled, phase: 'closed', follow: null }, [{ do: 'unfollow' }, send(frame), { do: 'close', code: CLOSE.session_not_found, reason: 'session_not_found' }]];
      }
      return end(settled, frame);
    default:
      return end(settled, frame);
  }
}

function onEvent(m: Model, id: string, event: SessionEvent | 'vanished', detail: string): Step {
  if (m.follow?.id !== id || m.phase !== 'waiting') return [m, []];
  switch (event) {
    case 'scanned':
      if (m.follow.shown === 'scanned' || m.attaching) return [m, []];
      return [{ ...m, follow: { ...m.follow, shown: 'scanned' } }, [send({ type: 'scanned' })]];
    case 'failed':
      return end(m, errorFrame('wechat_error', detail));
    case 'refused': {
      const space = detail.indexOf(' ');
      return end(m, errorFrame(detail.slice(0, space), detail.slice(space + 1)));
    }
    case 'vanished':
      // Redis lost the session (restarted without persistence): the browser gets a fresh code unasked.
      // `follow` stays until the new session is open, so a failed attempt is retried by the next pass.
      return [{ ...m, phase: 'opening', opening: 'recover', attaching: false }, [{ do: 'open', counted: false }]];
    default:
      // confirmed, cancelled, expired: the attach script decides what this holder gets, once.
      if (m.attaching) return [m, []];
      return [{ ...m, attaching: true }, [{ do: 'attach', id, secret: m.follow.secret }]];
  }
}

function onExpiry(m: Model, id: string, outcome: 'expired' | 'live' | 'missing' | 'error', at: number): Step {
  if (m.follow?.id !== id || m.phase !== 'waiting') return [m, []];
  switch (outcome) {
    case 'expired':
    case 'missing':
      // Gone from Redis too: the code's time is over whatever the store remembers.
      return end(m, { type: 'expired' });
    case 'error':
      return [m, [{ do: 'follow', id, expiresAt: at + EXPIRY_RETRY_MS }]];
    case 'live':
      // Being confirmed (or already confirmed, hint in flight): its event or a resync pass ends it.
      return [m, []];
  }
}

/**
 * The socket's state machine: one input in, the next model and the I/O to perform out
 * (performed by ws.ts, whose results come back as inputs). Nothing here touches a socket,
 * a store or a clock.
 */
export function reduce(m: Model, input: Input): Step {
  if (m.phase === 'closed') return [m, []];
  switch (input.type) {
    case 'start':
      return m.phase === 'opening' ? [m, [{ do: 'open', counted: false }]] : [m, []];
    case 'message':
      return onMessage(m, input.msg, input.at);
    case 'resume_timeout':
      if (m.phase !== 'awaiting_resume') return [m, []];
      return [{ ...m, phase: 'closed' }, [send(errorFrame('bad_request', 'Expected a resume frame with the session secret')), { do: 'close', code: CLOSE.bad_request, reason: 'bad_request' }]];
    case 'opened':
      if (m.phase !== 'opening') return [m, []];
      return [
        { ...m, phase: 'waiting', opening: null, follow: { id: input.frame.session, secret: input.frame.secret, shown: 'pending' } },
        [{ do: 'follow', id: input.frame.session, expiresAt: input.expiresAt }, send(input.frame)],
      ];
    case 'open_refused':
      if (m.phase !== 'opening') return [m, []];
      return [{ ...m, phase: 'ended', opening: null }, [send(errorFrame(input.code, input.message))]];
    case 'open_failed':
      if (m.phase !== 'opening') return [m, []];
      if (m.opening === 'first') {
        return [{ ...m, phase: 'closed' }, [send(errorFrame('unavailable', UNAVAILABLE)), { do: 'close', code: CLOSE.unavailable, reason: 'unavailable' }]];
      }
      if (m.opening === 'recover') return [{ ...m, phase: 'waiting', opening: null }, []];
      return [{ ...m, phase: 'ended', opening: null }, [send(errorFrame('unavailable', UNAVAILABLE))]];
    case 'attached':
      return onAttached(m, input.id, input.frame, input.expiresAt);
    case 'attach_failed':
      if (m.follow?.id !== input.id) return [m, []];
      if (m.resumeId === input.id && m.follow.shown === 'pending') {
        return [{ ...m, phase: 'closed', follow: null }, [send(errorFrame('unavailable', UNAVAILABLE)), { do: 'close', code: CLOSE.unavailable, reason: 'unavailable' }]];
      }
      // The next hint or resync pass asks again.
      return [{ ...m, attaching: false }, []];
    case 'event':
      return onEvent(m, input.id, input.event, input.detail);
    case 'expiry_due':
      if (m.follow?.id !== input.id || m.phase !== 'waiting') return [m, []];
      return [m, [{ do: 'expire', id: input.id }]];
    case 'expiry':
      return onExpiry(m, input.id, input.outcome, input.at);
    case 'closed':
      return [{ ...m, phase: 'closed', follow: null }, [{ do: 'unfollow' }]];
  }
}
