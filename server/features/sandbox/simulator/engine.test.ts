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

  it('force_refresh issues a new token, keeps the old one 30 s, and is limited to once per 30 s and 20 a day', async () => {
    const { token, use, advance } = setup();
    const old = ((await token()) as { access_token: string }).access_token;
    const fresh = ((await token(true)) as { access_token: string }).access_token;
    expect(fresh).not.toBe(old);
    expect(await use(old)).toBe(0);
    expect(await use(fresh)).toBe(0);
    expect(((await token(true)) as { errcode: number }).errcode).toBe(45009);
    advance(30_000);
    expect(await use(old)).toBe(40001);
    let granted = 1;
    for (let i = 0; i < 25; i++) {
      if ('access_token' in (await token(true))) granted += 1;
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
});
