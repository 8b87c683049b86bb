/**
 * The OpenID Provider end to end: a relying party built with openid-client, Chromium as the
 * visitor's browser on the hosted authorize page, the sandbox phone page confirming, and the
 * id_token checked with jose against the JWKS. Then the same rules as the element: the login
 * is in Activity (login_events), fires login.succeeded to the app's endpoint and counts for usage.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq } from 'drizzle-orm';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginEvents, usageCounters } from '../../server/db/schema/index';
import { rollUpUsage } from '../../server/features/usage/index';
import type { RunningServer } from '../../server/main';
import { artifactPath, launchBrowser } from '../helpers/browser';
import { createTestApp, postJson } from '../helpers/login';
import { discover, type ClientCreds } from '../helpers/oidc';
import { createTestEnv, type TestEnv } from '../helpers/server';

let env: TestEnv;
let server: RunningServer;
let browser: Browser;
let app: Awaited<ReturnType<typeof createTestApp>>;
let issuer: string;
let creds: ClientCreds;
/** The relying party's own little site: its callback page, and a webhook receiver for the app. */
let rp: Server;
let redirectUri: string;
const hooks: Array<{ type: string; data: Record<string, unknown> }> = [];

beforeAll(async () => {
  rp = createServer((req, res) => {
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        hooks.push(JSON.parse(body));
        res.writeHead(204).end();
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>RP callback</title><p>back at the relying party');
  });
  await new Promise<void>((ok) => rp.listen(0, '127.0.0.1', ok));
  const rpPort = (rp.address() as AddressInfo).port;
  redirectUri = `http://localhost:${rpPort}/callback`;
  env = await createTestEnv('oidc-browser');
  server = await env.start();
  app = await createTestApp(server, { displayName: 'Acme Shop', logoUrl: await QRCode.toDataURL('logo') });
  issuer = `${server.url}/apps/${app.app.id}`;
  const auth = { authorization: `Bearer ${app.keys.test.secret}` };
  creds = (await postJson(`${server.url}/v1/oidc_clients`, { name: 'Acme RP', redirect_uris: [redirectUri] }, auth)).body as ClientCreds;
  expect((await postJson(`${server.url}/v1/webhook_endpoints`, { url: `http://127.0.0.1:${rpPort}/hooks` }, auth)).status).toBe(201);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await env?.dispose();
  rp?.close();
});

/** The visitor's browser on the hosted page, with the session id its element was given. */
async function openAuthorize(url: URL, locale: string): Promise<{ page: Page; session: Promise<string>; problems: string[] }> {
  const ctx = await browser.newContext({ locale, colorScheme: 'light' });
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  const session = new Promise<string>((ok) => {
    page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => {
      const frame = JSON.parse(String(payload)) as { type: string; session?: string };
      if (frame.type === 'session') ok(frame.session!);
    }));
  });
  await page.goto(url.href);
  return { page, session, problems };
}

async function confirmOnPhone(scene: string): Promise<void> {
  const ctx = await browser.newContext({ locale: 'en-US', viewport: { width: 390, height: 844 } });
  const phone = await ctx.newPage();
  await phone.goto(`${server.url}/sandbox/phone?scene=${encodeURIComponent(scene)}`);
  await phone.waitForSelector('body[data-state="review"]');
  expect(await phone.textContent('#site-name')).toBe('Acme Shop');
  // The phone shows where the login happens: our own hosted page, the app's authorize page.
  expect(await phone.textContent('#v-origin')).toBe(new URL(server.core.config.publicUrl).origin);
  await phone.click('#btn-confirm');
  await phone.waitForSelector('body[data-state="done"]');
  await ctx.close();
}

describe('the OpenID Provider in a real browser', () => {
  it('discovery → hosted page → phone confirms → code → tokens → userinfo, id_token verified against the JWKS', async () => {
    const config = await discover(issuer, creds);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri, scope: 'openid profile', state, nonce, ui_locales: 'en',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });

    // Accept-Language says Chinese, ui_locales says English: ui_locales wins.
    const { page, session, problems } = await openAuthorize(url, 'zh-CN');
    expect(page.url()).toMatch(new RegExp(`^${issuer}/oauth2/interaction/`));
    expect(await page.textContent('h1')).toBe('Log in to Acme Shop');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.getAttribute('img.logo', 'src')).toMatch(/^data:image\/png/);
    await page.waitForFunction(() => (document.querySelector('wechat-scan-login') as { state?: string } | null)?.state === 'ready');
    await page.screenshot({ path: artifactPath('oidc-hosted-page.png'), fullPage: true });

    await confirmOnPhone(await session);
    await page.waitForURL((u) => u.href.startsWith(redirectUri));
    const callback = new URL(page.url());
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('iss')).toBe(issuer);
    expect(problems).toEqual([]);

    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    expect(tokens).toMatchObject({ token_type: 'bearer', expires_in: expect.any(Number), access_token: expect.any(String) });
    const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, jwks, { issuer, audience: creds.client_id, algorithms: ['ES256'] });
    expect(protectedHeader.kid).toMatch(/^sig_/);
    expect(payload).toMatchObject({ nonce, amr: ['wechat_mp_scan'], sub: expect.stringMatching(/^usr_/) });
    const info = await oidc.fetchUserInfo(config, tokens.access_token, payload.sub!);
    expect(info).toMatchObject({ sub: payload.sub, openid: expect.any(String) });

    // The element's own tokens keep aud = appId: the same user, the same sub.
    const events = await server.core.db.select().from(loginEvents).where(and(eq(loginEvents.appId, app.app.id), eq(loginEvents.userId, payload.sub!)));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ status: 'succeeded', mode: 'test', origin: new URL(server.core.config.publicUrl).origin });
    await expect.poll(() => hooks.find((h) => h.type === 'login.succeeded')?.data.userId, { timeout: 15_000 }).toBe(payload.sub);
    await rollUpUsage(server.core.db);
    const [usage] = await server.core.db.select().from(usageCounters).where(and(eq(usageCounters.appId, app.app.id), eq(usageCounters.mode, 'test')));
    expect(usage?.logins).toBe(1);
  });

  it('speaks Chinese from Accept-Language, and Cancel sends the visitor back with access_denied', async () => {
    const config = await discover(issuer, creds);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri, scope: 'openid', state: 'zh1',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    });
    const { page, problems } = await openAuthorize(url, 'zh-CN');
    expect(await page.textContent('h1')).toBe('登录 Acme Shop');
    expect(await page.getAttribute('wechat-scan-login', 'lang')).toBe('zh-CN');
    await page.click('button.link');
    await page.waitForURL((u) => u.href.startsWith(redirectUri));
    const back = new URL(page.url());
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe('zh1');
    expect(problems).toEqual([]);
  });
});
