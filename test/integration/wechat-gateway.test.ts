import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawCode } from '../../server/features/sandbox/simulator/engine';
import type { Core } from '../../server/core';
import type { AppRecord, AppsStore } from '../../server/features/apps/store';
import { sandboxSecret } from '../../server/features/sandbox/simulator/credentials';
import { startSimulator, type RunningSimulator } from '../../server/features/sandbox/simulator/standalone';
import { LOCAL, WechatError } from '../../server/features/wechat/errors';
import { createWechatGateway } from '../../server/features/wechat/gateway';
import { createWechatFeature } from '../../server/features/wechat/index';
import { createSandboxFeature, sandboxAppId } from '../../server/features/sandbox/index';
import { UnavailableError } from '../../server/lib/errors';
import { errorHandler, notFound } from '../../server/lib/http';
import { buildCore } from '../../server/main';
import { createTestDatabase } from '../helpers/db';
import { testRedisPrefix } from '../helpers/redis';
import { TEST_MASTER_KEY, testConfig } from '../helpers/server';

/**
 * The gateway end to end: with WECHAT_CALLS=queued callers enqueue on BullMQ, the worker loads
 * credentials itself and calls the mounted simulator (test mode) or a standalone one standing in
 * for WeChat (live mode); with direct (the default) the caller's own instance makes the call.
 */

const PAGE = 'pages/scan-login/index';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function app(id: string, over: Partial<AppRecord> = {}): AppRecord {
  return {
    id, tenantId: 'ten_x', name: id, displayName: null, logoUrl: null, wechatAppId: null, hasWechatSecret: false,
    allowedOrigins: [], mpPage: PAGE, envVersion: 'release', checkPath: true, sessionTtlSeconds: 120, tokenTtlSeconds: 300,
    urlLinkEnabled: false, codeStyle: 'wxacode', phoneNumber: 'off', ...over,
  };
}

const records = new Map<string, AppRecord>([
  ['app_live', app('app_live', { wechatAppId: 'wxlive000000000001', hasWechatSecret: true })],
  ['app_badsecret', app('app_badsecret', { wechatAppId: 'wxlive000000000002', hasWechatSecret: true })],
  ['app_nocreds', app('app_nocreds')],
  ['app_t1', app('app_t1')],
  ['app_t2', app('app_t2')],
  ['app_t3', app('app_t3')],
  ['app_t4', app('app_t4')],
  ['app_t5', app('app_t5')],
]);
const secrets = new Map([['app_live', 'live-secret-1'], ['app_badsecret', 'not-the-secret']]);
const SK_T1 = 'sk_test_t1aaaaaaaaaaaaaaaaaaaaaaaa';
const SK_T1_LIVE = 'sk_live_t1aaaaaaaaaaaaaaaaaaaaaaaa';
const SK_T2 = 'sk_test_t2aaaaaaaaaaaaaaaaaaaaaaaa';
const SK_T4 = 'sk_test_t4aaaaaaaaaaaaaaaaaaaaaaaa';
const SK_T5 = 'sk_test_t5aaaaaaaaaaaaaaaaaaaaaaaa';
const keys = new Map([
  [SK_T1, { appId: 'app_t1', mode: 'test' as const }],
  [SK_T1_LIVE, { appId: 'app_t1', mode: 'live' as const }],
  [SK_T2, { appId: 'app_t2', mode: 'test' as const }],
  [SK_T4, { appId: 'app_t4', mode: 'test' as const }],
  [SK_T5, { appId: 'app_t5', mode: 'test' as const }],
]);
const apps: Pick<AppsStore, 'getApp' | 'getWechatSecret' | 'resolveSecretKey'> = {
  getApp: async (id) => records.get(id) ?? null,
  getWechatSecret: async (id) => secrets.get(id) ?? null,
  async resolveSecretKey(key) {
    const k = keys.get(key);
    return k ? { app: records.get(k.appId)!, mode: k.mode, keyId: `key_${k.appId}` } : null;
  },
};

let sim: RunningSimulator;
let core: Core;
let http: Server;
let url: string;
let wechat: ReturnType<typeof createWechatFeature>;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
const prefix = testRedisPrefix('wxgateway');

