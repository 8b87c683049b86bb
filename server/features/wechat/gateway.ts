import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Jobs } from '../../lib/jobs';
import type { KeyMode } from '../../lib/ids';
import type { AppsStore } from '../apps/store';
import type { CodeParams, EnvVersion } from './client';
import { deserializeWechatError, LOCAL, WechatError, type WechatApi } from './errors';
import { WECHAT_QUEUE, type JobOutcome, type WechatJobData, type WechatJobName } from './jobs';

export interface AppRef {
  appId: string;
  mode: KeyMode;
}

export interface VerifyCheck {
  name: 'credentials' | 'access_token' | 'code';
  ok: boolean;
  errcode?: number;
  /** WeChat's own words (for 40164 it names the IP to whitelist). */
  errmsg?: string;
  /** Plain words for the tenant. */
  message?: string;
}

/** The console's "Verify": each step up to the first that fails, in plain words. */
export interface VerifyResult {
  ok: boolean;
  mode: KeyMode;
  wechatAppId: string | null;
  page: string | null;
  checks: VerifyCheck[];
}

export interface WechatGateway {
  getCode(ref: AppRef, p: CodeParams): Promise<{ contentType: string; body: Buffer }>;
  code2Session(ref: AppRef, code: string): Promise<{ openid: string; unionid?: string }>;
  generateUrlLink(ref: AppRef, p: { page: string; query: string; envVersion: EnvVersion }): Promise<string>;
  verifyApp(ref: AppRef): Promise<VerifyResult>;
  sandboxPhoneCode(appId: string, openid: string): Promise<string>;
}

export interface GatewayDeps {
  jobs: Pick<Jobs, 'queue' | 'events'>;
  redis: Redis;
  apps: Pick<AppsStore, 'getApp'>;
  outcomeKey(jobId: string): string;
  /** Throws a quota WechatError when this AppID is over its per-minute budget. */
  limit(api: WechatApi, wechatAppId: string): Promise<void>;
  wechatAppIdFor(ref: AppRef): Promise<string>;
  sandboxPhoneCode(appId: string, openid: string): Promise<string>;
  /** How long a caller waits for a worker before giving up. */
  waitMs: number;
}

/**
 * Every WeChat call runs as a BullMQ job, so API instances never hold WeChat connections and
 * calls survive being spread over worker processes; the caller awaits the outcome.
 */
export function createWechatGateway(deps: GatewayDeps): WechatGateway {
  let eventsReady = false;

  async function run<N extends WechatJobName>(name: N, data: WechatJobData<N>): Promise<Extract<JobOutcome, { ok: true }>['value']> {
    const queue = deps.jobs.queue(WECHAT_QUEUE);
    const events = deps.jobs.events(WECHAT_QUEUE);
    if (!eventsReady) {
      // Each waiting caller adds listeners (to both); hundreds at once are normal here.
      events.setMaxListeners(0);
      queue.setMaxListeners(0);
      eventsReady = true;
    }
    const jobId = randomBytes(12).toString('base64url');
    const job = await queue.add(name, data, { jobId, attempts: 1, removeOnComplete: true, removeOnFail: true });
    let waitError: Error | undefined;
    try {
      await job.waitUntilFinished(events, deps.waitMs);
    } catch (err) {
      waitError = err as Error;
    }
    // The worker leaves the outcome in Redis before finishing, so a missed event costs nothing.
    const key = deps.outcomeKey(jobId);
    const raw = await deps.redis.get(key);
    if (raw) {
      await deps.redis.del(key);
      const outcome = JSON.parse(raw) as JobOutcome;
      if (outcome.ok) return outcome.value;
      const e = outcome.error;
      throw new WechatError(e.api, e.errcode, e.errmsg, e.plain);
    }
    const fromReason = waitError ? deserializeWechatError(waitError.message) : null;
    if (fromReason) throw fromReason;
    // Nobody picked it up in time: take it back so a late worker doesn't spend a one-time code.
    await job.remove().catch(() => {});
    throw new WechatError(name, LOCAL.timeout, `no worker finished the call within ${deps.waitMs} ms`);
  }

  async function getCode(ref: AppRef, p: CodeParams) {
    await deps.limit('getwxacodeunlimit', await deps.wechatAppIdFor(ref));
    const v = await run('getwxacodeunlimit', { ...ref, ...p });
    if (!('contentType' in v)) throw new WechatError('queue', LOCAL.badResponse, 'unexpected job result');
    return { contentType: v.contentType, body: Buffer.from(v.body, 'base64') };
  }

  return {
    getCode,

    async code2Session(ref, code) {
      const v = await run('jscode2session', { ...ref, code });
      if (!('openid' in v)) throw new WechatError('queue', LOCAL.badResponse, 'unexpected job result');
      return v.unionid ? { openid: v.openid, unionid: v.unionid } : { openid: v.openid };
    },

    async generateUrlLink(ref, p) {
      const v = await run('generate_urllink', { ...ref, ...p });
      if (!('url' in v)) throw new WechatError('queue', LOCAL.badResponse, 'unexpected job result');
      return v.url;
    },

    async verifyApp(ref) {
      const app = await deps.apps.getApp(ref.appId);
      if (!app) {
        return { ok: false, mode: ref.mode, wechatAppId: null, page: null, checks: [{ name: 'credentials', ok: false, message: 'This app does not exist' }] };
      }
      const wechatAppId = ref.mode === 'live' ? app.wechatAppId : await deps.wechatAppIdFor(ref);
      const base = { mode: ref.mode, wechatAppId, page: app.mpPage };
      try {
        await getCode(ref, { scene: 'verify', page: app.mpPage, checkPath: app.checkPath, envVersion: app.envVersion });
        return { ok: true, ...base, checks: [{ name: 'credentials', ok: true }, { name: 'access_token', ok: true }, { name: 'code', ok: true }] };
      } catch (err) {
        if (!(err instanceof WechatError)) throw err;
        const failed: VerifyCheck = { name: 'code', ok: false, errcode: err.errcode, errmsg: err.errmsg, message: err.plain };
        const checks: VerifyCheck[] =
          err.api === 'credentials' ? [{ ...failed, name: 'credentials' }]
          : err.api === 'stable_token' ? [{ name: 'credentials', ok: true }, { ...failed, name: 'access_token' }]
          : [{ name: 'credentials', ok: true }, { name: 'access_token', ok: true }, failed];
        return { ok: false, ...base, checks };
      }
    },

    sandboxPhoneCode: (appId, openid) => deps.sandboxPhoneCode(appId, openid),
  };
}
