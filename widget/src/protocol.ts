/**
 * The wire contract (DESIGN.md §4) as types, and a parser that accepts only frames of a known
 * shape: the widget has no room for zod, so this is its input edge.
 */

/** What the element shows; `success`, `cancelled`, `expired` and `error` are terminal. */
export type State = 'loading' | 'ready' | 'scanned' | 'success' | 'cancelled' | 'expired' | 'error';

/** The end user as the server describes them in the `success` frame. */
export interface LoginUser {
  id?: string;
  name?: string;
  picture?: string;
  [claim: string]: unknown;
}

export interface SessionFrame {
  type: 'session';
  session: string;
  secret: string;
  expiresAt: string;
  /** Code image: absolute URL, URL relative to the server, or a data URL. */
  qr: string;
  match: string;
  /** A WeChat URL Link that opens the mini-program from a phone browser, when the app is eligible. */
  urlLink?: string;
}

export interface ErrorFrame {
  type: 'error';
  code: string;
  message?: string;
}

export type ServerFrame =
  | SessionFrame
  | { type: 'scanned' }
  | { type: 'success'; token: string; user: LoginUser }
  | { type: 'cancelled' }
  | { type: 'expired' }
  | ErrorFrame;

const str = (v: unknown): v is string => typeof v == 'string';

/**
 * Parses one server frame (already-decoded JSON or text). Unknown types (`pong`, future
 * additions) and malformed frames give null, so they are ignored rather than crash the element.
 */
export function parseFrame(input: unknown): ServerFrame | null {
  let f = input;
  if (str(f)) {
    try {
      f = JSON.parse(f);
    } catch {
      return null;
    }
  }
  if (!f || typeof f != 'object') return null;
  const o = f as Record<string, unknown>;
  switch (o.type) {
    // Known frames pass through as they are (extra fields are harmless); only the fields the
    // element relies on are checked.
    case 'session':
      return str(o.session) && str(o.secret) && str(o.qr) && str(o.expiresAt) ? (o as unknown as SessionFrame) : null;
    case 'success':
      return str(o.token) ? { type: 'success', token: o.token, user: (o.user ?? {}) as LoginUser } : null;
    case 'error':
      return { type: 'error', code: str(o.code) ? o.code : 'error', message: str(o.message) ? o.message : undefined };
    case 'scanned':
    case 'cancelled':
    case 'expired':
      return { type: o.type };
  }
  return null;
}

export const isTerminal = (s: State): boolean => s == 'success' || s == 'cancelled' || s == 'expired' || s == 'error';
