import { describe, expect, it } from 'vitest';
import { createEngine } from './engine';
import { memoryKv } from './kv';

/** WeChat's stable_token rules, on the engine with an in-memory store and a clock we move by hand. */
function setup() {
  let now = Date.UTC(2026, 0, 1, 8);
  const engine = createEngine({
    kv: memoryKv(),
    resolveApp: async (appid) => (appid === 'wxapp' ? { secret: 's3cret', pages: null } : null),
    phoneBaseUrl: () => 'http://x',
    now: () => now,
  });
  const token = async (force = false) => {
    const r = await engine.stableToken({ grant_type: 'client_credential', appid: 'wxapp', secret: 's3cret', force_refresh: force });
    return r.ok ? r.value : r.error;
  };
  const use = async (t: string) => {
    const r = await engine.generateUrlLink(t, {});
    return r.ok ? 0 : r.error.errcode;
  };
  return { engine, token, use, advance: (ms: number) => (now += ms) };
}

describe('simulated stable_token', () => {
  it('normal mode gives every caller the same token until it nears expiry', async () => {
    const { token, advance } = setup();
    const a = (await token()) as { access_token: string; expires_in: number };
    expect(a.expires_in).toBe(7200);
    advance(3_600_000);
    const b = (await token()) as { access_token: string; expires_in: number };
    expect(b.access_token).toBe(a.access_token);
    expect(b.expires_in).toBe(3600);
    advance(3_400_000);
    const c = (await token()) as { access_token: string };
    expect(c.access_token).not.toBe(a.access_token);
  });

  it('force_refresh invalidates the old token at once, does not refresh again within 30 s, and is limited to 20 a day', async () => {
    const { token, use, advance } = setup();
    const old = ((await token()) as { access_token: string }).access_token;
    const fresh = ((await token(true)) as { access_token: string }).access_token;
    expect(fresh).not.toBe(old);
    expect(await use(old)).toBe(40001);
    expect(await use(fresh)).toBe(0);
    // Within 30 s WeChat "does not refresh": the same token comes back, no error.
    expect(((await token(true)) as { access_token: string }).access_token).toBe(fresh);
    advance(30_000);
    let granted = 1;
    let last = fresh;
    for (let i = 0; i < 25; i++) {
      const r = await token(true);
      if ('access_token' in r && r.access_token !== last) {
        granted += 1;
        last = r.access_token;
      }
      advance(30_000);
    }
    expect(granted).toBe(20);
    // A new day, a new budget.
    advance(86_400_000);
    expect('access_token' in (await token(true))).toBe(true);
  });

  it('names what is wrong with the request', async () => {
    const { engine } = setup();
    const call = async (body: Record<string, unknown>) => {
      const r = await engine.stableToken(body);
      return r.ok ? 0 : r.error.errcode;
    };
    expect(await call({ grant_type: 'password', appid: 'wxapp', secret: 's3cret' })).toBe(40002);
    expect(await call({ grant_type: 'client_credential', secret: 's3cret' })).toBe(41002);
    expect(await call({ grant_type: 'client_credential', appid: 'wxapp' })).toBe(41004);
    expect(await call({ grant_type: 'client_credential', appid: 'wxother', secret: 's3cret' })).toBe(40013);
    expect(await call({ grant_type: 'client_credential', appid: 'wxapp', secret: 'nope' })).toBe(40125);
    expect(await engine.generateUrlLink(undefined, {})).toMatchObject({ ok: false, error: { errcode: 41001 } });
    expect(await engine.generateUrlLink('made-up', {})).toMatchObject({ ok: false, error: { errcode: 40001 } });
  });

  it('can reject a token that normal mode still hands back, until a force_refresh', async () => {
    const { engine, token, use } = setup();
    const t = ((await token()) as { access_token: string }).access_token;
    expect(await engine.rejectCurrentToken('wxapp')).toBe(true);
    expect(await use(t)).toBe(40001);
    expect(((await token()) as { access_token: string }).access_token).toBe(t);
    const forced = ((await token(true)) as { access_token: string }).access_token;
    expect(forced).not.toBe(t);
    expect(await use(forced)).toBe(0);
  });

  it('checks the scene and the URL Link query as WeChat documents them', async () => {
    const { engine, token } = setup();
    const t = ((await token()) as { access_token: string }).access_token;
    const code = async (scene: unknown) => {
      const r = await engine.getwxacodeunlimit(t, { scene, page: 'pages/a' });
      return r.ok ? 0 : r.error.errcode;
    };
    expect(await code('')).toBe(40169);
    expect(await code(undefined)).toBe(40169);
    expect(await code('x'.repeat(33))).toBe(40169);
    expect(await code('a%b')).toBe(40129);
    expect(await code("a!#$&'()*+,/:;=?@-._~Z9")).toBe(0);
    const link = async (body: Record<string, unknown>) => {
      const r = await engine.generateUrlLink(t, body);
      return r.ok ? 0 : r.error.errcode;
    };
    expect(await link({ query: 'scene=a%20b' })).toBe(0);
    expect(await link({ query: 'scene=a b' })).toBe(40212);
    expect(await link({ env_version: 'beta' })).toBe(85402);
    expect(await link({ expire_type: 1, expire_interval: 31 })).toBe(85401);
    expect(await link({ expire_type: 1, expire_interval: 1 })).toBe(0);
  });
});
