import { createHash, randomBytes } from 'node:crypto';
import type { RedisClient } from '../../lib/redis';
import { WechatError, LOCAL } from './errors';
import { readWechatJson, wechatRequest } from './http';

export interface WechatCredentials {
  appid: string;
  secret: string;
}

export interface TokenCacheDeps {
  redis: RedisClient;
  key(...parts: string[]): string;
  timeoutMs: number;
  /** force_refresh budget per AppID; default WeChat's own (20 a day, 30 s apart). */
  forceBudget?: ForceBudget;
}

export interface ForceBudget {
  perDay: number;
  gapMs: number;
}

/** Refresh this long before WeChat's expiry, so a token is never used in its last minutes. */
const MARGIN_S = 300;
const LOCK_MS = 15_000;
const WAIT_STEP_MS = 50;
/** WeChat's own limits on force_refresh: 20 a day per AppID, at least 30 s apart. */
const WECHAT_FORCE_BUDGET: ForceBudget = { perDay: 20, gapMs: 30_000 };
/** WeChat's day is Beijing's (UTC+8). */
const CHINA_OFFSET_MS = 8 * 3_600_000;

// KEYS[1] = key; ARGV[1] = expected value. Deletes the key only while it still holds that value.
const DEL_IF_EQUAL = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stable access tokens, cached per AppID in Redis and shared by every instance. One instance
 * refreshes under a lock while the others wait for the cache; normal-mode stable_token is
 * idempotent, so even a lost race never invalidates anyone's token.
 */
export function createTokenCache(deps: TokenCacheDeps) {
  const { redis } = deps;
  const budget = deps.forceBudget ?? WECHAT_FORCE_BUDGET;
  // The base is part of the key: a sandbox and a live API never share a cache entry.
  const keys = (base: string, appid: string) => {
    const tag = createHash('sha256').update(base).digest('hex').slice(0, 8);
    const k = deps.key('wechat', 'token', `{${appid}:${tag}}`);
    const day = new Date(Date.now() + CHINA_OFFSET_MS).toISOString().slice(0, 10);
    return { token: k, lock: `${k}:lock`, forceGap: `${k}:force-gap`, forceDay: `${k}:force-day:${day}` };
  };

  async function fetchToken(base: string, creds: WechatCredentials, force: boolean): Promise<{ token: string; ttlMs: number }> {
    const res = await wechatRequest('stable_token', `${base}/cgi-bin/stable_token`, {
      method: 'POST',
      json: { grant_type: 'client_credential', appid: creds.appid, secret: creds.secret, force_refresh: force },
      timeoutMs: deps.timeoutMs,
    });
    const body = readWechatJson('stable_token', res);
    const token = body.access_token;
    const expiresIn = body.expires_in;
    if (typeof token !== 'string' || !token || typeof expiresIn !== 'number') {
      throw new WechatError('stable_token', LOCAL.badResponse, 'no access_token in the answer');
    }
    // A token handed out near its end is cached for half of what is left rather than not at all.
    const ttlMs = (expiresIn > MARGIN_S * 2 ? expiresIn - MARGIN_S : Math.max(expiresIn / 2, 1)) * 1000;
    return { token, ttlMs };
  }

  async function refresh(base: string, creds: WechatCredentials, force: boolean): Promise<string> {
    const k = keys(base, creds.appid);
    const { token, ttlMs } = await fetchToken(base, creds, force);
    await redis.set(k.token, token, 'PX', Math.ceil(ttlMs));
    return token;
  }

  return {
    async get(base: string, creds: WechatCredentials): Promise<string> {
      const k = keys(base, creds.appid);
      const deadline = Date.now() + LOCK_MS;
      while (Date.now() < deadline) {
        const cached = await redis.get(k.token);
        if (cached) return cached;
        const owner = randomBytes(8).toString('hex');
        if ((await redis.set(k.lock, owner, 'PX', LOCK_MS, 'NX')) === 'OK') {
          try {
            return await refresh(base, creds, false);
          } finally {
            await redis.eval(DEL_IF_EQUAL, 1, k.lock, owner);
          }
        }
        await sleep(WAIT_STEP_MS);
      }
      // The lock holder is stuck; normal mode is idempotent, so asking ourselves is safe.
      return refresh(base, creds, false);
    },

    /** Forget a token WeChat rejected, unless someone already replaced it. */
    async drop(base: string, creds: WechatCredentials, token: string): Promise<void> {
      await redis.eval(DEL_IF_EQUAL, 1, keys(base, creds.appid).token, token);
    },

    /**
     * force_refresh, within the budget every instance shares in Redis; null when the budget says
     * no. It invalidates the token the tenant's own servers hold too, so it is the last resort.
     */
    async force(base: string, creds: WechatCredentials): Promise<string | null> {
      const k = keys(base, creds.appid);
      if ((await redis.set(k.forceGap, '1', 'PX', budget.gapMs, 'NX')) !== 'OK') return null;
      const res = (await redis.multi().incr(k.forceDay).expire(k.forceDay, 2 * 86_400).exec()) ?? [];
      if (Number(res[0]?.[1]) > budget.perDay) return null;
      return refresh(base, creds, true);
    },
  };
}

export type TokenCache = ReturnType<typeof createTokenCache>;
