import type { RedisClient } from '../../lib/redis';
import type { EnvVersion } from '../../../contract/common.js';
import type { Metrics } from '../../lib/metrics';
import { LOCAL, WechatError, type WechatApi } from './errors';
import { readWechatJson, wechatRequest } from './http';
import { createTokenCache, type ForceBudget, type WechatCredentials } from './token-cache';

export type { WechatCredentials };
export type { EnvVersion };

export interface WechatClientDeps {
  redis: RedisClient;
  key(...parts: string[]): string;
  metrics?: Pick<Metrics, 'wechatCalls'>;
  /** Per HTTP request. */
  timeoutMs?: number;
  /** force_refresh budget per AppID, shared in Redis; default WeChat's (20 a day, 30 s apart). */
  forceBudget?: ForceBudget;
}

export interface CodeParams {
  scene: string;
  page: string;
  checkPath: boolean;
  envVersion: EnvVersion;
  width?: number;
}

export interface UrlLinkParams {
  page: string;
  query: string;
  envVersion: EnvVersion;
}

/**
 * The WeChat HTTP API, the same code for live mode (api.weixin.qq.com) and sandbox mode
 * (the simulator): only `base` differs, and the caller resolves it at call time.
 */
export function createWechatClient(deps: WechatClientDeps) {
  const timeoutMs = deps.timeoutMs ?? 5_000;
  const tokens = createTokenCache({ redis: deps.redis, key: deps.key, timeoutMs, forceBudget: deps.forceBudget });

  async function measured<T>(api: WechatApi, run: () => Promise<T>): Promise<T> {
    try {
      const v = await run();
      deps.metrics?.wechatCalls.inc({ api, outcome: 'ok' });
      return v;
    } catch (err) {
      deps.metrics?.wechatCalls.inc({ api, outcome: err instanceof WechatError ? String(err.errcode) : 'error' });
      throw err;
    }
  }

  /**
   * Runs a call that needs an access token. On 40001/42001 the cached token is dropped and the
   * call retried once with a token fetched in normal mode (which never disturbs anyone else's
   * token). force_refresh only when normal mode hands back the very token just rejected, and
   * only within the budget: it invalidates the token of every other holder, the tenant's own
   * servers included.
   */
  async function withToken<T>(base: string, creds: WechatCredentials, call: (token: string) => Promise<T>): Promise<T> {
    const token = await tokens.get(base, creds);
    try {
      return await call(token);
    } catch (err) {
      if (!(err instanceof WechatError) || (err.errcode !== 40001 && err.errcode !== 42001)) throw err;
      await tokens.drop(base, creds, token);
      let next = await tokens.get(base, creds);
      if (next === token) {
        await tokens.drop(base, creds, token);
        const forced = await tokens.force(base, creds);
        if (!forced) throw err;
        next = forced;
      }
      return call(next);
    }
  }

  return {
    accessToken: (base: string, creds: WechatCredentials) => measured('stable_token', () => tokens.get(base, creds)),

    getwxacodeunlimit(base: string, creds: WechatCredentials, p: CodeParams): Promise<{ contentType: string; body: Buffer }> {
      return measured('getwxacodeunlimit', () =>
        withToken(base, creds, async (token) => {
          const res = await wechatRequest('getwxacodeunlimit', `${base}/wxa/getwxacodeunlimit?access_token=${encodeURIComponent(token)}`, {
            method: 'POST',
            json: { scene: p.scene, page: p.page, check_path: p.checkPath, env_version: p.envVersion, width: p.width ?? 430 },
            timeoutMs,
          });
          // Success is the image itself; failure is JSON with HTTP 200, so the content type decides.
          if (res.contentType.startsWith('image/')) return { contentType: res.contentType, body: res.body };
          readWechatJson('getwxacodeunlimit', res);
          throw new WechatError('getwxacodeunlimit', LOCAL.badResponse, `expected an image, got ${res.contentType || 'no content type'}`);
        }),
      );
    },

    /** openid (and unionid when bound). session_key is dropped here: never stored, logged or returned. */
    jscode2session(base: string, creds: WechatCredentials, code: string): Promise<{ openid: string; unionid?: string }> {
      return measured('jscode2session', async () => {
        const q = new URLSearchParams({ appid: creds.appid, secret: creds.secret, js_code: code, grant_type: 'authorization_code' });
        const res = await wechatRequest('jscode2session', `${base}/sns/jscode2session?${q}`, { method: 'GET', timeoutMs });
        const body = readWechatJson('jscode2session', res);
        // Success may omit errcode: an openid is what makes it a success.
        if (typeof body.openid !== 'string' || !body.openid) throw new WechatError('jscode2session', LOCAL.badResponse, 'no openid in the answer');
        return typeof body.unionid === 'string' && body.unionid ? { openid: body.openid, unionid: body.unionid } : { openid: body.openid };
      });
    },

    generateUrlLink(base: string, creds: WechatCredentials, p: UrlLinkParams): Promise<string> {
      return measured('generate_urllink', () =>
        withToken(base, creds, async (token) => {
          const res = await wechatRequest('generate_urllink', `${base}/wxa/generate_urllink?access_token=${encodeURIComponent(token)}`, {
            method: 'POST',
            // The shortest validity WeChat offers (1 day); our session expiry is what really bounds it.
            json: { path: p.page, query: p.query, env_version: p.envVersion, expire_type: 1, expire_interval: 1 },
            timeoutMs,
          });
          const body = readWechatJson('generate_urllink', res);
          if (typeof body.url_link !== 'string' || !body.url_link) throw new WechatError('generate_urllink', LOCAL.badResponse, 'no url_link in the answer');
          return body.url_link;
        }),
      );
    },
  };
}

export type WechatClient = ReturnType<typeof createWechatClient>;
