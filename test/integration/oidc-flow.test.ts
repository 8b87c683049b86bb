import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { createTestApp } from '../helpers/login';
import { createClient, discover, elementLogin, finishWithToken, RP_REDIRECT, startAuthorize, type ClientCreds } from '../helpers/oidc';
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
