import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../server/core';
import { signingKeys } from '../../server/db/schema/index';
import { createAppsStore, type AppRecord, type AppsStore, type KeyPair } from '../../server/features/apps/store';
import { createOidcFeature } from '../../server/features/oidc/index';
import { createTokensFeature, type TokenSigner } from '../../server/features/tokens/index';
import { createUsersStore } from '../../server/features/users/store';
import { createSigningKeyStore } from '../../server/features/tokens/signing-keys';
import { decrypt } from '../../server/lib/crypto';
import { newSessionId } from '../../server/lib/ids';
import { serveFeatures } from '../helpers/server';

/**
 * The tokens feature on real Postgres and Redis, composed by hand (apps store + tokens, and the
 * OpenID Provider that serves the issuer's discovery) so it doesn't depend on what else main.ts registers. Tokens are checked the way a tenant's
 * backend would: JWKS fetched over HTTP, keys imported by node:crypto, jsonwebtoken.verify.
 */
let core: Core;
let url: string;
let apps: AppsStore;
let signer: TokenSigner;
let dispose: () => Promise<void>;
/** Every response body this file saw, to prove no private key ever left the server. */
const seenBodies: string[] = [];

let appA: AppRecord;
let keysA: { test: KeyPair; live?: KeyPair };
let appB: AppRecord;
let keysB: { test: KeyPair; live?: KeyPair };

beforeAll(async () => {
  let tokens!: ReturnType<typeof createTokensFeature>;
  const served = await serveFeatures('tokens', (c) => {
    apps = createAppsStore(c);
    tokens = createTokensFeature(c, { apps });
    const oidc = createOidcFeature(c, { apps, keys: tokens.keys, users: createUsersStore(c), tokens: tokens.verifier, issuer: tokens.signer.issuer });
    return [oidc.feature, tokens.feature];
  });
  ({ core, url, dispose } = served);
  signer = tokens.signer;
  const tenantId = await apps.ensureDefaultTenant('Tokens test tenant');
  ({ app: appA, keys: keysA } = await apps.createApp({
    tenantId, name: 'Shop A', allowedOrigins: ['https://a.example.com'], wechatAppId: 'wx0123456789abcdef', wechatSecret: 'a'.repeat(32),
  }));
  ({ app: appB, keys: keysB } = await apps.createApp({ tenantId, name: 'Shop B', allowedOrigins: ['https://b.example.com'] }));
});

afterAll(async () => {
  await dispose?.();
});

async function get(path: string): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(`${url}${path}`);
  const text = await res.text();
  seenBodies.push(text);
  return { status: res.status, headers: res.headers, body: JSON.parse(text) };
}

