import type { RedisClient } from '../../lib/redis';
import { UnavailableError } from '../../lib/errors';
import type { Jobs } from '../../lib/jobs';
import { randomBase64url, type KeyMode } from '../../lib/ids';
import type { AppsStore } from '../apps/store';
import type { AppRef } from '../../../contract/common.js';
import type { CodeParams, EnvVersion } from './client';
import { LOCAL, WechatError, type WechatApi } from './errors';
import { WECHAT_QUEUE, type JobOutcome, type WechatJobData, type WechatJobName } from './jobs';

export type { AppRef };

export interface VerifyCheck {
  /** `url_link` is optional: without it phone visitors get a save-the-code hint, and logins still work. */
  name: 'credentials' | 'access_token' | 'code' | 'url_link';
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
  jobs: Pick<Jobs, 'queue' | 'runsWorkers' | 'workersAlive'>;
  redis: RedisClient;
  /** A connection of its own for this process's outcome channel; asked for once, on first need. */
  subscriber(): RedisClient;
  /** This process: workers publish the outcome of its jobs on `replyChannel(instanceId)`. */
  instanceId: string;
  replyChannel(instanceId: string): string;
  apps: Pick<AppsStore, 'getApp'>;
  outcomeKey(jobId: string): string;
  /** Throws a quota WechatError when this AppID is over its budget for this API (codes a minute, URL Links a day). */
  limit(api: WechatApi, wechatAppId: string): Promise<void>;
  wechatAppIdFor(ref: AppRef): Promise<string>;
  sandboxPhoneCode(appId: string, openid: string): Promise<string>;
  /**
   * How long a caller waits for a worker before giving up with a retryable 503: well under the
   * phone's own 15 s wx.request timeout, so the phone hears our answer rather than its own.
   */
  waitMs: number;
}

/** An API-only process trusts a "some worker is alive" answer this long before asking Redis again. */
const WORKERS_SEEN_CACHE_MS = 1_000;

/**
 * Every WeChat call runs as a BullMQ job, so API instances never hold WeChat connections and
 * calls survive being spread over worker processes; the caller awaits the outcome.
 *
 * The worker publishes the outcome on the calling instance's own channel (and leaves it under
 * the outcome key too). A channel per instance instead of BullMQ's QueueEvents: QueueEvents
 * makes every instance read and parse every event of every job from a Redis stream, several
 * per call, to find the one it waits for. Pub/sub is at most once, so a caller that hears
 * nothing (its subscriber was reconnecting) reads the key before giving up.
 */
