import * as oidc from 'openid-client';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidcClients } from '../../server/db/schema/index';
import type { RunningServer } from '../../server/main';
import { sha256 } from '../../server/lib/crypto';
import WebSocket from 'ws';
import { createTestApp, TestSocket } from '../helpers/login';
import {
  browse, CookieJar, createClient, discover, elementLogin, finishWithToken, RP_REDIRECT, startAuthorize, type ClientCreds,
} from '../helpers/oidc';
import { createTestEnv, type TestEnv } from '../helpers/server';

/**
 * Every way a relying party (or someone posing as one) can get the flow wrong, and the OAuth
 * error it gets for it (RFC 6749 §4.1.2.1 and §5.2, OIDC Core §3.1.2.6).
 */
let env: TestEnv;
let server: RunningServer;
/** A second instance on the same stores whose codes live 1 s, to see one expire. */
let quick: RunningServer;
type TestApp = Awaited<ReturnType<typeof createTestApp>>;
let appA: TestApp;
let appB: TestApp;
let liveApp: TestApp;
let confidential: ClientCreds;
let publicClient: ClientCreds;
let origin: string;

beforeAll(async () => {
  env = await createTestEnv('oidc-refuse');
  server = await env.start();
  quick = await env.start({}, { oidc: { codeTtlSeconds: 1 } });
  origin = new URL(server.core.config.publicUrl).origin;
  appA = await createTestApp(server, { name: 'Shop A' });
  appB = await createTestApp(server, { name: 'Shop B' });
  liveApp = await createTestApp(server, { name: 'Live shop', wechatAppId: 'wx00112233445566aa', wechatSecret: 'ab'.repeat(16) });
  confidential = (await createClient(server, appA.keys.test.secret)).body as ClientCreds;
  publicClient = (await createClient(server, appA.keys.test.secret, { name: 'SPA', token_endpoint_auth_method: 'none' })).body as ClientCreds;
});

afterAll(async () => {
  await env?.dispose();
});

const issuerOf = (app: TestApp, s: RunningServer = server) => `${s.url}/apps/${app.app.id}`;

interface Started {
  config: oidc.Configuration;
  verifier: string;
  state: string;
  nonce: string;
  url: URL;
}

async function prepare(app: TestApp, creds: ClientCreds, extra: Record<string, string> = {}, s: RunningServer = server): Promise<Started> {
  const config = await discover(issuerOf(app, s), creds);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT, scope: 'openid profile', state, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  });
  return { config, verifier, state, nonce, url };
}

/** authorize → a sandbox login on the element → the redirect back to the RP. */
async function authorizeAndLogin(app: TestApp, creds: ClientCreds, s: RunningServer = server): Promise<Started & { callback: URL }> {
  const started = await prepare(app, creds, {}, s);
  const start = await startAuthorize(started.url);
  const token = await elementLogin(s, app.keys.test, new URL(s.core.config.publicUrl).origin);
  return { ...started, callback: await finishWithToken(start, token) };
}

function redeem(st: Started & { callback: URL }, verifier = st.verifier) {
  return oidc.authorizationCodeGrant(st.config, st.callback, { pkceCodeVerifier: verifier, expectedState: st.state, expectedNonce: st.nonce });
}

async function oauthError(p: Promise<unknown>): Promise<{ error: string; status?: number }> {
  try {
    await p;
  } catch (err) {
    // openid-client: ResponseBodyError has `error`; a WWW-Authenticate refusal has it in the challenge.
    const e = err as { error?: string; status?: number; cause?: Array<{ parameters?: { error?: string } }> };
    const challenge = Array.isArray(e.cause) ? e.cause[0]?.parameters?.error : undefined;
    return { error: String(e.error ?? challenge ?? (err as Error).message), status: e.status };
  }
  throw new Error('expected a refusal');
}

/** The raw token request, to send exactly what a broken or hostile client would. */
async function tokenRequest(app: TestApp, body: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${issuerOf(app)}/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body).toString(),
  });
  return { status: res.status, body: (await res.json()) as { error: string; error_description?: string } };
}

const basic = (c: ClientCreds, secret = c.client_secret!) => ({ authorization: `Basic ${Buffer.from(`${c.client_id}:${secret}`).toString('base64')}` });