async function verifyCall(secretKey: string | undefined, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/v1/tokens/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secretKey ? { authorization: `Bearer ${secretKey}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  seenBodies.push(text);
  return { status: res.status, body: JSON.parse(text) };
}

/** A tenant backend's verification: discovery → JWKS → key by kid → jsonwebtoken.verify. */
async function verifyIndependently(token: string, appId: string): Promise<jwt.JwtPayload> {
  const discovery = await get(`/apps/${appId}/.well-known/openid-configuration`);
  const jwksRes = await fetch(discovery.body.jwks_uri);
  const jwksText = await jwksRes.text();
  seenBodies.push(jwksText);
  const jwks = JSON.parse(jwksText) as { keys: (JsonWebKey & { kid: string })[] };
  const kid = jwt.decode(token, { complete: true })?.header.kid;
  const jwk = jwks.keys.find((k) => k.kid === kid);
  if (!jwk) throw new Error(`kid ${kid} not in JWKS`);
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  return jwt.verify(token, key, { algorithms: ['ES256'], issuer: discovery.body.issuer, audience: appId }) as jwt.JwtPayload;
}

function claimsFor(overrides: Partial<{ sub: string; openid: string; unionid: string; name: string; picture: string; jti: string }> = {}) {
  return { sub: 'usr_abcdefghijklmnop', openid: 'o_test_openid_1', jti: newSessionId(), ...overrides };
}

describe('signing and JWKS', () => {
  it('signs ES256 tokens that an independent verifier accepts through discovery and JWKS, with exact claims', async () => {
    const input = claimsFor({ unionid: 'u_union_1', name: 'Xiao Ming', picture: 'https://cdn.example.com/a.png' });
    const before = Math.floor(Date.now() / 1000);
    const token = await signer.sign(appA, 'test', input);
    const after = Math.floor(Date.now() / 1000);

    const header = jwt.decode(token, { complete: true })!.header;
    expect(header.alg).toBe('ES256');
    expect(header.kid).toMatch(/^sig_/);

    const claims = await verifyIndependently(token, appA.id);
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(claims.iat).toBeLessThanOrEqual(after);
    expect(claims).toEqual({
      iss: `${url}/apps/${appA.id}`,
      aud: appA.id,
      sub: input.sub,
      openid: input.openid,
      unionid: 'u_union_1',
      name: 'Xiao Ming',
      picture: 'https://cdn.example.com/a.png',
      amr: ['wechat_mp_scan'],
      mode: 'test',
      iat: claims.iat,
      exp: claims.iat! + appA.tokenTtlSeconds,
      jti: input.jti,
    });
    // Optional claims are absent, not null, when not given.
    const bare = await verifyIndependently(await signer.sign(appA, 'test', claimsFor()), appA.id);
    expect(Object.keys(bare).sort()).toEqual(['amr', 'aud', 'exp', 'iat', 'iss', 'jti', 'mode', 'openid', 'sub']);
  });

  it('serves a discovery document per app and 404 for unknown apps', async () => {
    const d = await get(`/apps/${appA.id}/.well-known/openid-configuration`);
    expect(d.status).toBe(200);
    expect(d.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(d.body).toMatchObject({
      issuer: `${url}/apps/${appA.id}`,
      jwks_uri: `${url}/apps/${appA.id}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ['ES256'],
    });
    expect(d.body.claims_supported).toEqual(expect.arrayContaining(['sub', 'openid', 'unionid', 'amr']));

    for (const path of ['/apps/app_doesnotexist/.well-known/openid-configuration', '/apps/app_doesnotexist/.well-known/jwks.json', '/apps/not-an-id/.well-known/jwks.json']) {
      const r = await get(path);
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('not_found');
      expect(r.body.error.requestId).toBeTruthy();
    }
  });

  it('publishes only public JWK members, with a short cache lifetime', async () => {
    const r = await get(`/apps/${appB.id}/.well-known/jwks.json`);
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toMatch(/max-age=([1-9]\d{0,2})\b/);
    expect(r.body.keys.length).toBe(1);
    for (const k of r.body.keys) {
      expect(Object.keys(k).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
      expect(k).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    }
  });

  it('creates exactly one first key when many instances ask at once', async () => {
    const { app } = await apps.createApp({ tenantId: appA.tenantId, name: 'Race', allowedOrigins: [] });
    // Separate stores have separate caches, like separate server instances.
    const stores = Array.from({ length: 8 }, () => createSigningKeyStore(core));
    const keys = await Promise.all(stores.map((s) => s.activeKey(app)));
    expect(new Set(keys.map((k) => k.kid)).size).toBe(1);
    const rows = await core.db.select({ id: signingKeys.id }).from(signingKeys).where(eq(signingKeys.appId, app.id));
    expect(rows.map((r) => r.id)).toEqual([keys[0]!.kid]);
  });

  it('stores the private key encrypted under MASTER_KEY, bound to its row', async () => {
    const [row] = await core.db.select().from(signingKeys).where(eq(signingKeys.appId, appA.id)).limit(1);
    expect(row!.privateKeyEnc).not.toContain('PRIVATE KEY');
    expect(decrypt(core.config.masterKey, row!.privateKeyEnc, `signing-key:${row!.id}`)).toContain('-----BEGIN PRIVATE KEY-----');
    expect(() => decrypt(core.config.masterKey, row!.privateKeyEnc, 'signing-key:sig_other')).toThrow();
    expect(Object.keys(row!.publicJwk).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
  });
});

