import { isTerminal, type ErrorFrame, type LoginUser, type ServerFrame, type SessionFrame, type State } from './protocol';

/** Everything the element draws, derived only from what it was told so far. */
export interface Model {
  state: State;
  session?: SessionFrame;
  /** When the code ends by this browser's clock (see `codeEnd`). */
  endsAt?: number;
  error?: ErrorFrame;
  /**
   * The connection is down and the transport is retrying. The session's state is kept: the code
   * stays scannable meanwhile, and the first answer after the reconnect settles it.
   */
  reconnecting?: boolean;
}

/**
 * What moves the machine: a server frame, the transport saying it lost the connection and is
 * retrying, or the element's own clock passing the code's end.
 */
export type Input = ServerFrame | { type: 'reconnecting' } | { type: 'deadline' };

/** A DOM event the element must dispatch after a transition (name, detail). */
export type Emit =
  | ['statechange', { state: State }]
  | ['login', { token: string; user: LoginUser }]
  | ['scanned', null]
  | ['cancelled', null]
  | ['expired', null]
  | ['failed', { code: string; message: string }];

export const initial: Model = { state: 'loading' };

/** Errors a retry can't fix (the page is set up wrong): no retry button, a console.error instead. */
export const isFinal = (code: string): boolean => code == 'invalid_key' || code == 'origin_not_allowed' || code == 'no_server';

/** How long past its end the element waits for the server's `expired` before ending the code itself. */
export const GRACE_MS = 3000;

/**
 * The code's end by this browser's clock: now plus what `expiresAt` leaves, clamped to the TTLs an
 * app can have (30–600 s), so a visitor's clock that is minutes off never ends a fresh code at once.
 */
export function codeEnd(expiresAt: string, now: number): number {
  return now + Math.min(600_000, Math.max(30_000, Date.parse(expiresAt) - now || 0));
}

/**
 * The element's state machine: one input in, the next model and the events to dispatch out.
 * Frames that make no sense in the current state (a late `scanned` after `success`, a duplicate
 * after a resume) change nothing, so a replayed frame can never fire an event twice. A new
 * `session` frame is welcome at any time but after success: the server sends one when it has lost
 * the session (Redis data loss), and the visitor then sees a fresh code without a click.
 */
export function reduce(m: Model, f: Input, message = '', now = Date.now()): [Model, Emit[]] {
  if (f.type == 'reconnecting') return [m.reconnecting || isTerminal(m.state) ? m : { ...m, reconnecting: true }, []];
  // Any answer (or the deadline) settles the connection question.
  const base: Model = m.reconnecting ? { ...m, reconnecting: false } : m;
  const live = m.state == 'ready' || m.state == 'scanned';
  let next: Model | undefined;
  const out: Emit[] = [];
  switch (f.type) {
    case 'session':
      // The same session again is a resume answer, which changes nothing visible.
      if (m.state != 'success' && (!live || m.session?.session != f.session)) next = { state: 'ready', session: f, endsAt: codeEnd(f.expiresAt, now) };
      break;
    case 'scanned':
      if (m.state == 'ready') (next = { ...base, state: 'scanned' }), out.push(['scanned', null]);
      break;
    case 'success':
      if (live) (next = { ...base, state: 'success' }), out.push(['login', { token: f.token, user: f.user }]);
      break;
    case 'deadline':
    case 'cancelled':
    case 'expired': {
      const state = f.type == 'cancelled' ? 'cancelled' : 'expired';
      if (live) (next = { ...base, state }), out.push([state, null]);
      break;
    }
    case 'error':
      if (!isTerminal(m.state)) {
        next = { ...base, state: 'error', error: f };
        out.push(['failed', { code: f.code, message: f.message ?? message }]);
      }
  }
  if (!next) return [base, []];
  if (next.state != m.state) out.unshift(['statechange', { state: next.state }]);
  return [next, out];
}

/** Whether the code is past its end (plus the grace) while the server still hasn't said so. */
export function overdue(m: Model, now: number): boolean {
  return (m.state == 'ready' || m.state == 'scanned') && now >= m.endsAt! + GRACE_MS;
}

/** Whole seconds left on the code, never negative. */
export function secondsLeft(endsAt: number, now: number): number {
  return endsAt > now ? Math.ceil((endsAt - now) / 1000) : 0;
}
