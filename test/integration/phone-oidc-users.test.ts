import { eq } from 'drizzle-orm';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apps as appsTable, endUserPhones } from '../../server/db/schema/index';
import type { RunningServer } from '../../server/main';
import { createTestApp, postJson, sandboxAppIdOf } from '../helpers/login';
import { createClient, discover, elementLogin, finishWithToken, RP_REDIRECT, startAuthorize, type ClientCreds } from '../helpers/oidc';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { ConsoleClient } from './console-client';

/** Issue 24 beyond the login token: the OIDC `phone` scope, the users API, export and erasure. */
let env: TestEnv;
let server: RunningServer;

beforeAll(async () => {
  env = await createTestEnv('phone-oidc');
  server = await env.start();
});
afterAll(async () => {
  await env?.dispose();
});

async function appAsking(setting: 'off' | 'required') {
  const app = await createTestApp(server);
  await server.core.db.update(appsTable).set({ phoneNumber: setting }).where(eq(appsTable.id, app.app.id));
  const client = await createClient(server, app.keys.test.secret);
  expect(client.status).toBe(201);
  return { app, client: client.body as ClientCreds, issuer: `${server.url}/apps/${app.app.id}` };
}

const phoneCode = (appId: string, purePhoneNumber: string) => async () =>
  String((await postJson(`${server.url}/sandbox/wechat/__sim/phone/number`, { appid: sandboxAppIdOf(appId), purePhoneNumber })).body.code);

/** The authorization code flow with `scope`, the element's login confirmed with the number: userinfo's claims. */
async function userinfo(site: Awaited<ReturnType<typeof appAsking>>, scope: string, openid: string, number: string) {
  const config = await discover(site.issuer, site.client);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT, scope, state, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const start = await startAuthorize(url);
  const token = await elementLogin(server, site.app.keys.test, new URL(server.core.config.publicUrl).origin, openid, phoneCode(site.app.app.id, number));
  const tokens = await oidc.authorizationCodeGrant(config, await finishWithToken(start, token), { pkceCodeVerifier: verifier, expectedState: state });
  const sub = tokens.claims()!.sub;
  return { sub, info: await oidc.fetchUserInfo(config, tokens.access_token, sub) };
}

const users = (secret: string) => async (method: string, path: string) => {
  const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${secret}` } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

describe('the phone number beyond the login token', () => {
  it('the provider offers the phone scope and userinfo carries the verified number for an app that asks', async () => {
    const site = await appAsking('required');
    const meta = (await discover(site.issuer, site.client)).serverMetadata();
    expect(meta.scopes_supported).toContain('phone');
    expect(meta.claims_supported).toEqual(expect.arrayContaining(['phone_number', 'phone_number_verified']));

    const { info } = await userinfo(site, 'openid phone', 'o_oidc_phone_1', '13600136000');
    expect(info).toMatchObject({ phone_number: '+8613600136000', phone_number_verified: true });
    // Without the scope, userinfo leaves it out.
    const { info: noScope } = await userinfo(site, 'openid profile', 'o_oidc_phone_1', '13600136000');
    expect(noScope).not.toHaveProperty('phone_number');
  });

  it('an app that does not ask never hands a number out, even with the scope', async () => {
    const site = await appAsking('off');
    const { info } = await userinfo(site, 'openid phone', 'o_oidc_phone_2', '13500135000');
    expect(info).not.toHaveProperty('phone_number');
  });

  it('GET /v1/users/:id and the export carry the number; erasure removes it', async () => {
    const site = await appAsking('required');
    const { sub } = await userinfo(site, 'openid', 'o_oidc_phone_3', '13400134000');
    const call = users(site.app.keys.test.secret);
    const user = await call('GET', `/v1/users/${sub}`);
    expect(user.body).toMatchObject({ id: sub, phoneNumber: '+8613400134000', phoneNumberVerifiedAt: expect.any(String) });
    const exported = await call('GET', `/v1/users/${sub}/export`);
    expect(exported.body.user).toMatchObject({ phoneNumber: '+8613400134000' });

    expect((await call('DELETE', `/v1/users/${sub}`)).status).toBe(200);
    expect(await server.core.db.select().from(endUserPhones).where(eq(endUserPhones.openid, 'o_oidc_phone_3'))).toEqual([]);
  });
});

describe('the setting in the console API', () => {
  it('an admin sets off, optional or required; anything else is refused in plain words', async () => {
    const c = new ConsoleClient(server.url);
    const tenant = (await c.signUp('phone@example.com')).tenants[0]!.id;
    const created = await c.post(`/tenants/${tenant}/apps`, { name: 'Phones', allowedOrigins: ['https://phones.example.com'] });
    expect(created.body.app.phoneNumber).toBe('off');
    const appId = created.body.app.id as string;
    const set = await c.patch(`/tenants/${tenant}/apps/${appId}`, { phoneNumber: 'required' });
    expect(set.status).toBe(200);
    expect(set.body.phoneNumber).toBe('required');
    expect((await c.call('GET', `/tenants/${tenant}/apps/${appId}`)).body.phoneNumber).toBe('required');
    const wrong = await c.patch(`/tenants/${tenant}/apps/${appId}`, { phoneNumber: 'always' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.message).toMatch(/phoneNumber/);
  }, 90_000);
});
