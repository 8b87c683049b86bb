import * as oidc from 'openid-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../server/main';
import { createTestDatabase } from '../helpers/db';
import { createTestApp } from '../helpers/login';
import { browse, CookieJar, createClient, discover, RP_REDIRECT, startAuthorize, type ClientCreds } from '../helpers/oidc';
import { startPrivateRedis } from '../helpers/private-redis';
import { testConfig } from '../helpers/server';

/** The OpenID Provider on a Redis of this file's own, which the test then stops. */
const redis = await startPrivateRedis({ persistence: false });
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase('oidcoutage');
  server = await startServer(testConfig(db.url, 'oidcoutage', { REDIS_URL: redis.url }));
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
  await redis.dispose();
});

it('with Redis gone, authorize sends the RP temporarily_unavailable and the hosted page answers 503, never a 500', async () => {
  const app = await createTestApp(server);
  const creds = (await createClient(server, app.keys.test.secret)).body as ClientCreds;
  const config = await discover(`${server.url}/apps/${app.app.id}`, creds);
  const params = { redirect_uri: RP_REDIRECT, scope: 'openid', state: 's', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' };
  const start = await startAuthorize(oidc.buildAuthorizationUrl(config, params));

  await redis.down();

  // RFC 6749 §4.1.2.1: the authorization endpoint reports it at the redirect URI.
  const authorize = await browse(new CookieJar(), oidc.buildAuthorizationUrl(config, params).href);
  const back = new URL(authorize.headers.get('location')!);
  expect(back.origin + back.pathname).toBe(RP_REDIRECT);
  expect(back.searchParams.get('error')).toBe('temporarily_unavailable');
  // The token endpoint answers it directly, with a 503.
  const token = await fetch(`${server.url}/apps/${app.app.id}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${creds.client_id}:${creds.client_secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: 'c', redirect_uri: RP_REDIRECT }).toString(),
  });
  expect(token.status).toBe(503);
  expect(await token.json()).toMatchObject({ error: 'temporarily_unavailable' });
  const page = await browse(start.jar, start.interactionUrl);
  expect(page.status).toBe(503);
  expect(((await page.json()) as { error: { code: string } }).error.code).toBe('unavailable');
});