describe('PKCE', () => {
  it('a public client without PKCE is sent back with invalid_request', async () => {
    const config = await discover(issuerOf(appA), publicClient, oidc.None());
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: RP_REDIRECT, scope: 'openid', state: 's1' });
    const res = await browse(new CookieJar(), url.href);
    expect(res.status).toBe(303);
    const back = new URL(res.headers.get('location')!);
    expect(back.origin + back.pathname).toBe(RP_REDIRECT);
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('error_description')).toMatch(/PKCE/);
    expect(back.searchParams.get('state')).toBe('s1');
  });

  it('a public client with PKCE logs in without a secret', async () => {
    const config = await discover(issuerOf(appA), publicClient, oidc.None());
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: RP_REDIRECT, scope: 'openid', state: 's2', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const start = await startAuthorize(url);
    const callback = await finishWithToken(start, await elementLogin(server, appA.keys.test, origin));
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 's2' });
    expect(tokens.claims()!.aud).toBe(publicClient.client_id);
  });

  it('a wrong code_verifier is invalid_grant', async () => {
    const st = await authorizeAndLogin(appA, confidential);
    expect(await oauthError(redeem(st, oidc.randomPKCECodeVerifier()))).toMatchObject({ error: 'invalid_grant' });
  });

  it('a code_challenge_method other than S256 is refused', async () => {
    const st = await prepare(appA, confidential, { code_challenge_method: 'plain' });
    const res = await browse(new CookieJar(), st.url.href);
    const back = new URL(res.headers.get('location')!);
    expect(back.searchParams.get('error')).toBe('invalid_request');
  });
});