export function createWechatGateway(deps: GatewayDeps): WechatGateway & {
  listen(): Promise<void>;
  /**
   * A worker in this very process answering one of this process's calls: settled in memory,
   * with no key and no message (both are only there to cross processes). False when nobody
   * here waits for the job any more (the caller gave up and took the job back).
   */
  settleLocally(jobId: string, outcome: JobOutcome): boolean;
} {
  let queueReady = false;
  let workersSeen: { at: number; alive: boolean } | undefined;

  /** With no worker process alive, waiting would only end in the timeout: say so at once. */
  async function requireWorker(): Promise<void> {
    if (deps.jobs.runsWorkers) return;
    if (!workersSeen || Date.now() - workersSeen.at > WORKERS_SEEN_CACHE_MS) {
      workersSeen = { at: Date.now(), alive: (await deps.jobs.workersAlive()) > 0 };
    }
    if (!workersSeen.alive) throw new UnavailableError('No worker is running to call WeChat right now; try again in a few seconds', 5);
  }

  /** Callers waiting for an outcome, by job id; `null` = stop waiting, look at the key. */
  const waiting = new Map<string, (outcome: JobOutcome | null) => void>();
  let listening: Promise<void> | undefined;

  function settleFromMessage(message: string) {
    const at = message.indexOf(' ');
    const settle = at > 0 ? waiting.get(message.slice(0, at)) : undefined;
    // Not waited for (any more): the caller timed out and read the key, or the job is another process's.
    if (!settle) return;
    let outcome: JobOutcome;
    try {
      outcome = JSON.parse(message.slice(at + 1)) as JobOutcome;
    } catch {
      return;
    }
    settle(outcome);
  }

  function listen(): Promise<void> {
    if (!listening) {
      const own = deps.replyChannel(deps.instanceId);
      const sub = deps.subscriber();
      let readyBefore = false;
      sub.on('message', (channel: string, message: string) => {
        if (channel === own) settleFromMessage(message);
      });
      // Messages published while the subscriber was reconnecting are lost: stop waiting for
      // them and let each caller read its outcome key (or keep timing out if there is none).
      sub.on('ready', () => {
        if (readyBefore) for (const [jobId, settle] of waiting) void recheck(jobId, settle);
        readyBefore = true;
      });
      listening = sub.subscribe(own).then(() => undefined);
      listening.catch(() => (listening = undefined));
    }
    return listening;
  }

  async function recheck(jobId: string, settle: (o: JobOutcome | null) => void) {
    try {
      const raw = await deps.redis.get(deps.outcomeKey(jobId));
      if (raw) settle(JSON.parse(raw) as JobOutcome);
    } catch {
      // Still waiting: the timeout reads the key again.
    }
  }

  function unwrap(outcome: JobOutcome): Extract<JobOutcome, { ok: true }>['value'] {
    if (outcome.ok) return outcome.value;
    const e = outcome.error;
    throw new WechatError(e.api, e.errcode, e.errmsg, e.plain);
  }

  async function run<N extends WechatJobName>(name: N, data: WechatJobData<N>): Promise<Extract<JobOutcome, { ok: true }>['value']> {
    await requireWorker();
    await listen();
    const queue = deps.jobs.queue(WECHAT_QUEUE);
    if (!queueReady) {
      // Hundreds of calls in flight at once are normal here.
      queue.setMaxListeners(0);
      queueReady = true;
    }
    const jobId = randomBase64url(12);
    const key = deps.outcomeKey(jobId);
    let timer: NodeJS.Timeout | undefined;
    // Registered before the job exists: a fast worker may answer before `add` returns.
    const answer = new Promise<JobOutcome | null>((resolve) => {
      waiting.set(jobId, (outcome) => {
        if (!waiting.delete(jobId)) return;
        clearTimeout(timer);
        resolve(outcome);
      });
    });
    let job: Awaited<ReturnType<typeof queue.add>>;
    try {
      job = await queue.add(name, { ...data, caller: deps.instanceId }, { jobId, attempts: 1, removeOnComplete: true, removeOnFail: true });
    } catch (err) {
      waiting.delete(jobId);
      throw err;
    }
    if (waiting.has(jobId)) timer = setTimeout(() => waiting.get(jobId)?.(null), deps.waitMs);
    const heard = await answer;
    if (heard) {
      // The key is only the fallback. An image is dropped at once; a small answer (the openid of
      // every scan) just expires, which saves a round trip per scan.
      if (heard.ok && 'body' in heard.value) deps.redis.del(key).catch(() => {});
      return unwrap(heard);
    }
    const raw = await deps.redis.get(key);
    if (raw) {
      await deps.redis.del(key);
      return unwrap(JSON.parse(raw) as JobOutcome);
    }
    // Nobody picked it up in time: take it back so a late worker doesn't spend a one-time code.
    await job.remove().catch(() => {});
    workersSeen = undefined;
    throw new UnavailableError(`WeChat calls are not being answered in time (${deps.waitMs / 1000} s); try again shortly`, 2);
  }

  async function getCode(ref: AppRef, p: CodeParams) {
    await deps.limit('getwxacodeunlimit', await deps.wechatAppIdFor(ref));
    const v = await run('getwxacodeunlimit', { ...ref, ...p });
    if (!('contentType' in v)) throw new WechatError('queue', LOCAL.badResponse, 'unexpected job result');
    return { contentType: v.contentType, body: Buffer.from(v.body, 'base64') };
  }

  async function generateUrlLink(ref: AppRef, p: { page: string; query: string; envVersion: EnvVersion }): Promise<string> {
    await deps.limit('generate_urllink', await deps.wechatAppIdFor(ref));
    const v = await run('generate_urllink', { ...ref, ...p });
    if (!('url' in v)) throw new WechatError('queue', LOCAL.badResponse, 'unexpected job result');
    return v.url;
  }

  return {
    listen,
    getCode,
    settleLocally(jobId, outcome) {
      const settle = waiting.get(jobId);
      if (!settle) return false;
      settle(outcome);
      return true;
    },

    async code2Session(ref, code) {
      const v = await run('jscode2session', { ...ref, code });
      if (!('openid' in v)) throw new WechatError('queue', LOCAL.badResponse, 'unexpected job result');
      return v.unionid ? { openid: v.openid, unionid: v.unionid } : { openid: v.openid };
    },

    generateUrlLink,

    async verifyApp(ref) {
      const app = await deps.apps.getApp(ref.appId);
      if (!app) {
        return { ok: false, mode: ref.mode, wechatAppId: null, page: null, checks: [{ name: 'credentials', ok: false, message: 'This app does not exist' }] };
      }
      const wechatAppId = ref.mode === 'live' ? app.wechatAppId : await deps.wechatAppIdFor(ref);
      const base = { mode: ref.mode, wechatAppId, page: app.mpPage };
      try {
        await getCode(ref, { scene: 'verify', page: app.mpPage, checkPath: app.checkPath, envVersion: app.envVersion });
      } catch (err) {
        if (!(err instanceof WechatError)) throw err;
        const failed: VerifyCheck = { name: 'code', ok: false, errcode: err.errcode, errmsg: err.errmsg, message: err.plain };
        const checks: VerifyCheck[] =
          err.api === 'credentials' ? [{ ...failed, name: 'credentials' }]
          : err.api === 'stable_token' ? [{ name: 'credentials', ok: true }, { ...failed, name: 'access_token' }]
          : [{ name: 'credentials', ok: true }, { name: 'access_token', ok: true }, failed];
        return { ok: false, ...base, checks };
      }
      // WeChat makes URL Links only for published mini-programs of verified organisations: asking
      // is the only way to know, and the answer decides whether phone visitors get one. Optional:
      // a refusal doesn't fail the verification.
      const urlLink = await generateUrlLink(ref, { page: app.mpPage, query: 'scene=verify', envVersion: app.envVersion }).then(
        (): VerifyCheck => ({ name: 'url_link', ok: true }),
        (err: unknown): VerifyCheck => {
          if (!(err instanceof WechatError)) throw err;
          return { name: 'url_link', ok: false, errcode: err.errcode, errmsg: err.errmsg, message: err.plain };
        },
      );
      return { ok: true, ...base, checks: [{ name: 'credentials', ok: true }, { name: 'access_token', ok: true }, { name: 'code', ok: true }, urlLink] };
    },

    sandboxPhoneCode: (appId, openid) => deps.sandboxPhoneCode(appId, openid),
  };
}