describe('rotation', () => {
  it('keeps the old key published so old tokens verify, and signs new tokens with the new key', async () => {
    const { app } = await apps.createApp({ tenantId: appA.tenantId, name: 'Rotating', allowedOrigins: [] });
    const oldToken = await signer.sign(app, 'test', claimsFor());
    const oldKid = jwt.decode(oldToken, { complete: true })!.header.kid;

    const { kid: newKid } = await signer.rotateSigningKey(app.id);
    expect(newKid).not.toBe(oldKid);

    const jwks = await get(`/apps/${app.id}/.well-known/jwks.json`);
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toEqual([newKid, oldKid]);

    expect((await verifyIndependently(oldToken, app.id)).jti).toBeTruthy();
    const newToken = await signer.sign(app, 'test', claimsFor());
    expect(jwt.decode(newToken, { complete: true })!.header.kid).toBe(newKid);
    await verifyIndependently(newToken, app.id);

    const [retired] = await core.db.select().from(signingKeys).where(eq(signingKeys.id, oldKid!));
    const window = (retired!.publishUntil!.getTime() - retired!.retiredAt!.getTime()) / 1000;
    expect(window).toBeGreaterThanOrEqual(app.tokenTtlSeconds);
  });

  it('refuses to rotate for an unknown app', async () => {
    await expect(signer.rotateSigningKey('app_doesnotexist')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('drops a retired key from the JWKS once its publication window has passed, and its tokens stop verifying', async () => {
    const { app, keys } = await apps.createApp({ tenantId: appA.tenantId, name: 'Expiring key', allowedOrigins: [] });
    const oldToken = await signer.sign(app, 'test', claimsFor());
    const oldKid = jwt.decode(oldToken, { complete: true })!.header.kid!;
    const { kid: newKid } = await signer.rotateSigningKey(app.id);
    // Move the window into the past rather than waiting for it.
    await core.db.update(signingKeys).set({ publishUntil: sql`now() - interval '1 second'` }).where(eq(signingKeys.id, oldKid));

    const jwks = await get(`/apps/${app.id}/.well-known/jwks.json`);
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toEqual([newKid]);
    const r = await verifyCall(keys.test.secret, { token: oldToken });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('invalid_token');
  });
});

describe('POST /v1/tokens/verify', () => {
  it('answers the claims once, then already_used', async () => {
    const input = claimsFor({ name: 'Li Lei' });
    const token = await signer.sign(appA, 'test', input);
    const first = await verifyCall(keysA.test.secret, { token });
    expect(first.status).toBe(200);
    expect(first.body.valid).toBe(true);
    expect(first.body.claims).toMatchObject({ sub: input.sub, openid: input.openid, name: 'Li Lei', jti: input.jti, aud: appA.id, mode: 'test', amr: ['wechat_mp_scan'] });

    const second = await verifyCall(keysA.test.secret, { token });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('already_used');
  });

  it('marks the jti used only when the token is valid', async () => {
    const token = await signer.sign(appA, 'test', claimsFor());
    expect((await verifyCall(keysB.test.secret, { token })).status).toBe(401);
    expect((await verifyCall(keysA.test.secret, { token })).status).toBe(200);
  });

  it("rejects another app's secret key", async () => {
    const token = await signer.sign(appA, 'test', claimsFor());
    const r = await verifyCall(keysB.test.secret, { token });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('invalid_token');
  });

  it('rejects a test-mode token verified with a live key, and the reverse', async () => {
    const testToken = await signer.sign(appA, 'test', claimsFor());
    const r = await verifyCall(keysA.live!.secret, { token: testToken });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('invalid_token');
    expect(r.body.error.message).toContain('test-mode');

    const liveToken = await signer.sign(appA, 'live', claimsFor());
    expect((await verifyCall(keysA.test.secret, { token: liveToken })).body.error.code).toBe('invalid_token');
    expect((await verifyCall(keysA.live!.secret, { token: liveToken })).status).toBe(200);
  });

  it('rejects an expired token with token_expired', async () => {
    const token = await signer.sign({ ...appA, tokenTtlSeconds: -5 }, 'test', claimsFor());
    const r = await verifyCall(keysA.test.secret, { token });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('token_expired');
  });

  it('rejects garbage, tampered, unsigned and forged tokens with invalid_token', async () => {
    const good = await signer.sign(appA, 'test', claimsFor());
    const [h, p, s] = good.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const tampered = [h, Buffer.from(JSON.stringify({ ...payload, sub: 'usr_someoneelse000' })).toString('base64url'), s].join('.');
    const unsigned = jwt.sign(payload, null, { algorithm: 'none', header: { alg: 'none', kid: jwt.decode(good, { complete: true })!.header.kid } as jwt.JwtHeader });
    // Right kid and claims, wrong private key: what an attacker who read the JWKS could make.
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const forged = jwt.sign(payload, attacker, { algorithm: 'ES256', keyid: jwt.decode(good, { complete: true })!.header.kid });
    const wrongIssuer = jwt.sign({ ...payload, iss: 'https://evil.example.com' }, attacker, { algorithm: 'ES256', keyid: 'sig_unknown' });

    const b64 = (v: string) => Buffer.from(v).toString('base64url');
    const notJson = [b64(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: 'sig_x' })), b64('{not json'), s].join('.');

    for (const token of ['garbage', 'a.b.c', notJson, tampered, unsigned, forged, wrongIssuer]) {
      const r = await verifyCall(keysA.test.secret, { token });
      expect(r.status, token).toBe(401);
      expect(r.body.error.code, token).toBe('invalid_token');
    }
    // None of them spent the real token's jti.
    expect((await verifyCall(keysA.test.secret, { token: good })).status).toBe(200);
  });

  it('needs a secret key and a token', async () => {
    const token = await signer.sign(appA, 'test', claimsFor());
    expect((await verifyCall(undefined, { token })).body.error.code).toBe('invalid_key');
    expect((await verifyCall(keysA.test.publishable, { token })).body.error.code).toBe('invalid_key');
    const missing = await verifyCall(keysA.test.secret, {});
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('bad_request');
  });
});

describe('secrecy', () => {
  it('never returns a private key in any response', async () => {
    const rows = await core.db.select().from(signingKeys);
    expect(rows.length).toBeGreaterThan(3);
    expect(seenBodies.length).toBeGreaterThan(20);
    const all = seenBodies.join('\n');
    for (const row of rows) {
      const pem = decrypt(core.config.masterKey, row.privateKeyEnc, `signing-key:${row.id}`);
      const privateJwk = createPrivateKey(pem).export({ format: 'jwk' });
      expect(all).not.toContain(privateJwk.d!);
      expect(all).not.toContain(pem.split('\n')[1]!);
      expect(all).not.toContain(row.privateKeyEnc);
    }
    expect(all).not.toContain('PRIVATE KEY');
  });
});