async function waitFor(ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await ok()); i++) await new Promise((r) => setTimeout(r, 25));
}

async function rejection(p: Promise<unknown>): Promise<WechatError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(WechatError);
  return err as WechatError;
}

const codeParams = (scene: string) => ({ scene, page: PAGE, checkPath: true, envVersion: 'release' as const });

async function post(path: string, body: unknown, key?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) };
  const res = await fetch(url + path, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  sim = await startSimulator();
  sim.registerApp('wxlive000000000001', 'live-secret-1', { pages: [PAGE] });
  sim.registerApp('wxlive000000000002', 'live-secret-2', { pages: [PAGE] });
  db = await createTestDatabase('wxgateway');
  const ex = express();
  http = createServer(ex);
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  core = await buildCore(testConfig(db.url, prefix.prefix, { WECHAT_API_BASE: sim.url, PUBLIC_URL: url, WECHAT_CALLS: 'queued' }));
  const sandbox = createSandboxFeature(core, { apps, controlsNeedKey: true });
  wechat = createWechatFeature(core, { apps, codesPerMinute: 3, sandbox: sandbox.service });
  ex.use(sandbox.feature.router!);
  ex.use(notFound);
  ex.use(errorHandler(core.logger));
  core.localUrl = url;
  await wechat.feature.start!();
});

afterAll(async () => {
  http?.closeAllConnections();
  http?.close();
  await core?.jobs.close();
  await core?.redis.close();
  await core?.database.close();
  await db?.drop();
  await sim?.close();
  await prefix.cleanup();
});

