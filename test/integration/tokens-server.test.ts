import { createPublicKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppsStore } from '../../server/features/apps/store';
import { createTokensFeature } from '../../server/features/tokens/index';
import { newSessionId } from '../../server/lib/ids';
import type { RunningServer } from '../../server/main';
import { createTestEnv, type TestEnv } from '../helpers/server';

/**
 * Tokens and users as main.ts registers them, on two server instances sharing Postgres and
 * Redis: a token signed on one verifies (once) on the other, and its key is in both JWKS.
 */
let env: TestEnv;
let one: RunningServer;
let two: RunningServer;

beforeAll(async () => {
  env = await createTestEnv('tokensrv');
  one = await env.start();
  // Both instances answer for the same public URL, as they would behind a load balancer.
  two = await env.start({ PUBLIC_URL: one.url });
});

afterAll(async () => {
  await env?.dispose();
});

describe('tokens across instances', () => {
  it('signs on one instance, publishes and verifies once across both', async () => {
    const apps = createAppsStore(one.core);
    const { app, keys } = await apps.createApp({ tenantId: await apps.ensureDefaultTenant(), name: 'Two instances', allowedOrigins: [] });
    const signer = createTokensFeature(one.core, { apps }).signer;
    const token = await signer.sign(app, 'test', { sub: 'usr_abcdefghijklmnop', openid: 'o_1', jti: newSessionId() });
    const kid = jwt.decode(token, { complete: true })!.header.kid;

    for (const s of [one, two]) {
      const discovery = await (await fetch(`${s.url}/apps/${app.id}/.well-known/openid-configuration`)).json();
      expect(discovery.issuer).toBe(`${one.url}/apps/${app.id}`);
      const jwks = await (await fetch(`${s.url}/apps/${app.id}/.well-known/jwks.json`)).json();
      const jwk = jwks.keys.find((k: { kid: string }) => k.kid === kid);
      expect(jwk).toBeTruthy();
      expect(jwt.verify(token, createPublicKey({ key: jwk, format: 'jwk' }), { algorithms: ['ES256'], issuer: discovery.issuer, audience: app.id })).toMatchObject({ openid: 'o_1' });
    }

    const verify = (s: RunningServer) => fetch(`${s.url}/v1/tokens/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.test.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    const first = await verify(two);
    expect(first.status).toBe(200);
    expect((await first.json()).claims.jti).toBeTruthy();
    const second = await verify(one);
    expect(second.status).toBe(409);
    expect((await second.json()).error.code).toBe('already_used');

    const users = await fetch(`${two.url}/v1/users`, { headers: { authorization: `Bearer ${keys.test.secret}` } });
    expect(users.status).toBe(200);
    expect(await users.json()).toEqual({ data: [], nextCursor: null });
  });
});