describe('redirect URIs match exactly', () => {
  it('an unregistered redirect_uri is never redirected to: the provider answers an error page', async () => {
    for (const uri of [`${RP_REDIRECT}/`, `${RP_REDIRECT}?x=1`, 'http://localhost:5998/callback', 'https://evil.example/callback']) {
      const st = await prepare(appA, confidential, { redirect_uri: uri });
      const res = await browse(new CookieJar(), st.url.href);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('invalid_redirect_uri');
    }
  });

  it('the token request must repeat the same redirect_uri (invalid_grant)', async () => {
    const st = await authorizeAndLogin(appA, confidential);
    const code = st.callback.searchParams.get('code')!;
    const r = await tokenRequest(appA, { grant_type: 'authorization_code', code, redirect_uri: 'http://localhost:5999/other', code_verifier: st.verifier }, basic(confidential));
    expect(r).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('registration refuses URIs a mode may not use', async () => {
    const bad = [
      [appA.keys.test.secret, 'http://shop.example.com/cb'],
      [appA.keys.test.secret, 'https://shop.example.com/cb#frag'],
      [appA.keys.test.secret, 'not a url'],
      [liveApp.keys.live!.secret, 'http://localhost:3000/cb'],
      [liveApp.keys.live!.secret, 'http://127.0.0.1:3000/cb'],
    ] as const;
    for (const [key, uri] of bad) {
      const r = await createClient(server, key, { redirect_uris: [uri] });
      expect(r.status, uri).toBe(400);
      expect(r.body.error.code).toBe('bad_request');
    }
    expect((await createClient(server, liveApp.keys.live!.secret, { redirect_uris: ['https://shop.example.com/cb'] })).status).toBe(201);
    expect((await createClient(server, appA.keys.test.secret, { redirect_uris: ['http://127.0.0.1:8080/cb'] })).status).toBe(201);
  });
});

describe('codes', () => {
  it('work once: a second redemption is invalid_grant and revokes what the first one issued', async () => {
    const st = await authorizeAndLogin(appA, confidential);
    const first = await redeem(st);
    expect(await oauthError(redeem(st))).toMatchObject({ error: 'invalid_grant' });
    const info = await oauthError(oidc.fetchUserInfo(st.config, first.access_token, first.claims()!.sub));
    expect(info.error).toBe('invalid_token');
  });

  it('expire: after their lifetime the code is invalid_grant', async () => {
    const st = await authorizeAndLogin(appA, confidential, quick);
    const code = st.callback.searchParams.get('code')!;
    const key = quick.core.key('oidc', `{${appA.app.id}}`, 'AuthorizationCode', code);
    // Poll for the record's expiry (a 1 s lifetime) rather than sleeping a fixed time.
    while ((await quick.core.redis.client.exists(key)) === 1) await new Promise((ok) => setTimeout(ok, 100));
    expect(await oauthError(redeem(st))).toMatchObject({ error: 'invalid_grant' });
  });
});

describe('client authentication', () => {
  it('a wrong client secret is invalid_client (401)', async () => {
    const st = await authorizeAndLogin(appA, confidential);
    const code = st.callback.searchParams.get('code')!;
    const body = { grant_type: 'authorization_code', code, redirect_uri: RP_REDIRECT, code_verifier: st.verifier };
    expect(await tokenRequest(appA, body, basic(confidential, `${confidential.client_secret}x`))).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    // The stored hash itself is not a secret that works.
    const [row] = await server.core.db.select().from(oidcClients).where(eq(oidcClients.id, confidential.client_id));
    expect(row!.secretHash).toBe(sha256(confidential.client_secret!));
    expect(await tokenRequest(appA, body, basic(confidential, row!.secretHash!))).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    // oidc-provider takes the secret in the body too (client_secret_post) for a basic client.
    expect(await tokenRequest(appA, { ...body, client_id: confidential.client_id, client_secret: 'wrong' })).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(await tokenRequest(appA, { ...body, client_id: confidential.client_id, client_secret: confidential.client_secret! })).toMatchObject({ status: 200 });
  });

  it("a client of app A is unknown at app B's issuer", async () => {
    const st = await prepare(appA, confidential);
    const atB = new URL(st.url.href.replace(appA.app.id, appB.app.id));
    const res = await browse(new CookieJar(), atB.href);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('invalid_client');
    const done = await authorizeAndLogin(appA, confidential);
    const r = await tokenRequest(appB, { grant_type: 'authorization_code', code: done.callback.searchParams.get('code')!, redirect_uri: RP_REDIRECT, code_verifier: done.verifier }, basic(confidential));
    expect(r).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });
});

describe('the element token posted to the interaction', () => {
  it('must be of the client\'s mode: a test-mode login never completes a live client\'s flow (access_denied)', async () => {
    const live = (await createClient(server, liveApp.keys.live!.secret, { redirect_uris: [RP_REDIRECT.replace('http://localhost:5999', 'https://rp.example.com')] })).body as ClientCreds;
    const config = await discover(issuerOf(liveApp), live);
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: 'https://rp.example.com/callback', scope: 'openid', state: 'live1' });
    const start = await startAuthorize(url);
    const page = await browse(start.jar, start.interactionUrl);
    const html = await page.text();
    expect(html).toContain(`site-key="${liveApp.keys.live!.publishable}"`);
    const testToken = await elementLogin(server, liveApp.keys.test, origin);
    const back = await finishWithToken(start, testToken);
    expect(back.origin + back.pathname).toBe('https://rp.example.com/callback');
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe('live1');
    expect(back.searchParams.get('code')).toBeNull();
  });

  it("must be this app's: another app's token is access_denied", async () => {
    const st = await prepare(appA, confidential);
    const start = await startAuthorize(st.url);
    const back = await finishWithToken(start, await elementLogin(server, appB.keys.test, origin));
    expect(back.searchParams.get('error')).toBe('access_denied');
  });

  it('works once: the same token cannot finish a second authorization', async () => {
    const token = await elementLogin(server, appA.keys.test, origin);
    const first = await finishWithToken(await startAuthorize((await prepare(appA, confidential)).url), token);
    expect(first.searchParams.get('code')).toBeTruthy();
    const second = await finishWithToken(await startAuthorize((await prepare(appA, confidential)).url), token);
    expect(second.searchParams.get('error')).toBe('access_denied');
  });

  it('needs the interaction cookie: a post without it changes nothing', async () => {
    const st = await prepare(appA, confidential);
    const start = await startAuthorize(st.url);
    const res = await fetch(`${start.interactionUrl}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' });
    expect(res.status).toBe(400);
  });
});

describe("the hosted page's socket", () => {
  async function socket(key: string, headers: Record<string, string>): Promise<TestSocket> {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/v1/ws?key=${key}`, { headers });
    const sock = new TestSocket(ws);
    await new Promise<void>((ok, fail) => {
      ws.once('open', () => ok());
      ws.once('error', fail);
    });
    return sock;
  }

  it("admits a live key on our own origin only with the pass the app's interaction page set", async () => {
    const live = (await createClient(server, liveApp.keys.live!.secret, { redirect_uris: ['https://rp.example.com/callback'] })).body as ClientCreds;
    const config = await discover(issuerOf(liveApp), live);
    const start = await startAuthorize(oidc.buildAuthorizationUrl(config, { redirect_uri: 'https://rp.example.com/callback', scope: 'openid', state: 'p' }));
    await browse(start.jar, start.interactionUrl);
    const pass = start.jar.seen.find((c) => c.startsWith(`wsl_oidc_${liveApp.app.id}=`))!;
    expect(pass).toMatch(/Path=\/v1; Max-Age=600; HttpOnly; SameSite=Strict$/);
    const cookie = pass.split(';')[0]!;
    const key = liveApp.keys.live!.publishable;

    expect(await (await socket(key, { origin, cookie })).next()).toMatchObject({ type: 'session' });
    // Without the pass, with it on another origin, or tampered with: the app's own rules apply.
    for (const headers of [{ origin }, { origin: 'https://evil.example', cookie }, { origin, cookie: cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) }] as Array<Record<string, string>>) {
      expect(await (await socket(key, headers)).next()).toMatchObject({ type: 'error', code: 'origin_not_allowed' });
    }
    // The pass is for this app and mode only: another live app's key is still refused.
    const other = await createTestApp(server, { name: 'Other live', wechatAppId: 'wx00112233445566bb', wechatSecret: 'cd'.repeat(16) });
    const renamed = cookie.replace(`wsl_oidc_${liveApp.app.id}`, `wsl_oidc_${other.app.id}`);
    expect(await (await socket(other.keys.live!.publishable, { origin, cookie: renamed })).next()).toMatchObject({ type: 'error', code: 'origin_not_allowed' });
  });
});

