import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../server/app';
import { createAppsStore } from '../../server/features/apps/store';
import { createTokensFeature } from '../../server/features/tokens/index';
import type { RunningServer } from '../../server/main';
import { clearJwksCache, TokenVerificationError, verifyToken, verifyWebhook, WebhookVerificationError } from '../../sdk/src/index';
import { api, createTenantApp, createWebhookEnv, loginSucceeded, outboxOf, Receiver, waitFor, type WebhookEnv } from './webhooks-support';

let env: WebhookEnv;
let server: RunningServer;
let jwksHttp: Server;
let jwksBase: string;
let tokens: ReturnType<typeof createTokensFeature>;

beforeAll(async () => {
  env = await createWebhookEnv('whsdk');
  server = await env.start();
  // The tokens feature composed by hand, on a port of its own, to serve the JWKS.
  tokens = createTokensFeature(server.core, { apps: createAppsStore(server.core) });
  jwksHttp = createServer(createHttpApp(server.core, [tokens.feature]));
  await new Promise<void>((ok) => jwksHttp.listen(0, '127.0.0.1', ok));
  jwksBase = `http://127.0.0.1:${(jwksHttp.address() as AddressInfo).port}`;
});

afterAll(async () => {
  jwksHttp?.close();
  await env?.dispose();
});

describe('sdk verifyWebhook', () => {
  it('accepts what the service sends and what the standardwebhooks library signs', async () => {
    const t = await createTenantApp(server);
    const r = await new Receiver().listen();
    try {
      const created = await api(server, t.test)('POST', '/v1/webhook_endpoints', { url: r.url });
      const outbox = outboxOf(server);
      const id = await server.core.db.transaction((tx) => outbox.record(tx, {
        tenantId: t.tenantId, appId: t.app.id, mode: 'test', type: 'login.succeeded', data: loginSucceeded('usr_s', 'sess_s'),
      }));
      await outbox.dispatch([id]);
      await waitFor('delivery', () => r.received.length === 1);
      const got = r.received[0]!;
      const event = await verifyWebhook(got.body, got.headers, created.body.secret);
      expect(event).toMatchObject({ type: 'login.succeeded', data: { userId: 'usr_s' } });
      // Fetch-style Headers work too, and a list of secrets.
      const h = new Headers(Object.entries(got.headers).map(([k, v]) => [k, String(v)]));
      expect((await verifyWebhook(got.body, h, ['whsec_' + Buffer.alloc(32, 9).toString('base64'), created.body.secret])).type).toBe('login.succeeded');
    } finally {
      await r.close();
    }

    const secret = 'whsec_' + Buffer.alloc(24, 3).toString('base64');
    const body = '{"type":"user.created","timestamp":"2026-01-01T00:00:00.000Z","data":{"userId":"usr_1","openid":"o","time":"x"}}';
    const now = new Date();
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign('msg_1', now, body) };
    expect((await verifyWebhook(body, headers, secret)).type).toBe('user.created');

    const reason = (p: Promise<unknown>) => p.then(() => 'accepted', (err) => (err instanceof WebhookVerificationError ? err.reason : 'other'));
    expect(await reason(verifyWebhook(body + ' ', headers, secret))).toBe('bad_signature');
    expect(await reason(verifyWebhook(body, headers, 'whsec_' + Buffer.alloc(24, 4).toString('base64')))).toBe('bad_signature');
    expect(await reason(verifyWebhook(body, { ...headers, 'webhook-id': 'msg_2' }, secret))).toBe('bad_signature');
    expect(await reason(verifyWebhook(body, { 'webhook-id': 'msg_1' }, secret))).toBe('missing_headers');
    expect(await reason(verifyWebhook(body, headers, secret, { now: new Date(now.getTime() + 600_000) }))).toBe('timestamp_out_of_range');
    expect(await reason(verifyWebhook(body, headers, 'not a secret'))).toBe('bad_secret');
  });
});

describe('sdk verifyToken', () => {
  it('verifies tokens with the published JWKS, refetching after a key rotation', async () => {
    clearJwksCache();
    const t = await createTenantApp(server);
    const issuer = tokens.signer.issuer(t.app.id);
    const jwksUrl = `${jwksBase}/apps/${t.app.id}/.well-known/jwks.json`;
    const claims = { sub: 'usr_1', openid: 'o_1', jti: 'sess_1' };
    const token = await tokens.signer.sign(t.app, 'test', claims);
    const verified = await verifyToken(token, { appId: t.app.id, issuer, jwksUrl, mode: 'test' });
    expect(verified).toMatchObject({ sub: 'usr_1', openid: 'o_1', aud: t.app.id, iss: issuer, mode: 'test', jti: 'sess_1' });

    const reason = async (p: Promise<unknown>) => p.then(() => 'accepted', (err) => (err instanceof TokenVerificationError ? err.reason : String(err)));
    expect(await reason(verifyToken(token, { appId: 'app_other', issuer, jwksUrl, mode: 'test' }))).toBe('wrong_audience');
    expect(await reason(verifyToken(token, { appId: t.app.id, issuer: 'https://elsewhere.example/apps/x', jwksUrl, mode: 'test' }))).toBe('wrong_issuer');
    expect(await reason(verifyToken(token, { appId: t.app.id, issuer, jwksUrl }))).toBe('wrong_mode'); // live only, by default
    expect(await reason(verifyToken(token, { appId: t.app.id, issuer, jwksUrl, mode: 'test', now: new Date(Date.now() + 3_600_000) }))).toBe('expired');
    const [h, p, s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'usr_2' })).toString('base64url')}.${s}`;
    expect(await reason(verifyToken(forged, { appId: t.app.id, issuer, jwksUrl, mode: 'test' }))).toBe('bad_signature');
    expect(await reason(verifyToken('nope', { appId: t.app.id, issuer, jwksUrl }))).toBe('malformed');

    // A rotation: the new kid is unknown to the cache, so the JWKS is fetched again.
    await new Promise((ok) => setTimeout(ok, 1_100));
    const { kid } = await tokens.signer.rotateSigningKey(t.app.id);
    const fresh = await tokens.signer.sign(t.app, 'test', claims);
    expect(JSON.parse(Buffer.from(fresh.split('.')[0]!, 'base64url').toString()).kid).toBe(kid);
    expect((await verifyToken(fresh, { appId: t.app.id, issuer, jwksUrl, mode: 'test' })).sub).toBe('usr_1');
    // The old key stays published until its tokens expire.
    expect((await verifyToken(token, { appId: t.app.id, issuer, jwksUrl, mode: 'test' })).sub).toBe('usr_1');
  });
});
