import type { ConfirmedUser } from './store';

/** Frames sent to the browser (DESIGN.md §4); the polling API answers the same objects. */
export type Frame =
  | { type: 'session'; session: string; secret: string; expiresAt: string; qr: string; match: string; urlLink?: string }
  | { type: 'scanned' }
  | { type: 'success'; token: string; user: ConfirmedUser }
  | { type: 'cancelled' }
  | { type: 'expired' }
  | { type: 'error'; code: string; message: string };

/** A session id is also the WeChat `scene`: 22 base64url characters. */
export const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;

export function errorFrame(code: string, message: string): Frame {
  return { type: 'error', code, message };
}
