import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleSessions } from '../../server/db/schema/index';
import { sha256 } from '../../server/lib/crypto';
import type { RunningServer } from '../../server/main';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { ConsoleClient } from './console-client';

/** A console served behind https, as in production: the session cookie must be Secure. */
let env: TestEnv;
let s: RunningServer;

beforeAll(async () => {
  env = await createTestEnv('secconsole');
  s = await env.start({ PUBLIC_URL: 'https://login.example.test' });
});
afterAll(async () => {
  await env?.dispose();
});

function tokenOf(c: ConsoleClient): string {
  return c.cookie!.slice(c.cookie!.indexOf('=') + 1);
}

describe('console session security', () => {
  it('sends HSTS on every answer when served over https', async () => {
    for (const path of ['/healthz', '/console/api/auth/me', '/v1/nothing-here', '/console/']) {
      const res = await fetch(`${s.url}${path}`);
      expect(res.headers.get('strict-transport-security'), path).toBe('max-age=31536000; includeSubDomains');
    }
  });

  it('sets a __Host- cookie (Secure, httpOnly, Lax, Path=/, no Domain) when served over https', async () => {
    const c = new ConsoleClient(s.url);
    expect((await c.call('POST', '/auth/signup', { email: 'secure@example.com', password: 'correct horse battery' })).status).toBe(202);
    const res = await c.call('POST', '/auth/signin', { email: 'secure@example.com', password: 'correct horse battery' });
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie().find((x) => x.startsWith('__Host-wsl_console='))!;
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/;\s*Secure/i);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\/(;|$)/);
    expect(cookie).not.toMatch(/Domain=/i);
    // The session works with that cookie, and the plain name is not accepted in its place.
    expect((await c.get('/auth/me')).status).toBe(200);
    const plain = new ConsoleClient(s.url);
    plain.cookie = `wsl_console=${tokenOf(c)}`;
    expect((await plain.get('/auth/me')).status).toBe(401);
    // The cookie holds a token; the database only its hash.
    const rows = await s.core.db.select().from(consoleSessions).where(eq(consoleSessions.tokenHash, sha256(tokenOf(c))));
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(tokenOf(c));
    // The response never carries the password or its hash.
    expect(JSON.stringify(res.body)).not.toMatch(/scrypt|correct horse/);
  });

  it('signing out kills the session on the server: the old cookie replayed is refused', async () => {
    const c = new ConsoleClient(s.url);
    await c.signUp('replay@example.com');
    const stolen = c.cookie!;
    const csrf = c.csrf!;
    expect((await c.post('/auth/signout')).status).toBe(204);
    const replay = new ConsoleClient(s.url);
    replay.cookie = stolen;
    replay.csrf = csrf;
    expect((await replay.get('/auth/me')).status).toBe(401);
    expect((await replay.post('/tenants', { name: 'after signout' })).status).toBe(401);
  });

  it('refuses an expired session, and a cookie that was never issued', async () => {
    const c = new ConsoleClient(s.url);
    await c.signUp('expired@example.com');
    await s.core.db.update(consoleSessions).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(consoleSessions.tokenHash, sha256(tokenOf(c))));
    expect((await c.get('/auth/me')).status).toBe(401);
    const forged = new ConsoleClient(s.url);
    forged.cookie = `__Host-wsl_console=${'A'.repeat(43)}`;
    expect((await forged.get('/auth/me')).status).toBe(401);
  });

  it('keeps each sign-in its own session: a new sign-in gets a new token and a new CSRF token', async () => {
    const c = new ConsoleClient(s.url);
    await c.signUp('rotate@example.com');
    const first = { cookie: c.cookie, csrf: c.csrf };
    await c.post('/auth/signin', { email: 'rotate@example.com', password: 'correct horse battery' });
    expect(c.cookie).not.toBe(first.cookie);
    expect(c.csrf).not.toBe(first.csrf);
    // The old CSRF token does not work with the new session.
    expect((await c.call('POST', '/tenants', { name: 'x' }, { csrf: first.csrf! })).status).toBe(403);
  });
});
