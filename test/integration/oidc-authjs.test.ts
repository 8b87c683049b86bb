import { Auth, type AuthConfig } from '@auth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { createTestApp } from '../helpers/login';
import { CookieJar, createClient, elementLogin, finishWithToken, startAuthorize, type ClientCreds } from '../helpers/oidc';
import { createTestEnv, type TestEnv } from '../helpers/server';

/**
 * The README's Auth.js recipe, run: @auth/core (what NextAuth v5 and every Auth.js framework
 * build on) with our app as a generic OIDC provider, from sign-in to a session that carries
 * the usr_… id. Auth.js is driven with Request objects, as a framework's route handler would.
 */
const RP = 'http://localhost:5999';
let env: TestEnv;
let server: RunningServer;
let app: Awaited<ReturnType<typeof createTestApp>>;
let creds: ClientCreds;

beforeAll(async () => {
  env = await createTestEnv('oidc-authjs');
  server = await env.start();
  app = await createTestApp(server, { displayName: 'Auth.js shop' });
  creds = (await createClient(server, app.keys.test.secret, { redirect_uris: [`${RP}/auth/callback/wechat`] })).body as ClientCreds;
});
afterAll(async () => {
  await env?.dispose();
});

function authConfig(): AuthConfig {
  return {
    basePath: '/auth',
    secret: 'a-test-only-secret-of-at-least-32-characters',
    trustHost: true,
    providers: [{
      // The recipe (README, "OpenID Connect"): a generic OIDC provider.
      id: 'wechat',
      name: 'WeChat',
      type: 'oidc',
      issuer: `${server.url}/apps/${app.app.id}`,
      clientId: creds.client_id,
      clientSecret: creds.client_secret,
      authorization: { params: { scope: 'openid profile' } },
      checks: ['pkce', 'state', 'nonce'],
      // name and picture come from userinfo (the id_token carries sub and amr).
      idToken: false,
      // The account's providerAccountId becomes the usr_… id, stable per app.
      profile: (p) => ({ id: String(p.sub), name: (p.name as string | undefined) ?? null, image: (p.picture as string | undefined) ?? null }),
    }],
    callbacks: {
      // Auth.js keeps the provider's id as the account's providerAccountId (its own user id is random).
      jwt({ token, account, profile }) {
        if (account) token.wechatUserId = account.providerAccountId;
        if (profile) token.openid = profile.openid;
        return token;
      },
      session({ session, token }) {
        return { ...session, user: { ...session.user, id: String(token.wechatUserId), openid: token.openid } };
      },
    },
  };
}

async function rp(jar: CookieJar, path: string, init: { method?: string; body?: URLSearchParams } = {}): Promise<Response> {
  const res = await Auth(new Request(`${RP}${path}`, {
    method: init.method ?? 'GET',
    headers: { cookie: jar.header(), ...(init.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    body: init.body,
  }), authConfig());
  jar.take(res);
  return res;
}

describe('Auth.js (@auth/core) with the app as a generic OIDC provider', () => {
  it('signs in through the hosted page and ends with a session for the usr_… id', async () => {
    const rpJar = new CookieJar();
    const { csrfToken } = (await (await rp(rpJar, '/auth/csrf')).json()) as { csrfToken: string };
    const signin = await rp(rpJar, '/auth/signin/wechat', { method: 'POST', body: new URLSearchParams({ csrfToken, callbackUrl: `${RP}/dashboard` }) });
    expect(signin.status).toBe(302);
    const authorize = new URL(signin.headers.get('location')!);
    expect(authorize.href.startsWith(`${server.url}/apps/${app.app.id}/oauth2/authorize?`)).toBe(true);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');

    const start = await startAuthorize(authorize);
    const callback = await finishWithToken(start, await elementLogin(server, app.keys.test, new URL(server.core.config.publicUrl).origin, 'o_authjs_visitor'));
    expect(callback.href.startsWith(`${RP}/auth/callback/wechat?`)).toBe(true);

    const done = await rp(rpJar, `${callback.pathname}${callback.search}`);
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe(`${RP}/dashboard`);
    const session = (await (await rp(rpJar, '/auth/session')).json()) as { user: { id: string; openid: string } };
    expect(session.user.id).toMatch(/^usr_/);
    expect(session.user.openid).toBe('o_authjs_visitor');
  });
});
