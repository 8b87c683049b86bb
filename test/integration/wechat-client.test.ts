import { Redis } from 'ioredis';
import { drawCode } from '../../server/features/sandbox/simulator/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../server/features/sandbox/simulator/standalone';
import { createWechatClient, type WechatClient } from '../../server/features/wechat/client';
import { LOCAL, WechatError } from '../../server/features/wechat/errors';
import { TEST_REDIS_URL, testRedisPrefix } from '../helpers/redis';

/** The production client against the standalone simulator over HTTP, with the token cache on real Redis. */

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PAGE = 'pages/scan-login/index';

let sim: RunningSimulator;
let redis: Redis;
const prefix = testRedisPrefix('wxclient');
let n = 0;

function newClient(timeoutMs = 5_000, forceBudget?: { perDay: number; gapMs: number }): WechatClient {
  return createWechatClient({ redis, key: (...parts) => [prefix.prefix, ...parts].join(':'), timeoutMs, ...(forceBudget ? { forceBudget } : {}) });
}

/** A fresh mini-program for each test, so cached tokens and counters never leak between tests. */
function newApp(pages: string[] = [PAGE]) {
  n += 1;
  const creds = { appid: `wxclient${String(n).padStart(10, '0')}`, secret: `secret-${n}-0123456789abcdef` };
  sim.registerApp(creds.appid, creds.secret, { pages });
  return creds;
}

async function rejection(p: Promise<unknown>): Promise<WechatError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(WechatError);
  return err as WechatError;
}

const code = (scene: string, extra: Partial<{ page: string; checkPath: boolean; width: number }> = {}) => ({
  scene, page: PAGE, checkPath: true, envVersion: 'release' as const, ...extra,
});

beforeAll(async () => {
  sim = await startSimulator({ phoneBaseUrl: 'https://login.example.com' });
  redis = new Redis(TEST_REDIS_URL);
});

afterAll(async () => {
  await sim.close();
  await redis.quit();
  await prefix.cleanup();
});