describe('test mode, through the queue and the mounted simulator', () => {
  it('getCode returns a PNG of this server\'s sandbox phone URL', async () => {
    const img = await wechat.gateway.getCode({ appId: 'app_t1', mode: 'test' }, { ...codeParams('sceneT1'), width: 280 });
    expect(img.contentType).toBe('image/png');
    expect(img.body.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const expected = await drawCode(`${url}/sandbox/phone?scene=sceneT1`, 280);
    expect(img.body.equals(expected)).toBe(true);
  });

  it('code2Session: a sandbox phone code gives its openid once; the second use is a typed 40163', async () => {
    const ref = { appId: 'app_t1', mode: 'test' as const };
    const code = await wechat.gateway.sandboxPhoneCode('app_t1', 'o_visitor_1');
    expect(await wechat.gateway.code2Session(ref, code)).toEqual({ openid: 'o_visitor_1' });
    const again = await rejection(wechat.gateway.code2Session(ref, code));
    expect(again.errcode).toBe(40163);
    expect(again.api).toBe('jscode2session');
    // A code of one app is no good for another.
    const other = await wechat.gateway.sandboxPhoneCode('app_t2', 'o_visitor_1');
    expect((await rejection(wechat.gateway.code2Session(ref, other))).errcode).toBe(40029);
  });

  it('a call answered by a worker of this same process is settled in memory: no outcome key is left in Redis', async () => {
    const outcomeKeys = async () => (await core.redis.client.keys(core.key('wechat', 'outcome', '*'))).length;
    const before = await outcomeKeys();
    const code = await wechat.gateway.sandboxPhoneCode('app_t1', 'o_local');
    expect(await wechat.gateway.code2Session({ appId: 'app_t1', mode: 'test' }, code)).toEqual({ openid: 'o_local' });
    expect(await outcomeKeys()).toBe(before);
  });

  it('generateUrlLink', async () => {
    const link = await wechat.gateway.generateUrlLink({ appId: 'app_t1', mode: 'test' }, { page: PAGE, query: 'scene=abc', envVersion: 'release' });
    expect(link).toMatch(/^https:\/\/wxaurl\.cn\//);
  });

  it('a bad scene comes back as WeChat\'s errcode, rebuilt across the job boundary', async () => {
    const err = await rejection(wechat.gateway.getCode({ appId: 'app_t3', mode: 'test' }, codeParams('bad scene!')));
    expect(err.errcode).toBe(40129);
    expect(err.api).toBe('getwxacodeunlimit');
    expect(err.plain).toMatch(/characters WeChat does not accept/);
  });

  it('verifyApp passes in test mode', async () => {
    const r = await wechat.gateway.verifyApp({ appId: 'app_t2', mode: 'test' });
    expect(r.ok).toBe(true);
    expect(r.wechatAppId).toBe(sandboxAppId('app_t2'));
    expect(r.checks.map((c) => [c.name, c.ok])).toEqual([['credentials', true], ['access_token', true], ['code', true], ['url_link', true]]);
  });
});

describe('live mode, credentials loaded by the worker', () => {
  it('getCode and verifyApp with the app\'s own AppID and AppSecret', async () => {
    const img = await wechat.gateway.getCode({ appId: 'app_live', mode: 'live' }, codeParams('live1'));
    expect(img.body.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect((await sim.stats('wxlive000000000001')).getwxacodeunlimit).toBe(1);
    const v = await wechat.gateway.verifyApp({ appId: 'app_live', mode: 'live' });
    expect(v).toMatchObject({ ok: true, wechatAppId: 'wxlive000000000001', page: PAGE });
    expect(v.checks.at(-1)).toEqual({ name: 'url_link', ok: true });
  });

  it('verifyApp: WeChat refusing URL Links is reported but does not fail the verification (logins work without them)', async () => {
    await sim.inject({ appid: 'wxlive000000000001', api: 'generate_urllink', times: 1, errcode: 40165, errmsg: 'invalid weapp pagepath' });
    const v = await wechat.gateway.verifyApp({ appId: 'app_live', mode: 'live' });
    expect(v.ok).toBe(true);
    expect(v.checks.at(-1)).toMatchObject({ name: 'url_link', ok: false, errcode: 40165, message: expect.stringMatching(/published mini-program/) });
  });

  it('a wrong AppSecret: typed 40125 with plain words, and verifyApp says which step failed', async () => {
    const err = await rejection(wechat.gateway.getCode({ appId: 'app_badsecret', mode: 'live' }, codeParams('x')));
    expect(err.errcode).toBe(40125);
    expect(err.api).toBe('stable_token');
    expect(err.plain).toMatch(/AppSecret/);
    expect(JSON.stringify(err)).not.toContain('not-the-secret');
    const v = await wechat.gateway.verifyApp({ appId: 'app_badsecret', mode: 'live' });
    expect(v.ok).toBe(false);
    expect(v.checks).toEqual([{ name: 'credentials', ok: true }, { name: 'access_token', ok: false, errcode: 40125, errmsg: expect.stringMatching(/^invalid appsecret/), message: err.plain }]);
  });

  it('an app without live credentials is refused before any WeChat call', async () => {
    const err = await rejection(wechat.gateway.code2Session({ appId: 'app_nocreds', mode: 'live' }, 'whatever'));
    expect(err.errcode).toBe(LOCAL.noCredentials);
    expect(err.api).toBe('credentials');
  });

  it('WeChat busy (-1) surfaces as a typed, transient error', async () => {
    await sim.inject({ appid: 'wxlive000000000001', api: 'jscode2session', times: 1, errcode: -1, errmsg: 'system error' });
    const code = await sim.issueCode('wxlive000000000001', 'o_live');
    const err = await rejection(wechat.gateway.code2Session({ appId: 'app_live', mode: 'live' }, code));
    expect(err.errcode).toBe(-1);
    expect(err.transient).toBe(true);
  });
});

describe('per-AppID limit', () => {
  it('one tenant over its budget fails fast with a quota error; another is untouched', async () => {
    // This feature allows 3 codes a minute per AppID.
    const busy = { appId: 'app_t4', mode: 'test' as const };
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => wechat.gateway.getCode(busy, codeParams(`busy${i}`))));
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(3);
    const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as WechatError);
    expect(refused.length).toBe(2);
    for (const e of refused) {
      expect(e).toBeInstanceOf(WechatError);
      expect(e.errcode).toBe(45009);
      expect(e.plain).toMatch(/Too many/);
    }
    // Refused calls never reached WeChat.
    const stats = await fetch(`${url}/sandbox/wechat/__sim/stats?appid=${sandboxAppId('app_t4')}`, { headers: { authorization: `Bearer ${SK_T4}` } });
    expect(((await stats.json()) as { calls: Record<string, number> }).calls.getwxacodeunlimit).toBe(3);
    const other = await wechat.gateway.getCode({ appId: 'app_t2', mode: 'test' }, codeParams('calm'));
    expect(other.contentType).toBe('image/png');
  });
});

