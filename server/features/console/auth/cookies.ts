import type { Request, Response } from 'express';
import { SESSION_TTL_MS } from './session-store';

/**
 * Over https the session cookie carries the `__Host-` prefix: browsers then only accept it
 * with Secure, Path=/ and no Domain, so neither a subdomain nor a plain-http page can set or
 * shadow it. Plain http (local development, tests) can't use the prefix and keeps the old
 * name, scoped to /console.
 */
export function sessionCookie(secure: boolean): { name: string; path: string } {
  return secure ? { name: '__Host-wsl_console', path: '/' } : { name: 'wsl_console', path: '/console' };
}

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{1,128}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

export function readSessionToken(req: Request, secure: boolean): string | undefined {
  return readCookie(req, sessionCookie(secure).name);
}

/** httpOnly so page scripts never see it; Lax so a link from elsewhere still lands signed in. */
export function setSessionCookie(res: Response, token: string, secure: boolean): void {
  const { name, path } = sessionCookie(secure);
  res.cookie(name, token, { httpOnly: true, sameSite: 'lax', secure, path, maxAge: SESSION_TTL_MS });
}

export function clearSessionCookie(res: Response, secure: boolean): void {
  const { name, path } = sessionCookie(secure);
  res.clearCookie(name, { httpOnly: true, sameSite: 'lax', secure, path });
}
