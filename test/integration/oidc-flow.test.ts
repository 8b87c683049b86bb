import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { createAppsStore } from '../../server/features/apps/store';
import { createTokensFeature } from '../../server/features/tokens/index';
import { createTestApp } from '../helpers/login';
import { browse, CookieJar, createClient, direct, discover, elementLogin, finishWithToken, RP_REDIRECT, startAuthorize, type ClientCreds, type Fetch } from '../helpers/oidc';
import { createTestEnv, type TestEnv } from '../helpers/server';

let env: TestEnv;
let server: RunningServer;
let app: Awaited<ReturnType<typeof createTestApp>>;
let issuer: string;
let confidential: ClientCreds;

beforeAll(async () => {
  env = await createTestEnv('oidc-flow');
  server = await env.start({}, { oidc: { codeTtlSeconds: 2 } });
  app = await createTestApp(server);
  issuer = `${server.url}/apps/${app.app.id}`;
  const created = await createClient(server, app.keys.test.secret);
  expect(created.status).toBe(201);
  confidential = created.body as ClientCreds;
});

afterAll(async () => {
  await env?.dispose();
});

describe('the authorization code flow, driven as a browser would', () => {
  it('discovery → authorize → element login → code → tokens → userinfo', async () => {
    const config = await discover(issuer, confidential);
    const meta = config.serverMetadata();
    expect(meta).toMatchObject({
      issuer,
      authorization_endpoint: `${issuer}/oauth2/authorize`,
      token_endpoint: `${issuer}/oauth2/token`,
      userinfo_endpoint: `${issuer}/oauth2/userinfo`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: ['ES256'],
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: RP_REDIRECT, scope: 'openid profile', state, nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const start = await startAuthorize(url);
    const page = await fetch(start.interactionUrl, { headers: { cookie: start.jar.header() } });
    expect(page.status).toBe(200);
    const token = await elementLogin(server, app.keys.test, new URL(server.core.config.publicUrl).origin);
    const callback = await finishWithToken(start, token);
    expect(callback.searchParams.get('state')).toBe(state);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    const claims = tokens.claims()!;
    expect(claims.aud).toBe(confidential.client_id);
    expect(claims.sub).toMatch(/^usr_/);
    const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
    const verified = await jwtVerify(tokens.id_token!, jwks, { issuer, audience: confidential.client_id, algorithms: ['ES256'] });
    expect(verified.payload).toMatchObject({ nonce, amr: ['wechat_mp_scan'] });
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info.sub).toBe(claims.sub);
  });
});

describe('behind a proxy that terminates TLS', () => {
  const PUBLIC = 'https://login.example.test';

  it('serves https URLs, Secure cookies and https-issued tokens while the socket is plain http', async () => {
    const behind = await env.start({ PUBLIC_URL: PUBLIC, TRUST_PROXY: 'loopback' });
    const hosted = await createTestApp(behind, { name: 'Proxied shop' });
    const creds = (await createClient(behind, hosted.keys.test.secret)).body as ClientCreds;
    const proxiedIssuer = `${PUBLIC}/apps/${hosted.app.id}`;
    // The proxy: https://login.example.test/… reaches the server on loopback with forwarded headers.
    const via: Fetch = (url, init) => direct(url.replace(PUBLIC, behind.url), {
      ...init, headers: { ...init.headers, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'login.example.test', 'x-forwarded-for': '203.0.113.7' },
    });

    const config = await discover(proxiedIssuer, creds, undefined, via);
    expect(config.serverMetadata()).toMatchObject({
      issuer: proxiedIssuer,
      authorization_endpoint: `${proxiedIssuer}/oauth2/authorize`,
      token_endpoint: `${proxiedIssuer}/oauth2/token`,
      jwks_uri: `${proxiedIssuer}/.well-known/jwks.json`,
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: RP_REDIRECT, scope: 'openid', state: 'tls', nonce: 'n-tls',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const start = await startAuthorize(url, new CookieJar(), via);
    expect(start.interactionUrl).toMatch(new RegExp(`^${proxiedIssuer}/oauth2/interaction/`));
    const page = await browse(start.jar, start.interactionUrl, {}, via);
    expect(page.status).toBe(200);
    // Every cookie the provider and the page set is Secure, as PUBLIC_URL is https.
    expect(start.jar.seen.length).toBeGreaterThan(0);
    for (const c of start.jar.seen) expect(c.toLowerCase()).toContain('; secure');
    expect(page.headers.get('content-security-policy')).toContain('connect-src \'self\' wss://login.example.test');

    const token = await elementLogin(behind, hosted.keys.test, PUBLIC);
    const callback = await finishWithToken(start, token);
    expect(callback.searchParams.get('iss')).toBe(proxiedIssuer);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'tls', expectedNonce: 'n-tls' });
    expect(tokens.claims()).toMatchObject({ iss: proxiedIssuer, aud: creds.client_id });
  });
});

describe('across instances and signing keys', () => {
  it('a code issued by one instance is redeemed at another, and id_tokens follow a key rotation while the JWKS lists both keys', async () => {
    const before = (await (await fetch(`${issuer}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    const config = await discover(issuer, confidential);
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: RP_REDIRECT, scope: 'openid', state: 'multi', nonce: 'n-multi',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const start = await startAuthorize(url);
    const callback = await finishWithToken(start, await elementLogin(server, app.keys.test, new URL(server.core.config.publicUrl).origin));

    // Rotated elsewhere (as the console would on another instance); a fresh instance starts after it.
    const { kid } = await createTokensFeature(server.core, { apps: createAppsStore(server.core) }).signer.rotateSigningKey(app.app.id);
    const second = await env.start({ PUBLIC_URL: server.url });
    config[oidc.customFetch] = (u, init) => direct(u.replace(server.url, second.url), init);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'multi', expectedNonce: 'n-multi' });

    const after = (await (await fetch(`${second.url}/apps/${app.app.id}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    expect(after.keys.map((k) => k.kid)).toEqual([kid, ...before.keys.map((k) => k.kid)]);
    const { protectedHeader } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`)), { issuer, audience: confidential.client_id });
    expect(protectedHeader.kid).toBe(kid);
  });
});

describe('one browser, two apps', () => {
  it("keeps each app's flow apart: starting B's login does not break A's", async () => {
    const other = await createTestApp(server, { name: 'Other shop' });
    const otherClient = (await createClient(server, other.keys.test.secret)).body as ClientCreds;
    const origin = new URL(server.core.config.publicUrl).origin;
    const params = async () => ({ redirect_uri: RP_REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const jar = new CookieJar();
    const a = await startAuthorize(oidc.buildAuthorizationUrl(await discover(issuer, confidential), { ...(await params()), state: 'A' }), jar);
    const b = await startAuthorize(oidc.buildAuthorizationUrl(await discover(`${server.url}/apps/${other.app.id}`, otherClient), { ...(await params()), state: 'B' }), jar);
    const backA = await finishWithToken(a, await elementLogin(server, app.keys.test, origin));
    const backB = await finishWithToken(b, await elementLogin(server, other.keys.test, origin));
    expect([backA.searchParams.get('state'), Boolean(backA.searchParams.get('code'))]).toEqual(['A', true]);
    expect([backB.searchParams.get('state'), Boolean(backB.searchParams.get('code'))]).toEqual(['B', true]);
  });
});