describe('URL Link budget', () => {
  it('a daily budget per AppID, shared through Redis: once spent, no link and no call to WeChat', async () => {
    const ref = { appId: 'app_t5', mode: 'test' as const };
    const link = { page: PAGE, query: 'scene=budget', envVersion: 'release' as const };
    // Two features on the same Redis stand for two instances.
    const [a, b] = [1, 2].map(() => createWechatFeature(core, { apps, urlLinksPerDay: 2, sandbox: createSandboxFeature(core, { apps }).service }));
    expect(await a!.gateway.generateUrlLink(ref, link)).toMatch(/^https:\/\/wxaurl\.cn\//);
    expect(await b!.gateway.generateUrlLink(ref, link)).toMatch(/^https:\/\/wxaurl\.cn\//);
    const spent = await rejection(a!.gateway.generateUrlLink(ref, link));
    expect(spent.errcode).toBe(45009);
    expect(spent.plain).toMatch(/URL Links for today/);
    const stats = await fetch(`${url}/sandbox/wechat/__sim/stats?appid=${sandboxAppId('app_t5')}`, { headers: { authorization: `Bearer ${SK_T5}` } });
    expect(((await stats.json()) as { calls: Record<string, number> }).calls.generate_urllink).toBe(2);
    // Codes have a budget of their own.
    expect((await a!.gateway.getCode(ref, codeParams('budgetcode'))).contentType).toBe('image/png');
  });
});

describe('a second instance', () => {
  it('a call from an API-only instance is answered by another process\'s worker on its reply channel', async () => {
    const apiOnly = await buildCore(testConfig(db.url, prefix.prefix, { ROLE: 'api', WECHAT_CALLS: 'queued' }));
    try {
      const caller = createWechatFeature(apiOnly, { apps, waitMs: 5_000, sandbox: createSandboxFeature(apiOnly, { apps }).service });
      await caller.feature.start!();
      const code = await wechat.gateway.sandboxPhoneCode('app_t1', 'o_remote');
      expect(await caller.gateway.code2Session({ appId: 'app_t1', mode: 'test' }, code)).toEqual({ openid: 'o_remote' });
      expect((await rejection(caller.gateway.code2Session({ appId: 'app_t1', mode: 'test' }, code))).errcode).toBe(40163);
    } finally {
      await apiOnly.jobs.close();
      await apiOnly.redis.close();
      await apiOnly.database.close();
    }
  });

  it('shares the mounted simulator\'s state, and with the key check off its controls still need an appid', async () => {
    const other = await buildCore(testConfig(db.url, prefix.prefix, { ROLE: 'api', WECHAT_CALLS: 'queued' }));
    const ex = express();
    ex.use(createSandboxFeature(other, { apps, controlsNeedKey: false }).feature.router!);
    ex.use(errorHandler(other.logger));
    const srv = createServer(ex);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const otherUrl = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/sandbox/wechat`;
    const send = (base: string, path: string, body: unknown) =>
      fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    try {
      const appid = sandboxAppId('app_t2');
      const secret = sandboxSecret(Buffer.from(TEST_MASTER_KEY, 'base64'), appid);
      const tokenReq = { grant_type: 'client_credential', appid, secret, force_refresh: false };
      const here = (await (await send(`${url}/sandbox/wechat`, '/cgi-bin/stable_token', tokenReq)).json()) as { access_token: string };
      const there = (await (await send(otherUrl, '/cgi-bin/stable_token', tokenReq)).json()) as { access_token: string };
      expect(there.access_token).toBe(here.access_token);
      // A code issued through one instance is spent through the other, once.
      const { code } = (await (await send(otherUrl, '/__sim/phone/login', { appid, openid: 'o_multi' })).json()) as { code: string };
      expect((await wechat.gateway.code2Session({ appId: 'app_t2', mode: 'test' }, code)).openid).toBe('o_multi');
      const q = new URLSearchParams({ appid, secret, js_code: code, grant_type: 'authorization_code' });
      expect(((await (await fetch(`${otherUrl}/sns/jscode2session?${q}`)).json()) as { errcode: number }).errcode).toBe(40163);

      expect((await send(otherUrl, '/__sim/faults', { api: 'jscode2session', times: 1, errcode: -1 })).status).toBe(400);
      expect((await send(otherUrl, '/__sim/faults', { appid: sandboxAppId('app_t3'), api: 'generate_urllink', times: 1, errcode: -1 })).status).toBe(201);
      await fetch(`${otherUrl}/__sim/faults?appid=${sandboxAppId('app_t3')}`, { method: 'DELETE' });
    } finally {
      srv.closeAllConnections();
      srv.close();
      await other.jobs.close();
      await other.redis.close();
      await other.database.close();
    }
  });
});

describe('an external simulator (SANDBOX_WECHAT_API_BASE)', () => {
  it('test mode calls it, and the sandbox phone gets its wx.login codes from it', async () => {
    const ext = await startSimulator({ masterKey: Buffer.from(TEST_MASTER_KEY, 'base64'), scoped: true });
    const extCore = await buildCore(testConfig(db.url, prefix.prefix, { ROLE: 'api', SANDBOX_WECHAT_API_BASE: ext.url }));
    try {
      const sandbox = createSandboxFeature(extCore, { apps });
      const { base, creds } = sandbox.service.credentials('app_t1');
      expect(base).toBe(ext.url);
      const r = await sandbox.service.phoneCode('app_t1', 'o_ext');
      expect(r.ok).toBe(true);
      const q = new URLSearchParams({ appid: creds.appid, secret: creds.secret, js_code: r.ok ? r.code : '', grant_type: 'authorization_code' });
      expect(((await (await fetch(`${ext.url}/sns/jscode2session?${q}`)).json()) as { openid: string }).openid).toBe('o_ext');
      expect(await sandbox.service.phoneCode('app_t1', 'not an openid')).toMatchObject({ ok: false });
    } finally {
      await extCore.jobs.close();
      await extCore.redis.close();
      await extCore.database.close();
      await ext.close();
    }
  });
});

describe('the outcome channel', () => {
  it('a caller that misses the worker\'s message (pub/sub is at most once) reads the outcome key', async () => {
    // Subscribed to a channel nobody publishes on: only the key can answer.
    const deaf = createWechatGateway({
      jobs: core.jobs,
      redis: core.redis.client,
      subscriber: () => core.redis.duplicate(),
      instanceId: core.instanceId,
      replyChannel: (id) => core.key('wechat', 'deaf', id),
      apps,
      outcomeKey: (jobId) => core.key('wechat', 'outcome', jobId),
      limit: async () => {},
      wechatAppIdFor: async (ref) => sandboxAppId(ref.appId),
      sandboxPhoneCode: (appId, openid) => wechat.gateway.sandboxPhoneCode(appId, openid),
      waitMs: 300,
    });
    const ref = { appId: 'app_t3', mode: 'test' as const };
    const code = await wechat.gateway.sandboxPhoneCode('app_t3', 'o_missed');
    expect(await deaf.code2Session(ref, code)).toEqual({ openid: 'o_missed' });
    // A failure comes back typed the same way.
    expect((await rejection(deaf.code2Session(ref, code))).errcode).toBe(40163);
  });
});

describe('without a worker', () => {
  it('an API-only caller with no worker alive fails fast with a retryable 503 and queues nothing', async () => {
    const lonelyPrefix = testRedisPrefix('wxlonely');
    const apiOnly = await buildCore(testConfig(db.url, lonelyPrefix.prefix, { ROLE: 'api', WECHAT_CALLS: 'queued' }));
    try {
      const lonely = createWechatFeature(apiOnly, { apps, waitMs: 60_000, sandbox: createSandboxFeature(apiOnly, { apps }).service });
      await lonely.feature.start!();
      const err = await lonely.gateway.code2Session({ appId: 'app_t1', mode: 'test' }, 'some-code').then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as UnavailableError).retryAfterSeconds).toBeGreaterThan(0);
      expect(await apiOnly.jobs.queue('wechat').count()).toBe(0);
    } finally {
      await apiOnly.jobs.close();
      await apiOnly.redis.close();
      await apiOnly.database.close();
      await lonelyPrefix.cleanup();
    }
  });

  it('a worker alive but not answering in time: a retryable 503, and the job is taken back', async () => {
    const busyPrefix = testRedisPrefix('wxbusy');
    const apiOnly = await buildCore(testConfig(db.url, busyPrefix.prefix, { ROLE: 'api', WECHAT_CALLS: 'queued' }));
    // A process that beats (it runs a worker) but takes no WeChat jobs.
    const other = await buildCore(testConfig(db.url, busyPrefix.prefix, { ROLE: 'worker' }));
    try {
      other.jobs.worker('elsewhere', async () => {});
      await waitFor(async () => (await apiOnly.jobs.workersAlive()) > 0);
      const lonely = createWechatFeature(apiOnly, { apps, waitMs: 300, sandbox: createSandboxFeature(apiOnly, { apps }).service });
      await lonely.feature.start!();
      const err = await lonely.gateway.code2Session({ appId: 'app_t1', mode: 'test' }, 'some-code').then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(UnavailableError);
      expect(await apiOnly.jobs.queue('wechat').count()).toBe(0);
      // A clean shutdown leaves the heartbeat set at once.
      await other.jobs.close();
      expect(await apiOnly.jobs.workersAlive()).toBe(0);
    } finally {
      await other.jobs.close();
      await other.redis.close();
      await other.database.close();
      await apiOnly.jobs.close();
      await apiOnly.redis.close();
      await apiOnly.database.close();
      await busyPrefix.cleanup();
    }
  });
});

describe('direct calls (WECHAT_CALLS=direct, the default)', () => {
  it('an API-only instance with no worker anywhere calls WeChat itself: nothing is queued, live credentials loaded on the instance', async () => {
    const directPrefix = testRedisPrefix('wxdirect');
    const apiOnly = await buildCore(testConfig(db.url, directPrefix.prefix, { ROLE: 'api', WECHAT_API_BASE: sim.url, SANDBOX_WECHAT_API_BASE: `${url}/sandbox/wechat` }));
    try {
      expect(apiOnly.config.wechatCalls).toBe('direct');
      const direct = createWechatFeature(apiOnly, { apps, codesPerMinute: 2, sandbox: createSandboxFeature(apiOnly, { apps }).service });
      await direct.feature.start!();
      expect(await apiOnly.jobs.workersAlive()).toBe(0);
      const code = await wechat.gateway.sandboxPhoneCode('app_t1', 'o_direct');
      expect(await direct.gateway.code2Session({ appId: 'app_t1', mode: 'test' }, code)).toEqual({ openid: 'o_direct' });
      // WeChat's refusal is the same typed error as across the job boundary.
      expect((await rejection(direct.gateway.code2Session({ appId: 'app_t1', mode: 'test' }, code))).errcode).toBe(40163);
      const img = await direct.gateway.getCode({ appId: 'app_live', mode: 'live' }, codeParams('direct1'));
      expect(img.body.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      expect((await rejection(direct.gateway.getCode({ appId: 'app_badsecret', mode: 'live' }, codeParams('direct2')))).errcode).toBe(40125);
      expect(await apiOnly.jobs.queue('wechat').count()).toBe(0);
    } finally {
      await apiOnly.jobs.close();
      await apiOnly.redis.close();
      await apiOnly.database.close();
      await directPrefix.cleanup();
    }
  });

  it('keeps the per-AppID limit: over budget fails with the quota error before any call', async () => {
    const directPrefix = testRedisPrefix('wxdirectrl');
    const inst = await buildCore(testConfig(db.url, directPrefix.prefix, { WECHAT_API_BASE: sim.url }));
    try {
      const direct = createWechatFeature(inst, { apps, codesPerMinute: 1, sandbox: createSandboxFeature(inst, { apps }).service });
      await direct.feature.start!();
      await direct.gateway.getCode({ appId: 'app_live', mode: 'live' }, codeParams('rl1'));
      const err = await rejection(direct.gateway.getCode({ appId: 'app_live', mode: 'live' }, codeParams('rl2')));
      expect(err.errcode).toBe(LOCAL.quota);
    } finally {
      await inst.jobs.close();
      await inst.redis.close();
      await inst.database.close();
      await directPrefix.cleanup();
    }
  });
});

describe('the mounted simulator', () => {
  it('accepts exactly the derived sandbox credentials', async () => {
    const appid = sandboxAppId('app_t1');
    expect(appid).toMatch(/^wx[0-9a-f]{16}$/);
    const secret = sandboxSecret(Buffer.from(TEST_MASTER_KEY, 'base64'), appid);
    const good = await post('/sandbox/wechat/cgi-bin/stable_token', { grant_type: 'client_credential', appid, secret, force_refresh: false });
    expect(good.json).toMatchObject({ expires_in: expect.any(Number), access_token: expect.any(String) });
    expect(good.json.errcode).toBeUndefined();
    const wrongSecret = await post('/sandbox/wechat/cgi-bin/stable_token', { grant_type: 'client_credential', appid, secret: 'f'.repeat(32) });
    expect(wrongSecret.json.errcode).toBe(40125);
    const otherApp = await post('/sandbox/wechat/cgi-bin/stable_token', { grant_type: 'client_credential', appid: sandboxAppId('app_t2'), secret });
    expect(otherApp.json.errcode).toBe(40125);
    const notSandbox = await post('/sandbox/wechat/cgi-bin/stable_token', { grant_type: 'client_credential', appid: 'wxlive000000000001', secret });
    expect(notSandbox.json.errcode).toBe(40013);
    const missing = await post('/sandbox/wechat/cgi-bin/stable_token', { grant_type: 'client_credential', secret });
    expect(missing.json.errcode).toBe(41002);
  });

  it('scopes faults to one AppID, and only that app\'s test secret key may set them', async () => {
    const a = sandboxAppId('app_t1');
    const fault = { appid: a, api: 'jscode2session', times: 1, errcode: 40226 };
    expect((await post('/sandbox/wechat/__sim/faults', { api: 'jscode2session', times: 1, errcode: -1 }, SK_T1)).status).toBe(400);
    expect((await post('/sandbox/wechat/__sim/faults', fault)).status).toBe(401);
    expect((await post('/sandbox/wechat/__sim/faults', fault, SK_T2)).status).toBe(401);
    expect((await post('/sandbox/wechat/__sim/faults', fault, SK_T1_LIVE)).status).toBe(401);
    expect((await post('/sandbox/wechat/__sim/faults', fault, SK_T1)).status).toBe(201);
    // app_t2 is not disturbed by app_t1's fault.
    const codeB = await wechat.gateway.sandboxPhoneCode('app_t2', 'o_b');
    expect((await wechat.gateway.code2Session({ appId: 'app_t2', mode: 'test' }, codeB)).openid).toBe('o_b');
    const codeA = await wechat.gateway.sandboxPhoneCode('app_t1', 'o_a');
    const risky = await rejection(wechat.gateway.code2Session({ appId: 'app_t1', mode: 'test' }, codeA));
    expect(risky.errcode).toBe(40226);
    expect(risky.plain).toMatch(/risky/);
    const stats = await fetch(`${url}/sandbox/wechat/__sim/stats?appid=${a}`, { headers: { authorization: `Bearer ${SK_T1}` } });
    expect(((await stats.json()) as { calls: Record<string, number> }).calls.jscode2session).toBeGreaterThanOrEqual(2);
    expect((await fetch(`${url}/sandbox/wechat/__sim/stats?appid=${a}`, { headers: { authorization: `Bearer ${SK_T2}` } })).status).toBe(401);
    expect((await fetch(`${url}/sandbox/wechat/__sim/stats`, { headers: { authorization: `Bearer ${SK_T1}` } })).status).toBe(400);
  });
});
