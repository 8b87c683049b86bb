import { isTerminal, type ErrorFrame, type LoginUser, type ServerFrame, type SessionFrame, type State } from './protocol';

/** Everything the element draws, derived only from the frames received so far. */
export interface Model {
  state: State;
  session?: SessionFrame;
  error?: ErrorFrame;
}

/** A DOM event the element must dispatch after a transition (name, detail). */
export type Emit =
  | ['statechange', { state: State }]
  | ['login', { token: string; user: LoginUser }]
  | ['scanned', null]
  | ['cancelled', null]
  | ['expired', null]
  | ['failed', { code: string; message: string }];

export const initial: Model = { state: 'loading' };

/**
 * The element's state machine: one server frame in, the next model and the events to dispatch
 * out. Frames that make no sense in the current state (a late `scanned` after `success`, a
 * duplicate after a resume) change nothing, so a replayed frame can never fire an event twice.
 */
export function reduce(m: Model, f: ServerFrame, message = ''): [Model, Emit[]] {
  const live = m.state == 'ready' || m.state == 'scanned';
  let next: Model | undefined;
  const out: Emit[] = [];
  switch (f.type) {
    case 'session':
      // A new session is welcome from loading or any terminal state (refresh); while live it can
      // only be a resume answer for the same session, which updates nothing visible.
      if (!live || m.session?.session != f.session) next = { state: 'ready', session: f };
      break;
    case 'scanned':
      if (m.state == 'ready') (next = { ...m, state: 'scanned' }), out.push(['scanned', null]);
      break;
    case 'success':
      if (live) (next = { ...m, state: 'success' }), out.push(['login', { token: f.token, user: f.user }]);
      break;
    case 'cancelled':
    case 'expired':
      if (live) (next = { ...m, state: f.type }), out.push([f.type, null]);
      break;
    case 'error':
      if (!isTerminal(m.state)) {
        next = { ...m, state: 'error', error: f };
        out.push(['failed', { code: f.code, message: f.message ?? message }]);
      }
  }
  if (!next) return [m, []];
  if (next.state != m.state) out.unshift(['statechange', { state: next.state }]);
  return [next, out];
}

/** Seconds left on the code, never negative; the server's `expired` frame is what ends it. */
export function secondsLeft(expiresAt: string, now: number): number {
  const t = Date.parse(expiresAt);
  return t > now ? Math.ceil((t - now) / 1000) : 0;
}