describe('stable access token', () => {
  it('is fetched once and shared by every client on the same Redis', async () => {
    const creds = newApp();
    const a = newClient();
    const b = newClient();
    const tokens = await Promise.all([...Array(5)].flatMap(() => [a.accessToken(sim.url, creds), b.accessToken(sim.url, creds)]));
    expect(new Set(tokens).size).toBe(1);
    expect((await sim.stats(creds.appid)).stable_token).toBe(1);
  });

  it('after a 40001 drops the cache, refreshes once and succeeds', async () => {
    const creds = newApp();
    const c = newClient();
    const before = await c.accessToken(sim.url, creds);
    await sim.inject({ appid: creds.appid, api: 'getwxacodeunlimit', times: 1, errcode: 40001, errmsg: 'invalid credential' });
    const img = await c.getwxacodeunlimit(sim.url, creds, code('s40001'));
    expect(img.body.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const stats = await sim.stats(creds.appid);
    expect(stats.getwxacodeunlimit).toBe(2);
    // The simulator still hands back the rejected token in normal mode, so the client had to force one refresh.
    expect(stats.stable_token).toBe(3);
    expect(await c.accessToken(sim.url, creds)).not.toBe(before);
  });

  it('after another caller\'s force_refresh, one normal refresh heals the 40001 (no force of our own)', async () => {
    const creds = newApp();
    const c = newClient();
    const before = await c.accessToken(sim.url, creds);
    // The tenant's own backend forces a new token, which invalidates ours at once.
    const res = await fetch(`${sim.url}/cgi-bin/stable_token`, {
      method: 'POST', body: JSON.stringify({ grant_type: 'client_credential', ...creds, force_refresh: true }),
    });
    const theirs = ((await res.json()) as { access_token: string }).access_token;
    await c.getwxacodeunlimit(sim.url, creds, code('sforced'));
    const stats = await sim.stats(creds.appid);
    expect(stats.stable_token).toBe(3);
    expect(stats.getwxacodeunlimit).toBe(2);
    const now = await c.accessToken(sim.url, creds);
    expect(now).not.toBe(before);
    expect(now).toBe(theirs);
  });

  it('forces a refresh only when normal mode hands back the rejected token, and not twice within 30 s across clients', async () => {
    const creds = newApp();
    const [a, b] = [newClient(), newClient()];
    const first = await a.accessToken(sim.url, creds);
    await sim.rejectToken(creds.appid);
    expect((await a.getwxacodeunlimit(sim.url, creds, code('srej1'))).contentType).toBe('image/png');
    const forced = await a.accessToken(sim.url, creds);
    expect(forced).not.toBe(first);
    // get, code (40001), normal get (same token), forced get; then the code again.
    expect(await sim.stats(creds.appid)).toMatchObject({ stable_token: 3, getwxacodeunlimit: 2 });
    // WeChat rejects the new token too: the other client (sharing Redis) must not force again within 30 s.
    await sim.rejectToken(creds.appid);
    const refused = await rejection(b.getwxacodeunlimit(sim.url, creds, code('srej2')));
    expect(refused.errcode).toBe(40001);
    expect(await sim.stats(creds.appid)).toMatchObject({ stable_token: 4, getwxacodeunlimit: 3 });
    // Nobody forced: the tenant's own servers keep the token they have.
    expect(await a.accessToken(sim.url, creds)).toBe(forced);
  });

  it('keeps within the daily force_refresh budget, shared by every client on the same Redis', async () => {
    const creds = newApp();
    const budget = { perDay: 3, gapMs: 1 };
    const clients = [newClient(5_000, budget), newClient(5_000, budget)];
    await clients[0]!.accessToken(sim.url, creds);
    for (let i = 0; i < 3; i++) {
      await sim.rejectToken(creds.appid);
      // A new ms for the gap key; WeChat's own 30 s gap is on the simulated clock.
      await new Promise((r) => setTimeout(r, 2));
      sim.advanceClock(30_000);
      expect((await clients[i % 2]!.getwxacodeunlimit(sim.url, creds, code(`sday${i}`))).contentType).toBe('image/png');
    }
    await sim.rejectToken(creds.appid);
    await new Promise((r) => setTimeout(r, 2));
    sim.advanceClock(30_000);
    const before = (await sim.stats(creds.appid)).stable_token;
    expect((await rejection(clients[1]!.getwxacodeunlimit(sim.url, creds, code('sday3')))).errcode).toBe(40001);
    // One normal-mode fetch, no force.
    expect((await sim.stats(creds.appid)).stable_token).toBe(before + 1);
  });

  it('after a 42001 (token expired) gets a new token without force_refresh', async () => {
    const creds = newApp();
    const c = newClient();
    const before = await c.accessToken(sim.url, creds);
    sim.advanceClock(7_200_000);
    await c.getwxacodeunlimit(sim.url, creds, code('s42001'));
    expect(await c.accessToken(sim.url, creds)).not.toBe(before);
    expect((await sim.stats(creds.appid)).stable_token).toBe(2);
  });

  it('explains a wrong AppID and a wrong AppSecret in plain words', async () => {
    const creds = newApp();
    const c = newClient();
    const wrongId = await rejection(c.accessToken(sim.url, { appid: 'wxnotregistered0001', secret: creds.secret }));
    expect(wrongId.errcode).toBe(40013);
    expect(wrongId.api).toBe('stable_token');
    expect(wrongId.plain).toMatch(/AppID/);
    const wrongSecret = await rejection(c.accessToken(sim.url, { appid: creds.appid, secret: 'nope' }));
    expect(wrongSecret.errcode).toBe(40125);
    expect(wrongSecret.plain).toMatch(/AppSecret/);
    expect(wrongSecret.message).not.toContain('nope');
  });
});

describe('errors become typed WechatErrors', () => {
  it('45009 quota and -1 busy', async () => {
    const creds = newApp();
    const c = newClient();
    await sim.inject({ appid: creds.appid, api: 'getwxacodeunlimit', times: 1, errcode: 45009, errmsg: 'reach max api daily quota limit' });
    const quota = await rejection(c.getwxacodeunlimit(sim.url, creds, code('q')));
    expect(quota.errcode).toBe(45009);
    expect(quota.plain).toMatch(/quota/i);
    await sim.inject({ appid: creds.appid, api: 'jscode2session', times: 1, errcode: -1, errmsg: 'system error' });
    const busy = await rejection(c.jscode2session(sim.url, creds, await sim.issueCode(creds.appid, 'o1')));
    expect(busy.errcode).toBe(-1);
    expect(busy.plain).toMatch(/busy/);
    expect(busy.transient).toBe(true);
  });

  it('HTTP 5xx and a timeout', async () => {
    const creds = newApp();
    const c = newClient(300);
    await sim.inject({ appid: creds.appid, api: 'stable_token', times: 1, httpStatus: 502 });
    const http = await rejection(c.accessToken(sim.url, creds));
    expect(http.errcode).toBe(LOCAL.http);
    expect(http.errmsg).toBe('HTTP 502');
    await sim.inject({ appid: creds.appid, api: 'stable_token', times: 1, delayMs: 2_000 });
    const slow = await rejection(c.accessToken(sim.url, creds));
    expect(slow.errcode).toBe(LOCAL.timeout);
    expect(slow.transient).toBe(true);
    // The faults are used up: the next call works.
    expect(await c.accessToken(sim.url, creds)).toMatch(/\S{20,}/);
  });

  it('a fault for one AppID leaves another alone', async () => {
    const a = newApp();
    const b = newApp();
    const c = newClient();
    await sim.inject({ appid: a.appid, api: 'stable_token', times: 1, errcode: -1 });
    expect(await c.accessToken(sim.url, b)).toBeTruthy();
    expect((await rejection(c.accessToken(sim.url, a))).errcode).toBe(-1);
  });
});

describe('getwxacodeunlimit', () => {
  it('returns a PNG that encodes the phone URL for the scene', async () => {
    const creds = newApp();
    const img = await newClient().getwxacodeunlimit(sim.url, creds, code('Ab0-_.~', { width: 300 }));
    expect(img.contentType).toBe('image/png');
    expect(img.body.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    // QR rendering is deterministic: the same URL and options give the same bytes.
    const expected = await drawCode('https://login.example.com/sandbox/phone?scene=Ab0-_.~', 300);
    expect(img.body.equals(expected)).toBe(true);
  });

  it('rejects a bad scene, page or width with WeChat\'s errcodes', async () => {
    const creds = newApp();
    const c = newClient();
    expect((await rejection(c.getwxacodeunlimit(sim.url, creds, code('x'.repeat(33))))).errcode).toBe(40169);
    expect((await rejection(c.getwxacodeunlimit(sim.url, creds, code('')))).errcode).toBe(40169);
    const charset = await rejection(c.getwxacodeunlimit(sim.url, creds, code('has space')));
    expect(charset.errcode).toBe(40129);
    expect(charset.plain).toMatch(/characters/);
    const leading = await rejection(c.getwxacodeunlimit(sim.url, creds, code('s', { page: `/${PAGE}` })));
    expect(leading.errcode).toBe(41030);
    expect(leading.plain).toMatch(/page/);
    expect((await rejection(c.getwxacodeunlimit(sim.url, creds, code('s', { page: 'pages/unpublished' })))).errcode).toBe(41030);
    // check_path false (trial/develop versions) accepts a page that isn't published yet.
    expect((await c.getwxacodeunlimit(sim.url, creds, code('s', { page: 'pages/unpublished', checkPath: false }))).contentType).toBe('image/png');
    expect((await rejection(c.getwxacodeunlimit(sim.url, creds, code('s', { width: 100 })))).errcode).toBe(40097);
    expect((await rejection(c.getwxacodeunlimit(sim.url, creds, code('s', { width: 1281 })))).errcode).toBe(40097);
  });
});

describe('jscode2session', () => {
  it('gives the openid (never session_key); a code works once', async () => {
    const creds = newApp();
    const c = newClient();
    const wxCode = await sim.issueCode(creds.appid, 'openid-1', 'union-1');
    const r = await c.jscode2session(sim.url, creds, wxCode);
    expect(r).toEqual({ openid: 'openid-1', unionid: 'union-1' });
    expect(JSON.stringify(r)).not.toContain('session_key');
    const again = await rejection(c.jscode2session(sim.url, creds, wxCode));
    expect(again.errcode).toBe(40163);
    expect(again.plain).toMatch(/already used/);
  });

  it('refuses unknown codes, codes of another AppID and codes older than 5 minutes', async () => {
    const creds = newApp();
    const other = newApp();
    const c = newClient();
    expect((await rejection(c.jscode2session(sim.url, creds, 'not-a-real-code'))).errcode).toBe(40029);
    const otherCode = await sim.issueCode(other.appid, 'openid-2');
    expect((await rejection(c.jscode2session(sim.url, creds, otherCode))).errcode).toBe(40029);
    const fresh = await sim.issueCode(creds.appid, 'openid-3');
    const stale = await sim.issueCode(creds.appid, 'openid-4');
    sim.advanceClock(299_000);
    expect((await c.jscode2session(sim.url, creds, fresh)).openid).toBe('openid-3');
    sim.advanceClock(2_000);
    const expired = await rejection(c.jscode2session(sim.url, creds, stale));
    expect(expired.errcode).toBe(40029);
    expect(expired.plain).toMatch(/invalid or expired/);
  });
});

describe('generate_urllink', () => {
  it('returns a wxaurl.cn link', async () => {
    const creds = newApp();
    const link = await newClient().generateUrlLink(sim.url, creds, { page: PAGE, query: 'scene=abc', envVersion: 'release' });
    expect(link).toMatch(/^https:\/\/wxaurl\.cn\/\w+$/);
    const bad = await rejection(newClient().generateUrlLink(sim.url, creds, { page: 'pages/nope', query: '', envVersion: 'release' }));
    expect(bad.errcode).toBe(40165);
    expect((await rejection(newClient().generateUrlLink(sim.url, creds, { page: PAGE, query: 'scene=a b', envVersion: 'release' }))).errcode).toBe(40212);
    expect((await rejection(newClient().generateUrlLink(sim.url, creds, { page: PAGE, query: 'scene=a', envVersion: 'beta' as 'release' }))).errcode).toBe(85402);
  });
});