describe('/v1/oidc_clients', () => {
  it('lists and deletes only the key\'s own app and mode; secrets never come back', async () => {
    const auth = (k: string) => ({ authorization: `Bearer ${k}` });
    const list = await (await fetch(`${server.url}/v1/oidc_clients`, { headers: auth(appA.keys.test.secret) })).json();
    const ids = list.data.map((c: { client_id: string }) => c.client_id);
    expect(ids).toEqual(expect.arrayContaining([confidential.client_id, publicClient.client_id]));
    expect(JSON.stringify(list)).not.toContain(confidential.client_secret);
    expect(list.data.find((c: { client_id: string }) => c.client_id === confidential.client_id)).toMatchObject({
      name: 'Relying party', mode: 'test', redirect_uris: [RP_REDIRECT], token_endpoint_auth_method: 'client_secret_basic', client_secret_prefix: expect.stringMatching(/^ocs_test_/),
    });
    // App B's key, and app A's live key, see nothing of app A's test clients.
    for (const other of [appB.keys.test.secret]) {
      expect((await (await fetch(`${server.url}/v1/oidc_clients`, { headers: auth(other) })).json()).data).toEqual([]);
      expect((await fetch(`${server.url}/v1/oidc_clients/${confidential.client_id}`, { headers: auth(other) })).status).toBe(404);
      expect((await fetch(`${server.url}/v1/oidc_clients/${confidential.client_id}`, { method: 'DELETE', headers: auth(other) })).status).toBe(404);
    }
    const gone = (await createClient(server, appA.keys.test.secret, { name: 'Short-lived' })).body as ClientCreds;
    const del = await fetch(`${server.url}/v1/oidc_clients/${gone.client_id}`, { method: 'DELETE', headers: auth(appA.keys.test.secret) });
    expect(await del.json()).toEqual({ client_id: gone.client_id, deleted: true });
    // A deleted client can no longer start a flow.
    const res = await browse(new CookieJar(), (await prepare(appA, confidential)).url.href.replace(confidential.client_id, gone.client_id));
    expect(await res.text()).toContain('invalid_client');
    expect((await fetch(`${server.url}/v1/oidc_clients`, { headers: {} })).status).toBe(401);
  });
});
