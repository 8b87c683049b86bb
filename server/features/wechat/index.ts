import type { Core, Feature } from '../../core';
import type { KeyMode } from '../../lib/ids';
import type { AppsStore } from '../apps/store';
import { createWechatClient } from './client';
import { LOCAL, WechatError } from './errors';
import { createWechatGateway, type WechatGateway } from './gateway';
import { createWechatCall, createWechatProcessor, WECHAT_QUEUE } from './jobs';
import { createAppIdLimiter } from './limiter';
import type { SandboxPort } from './ports';

export { WechatError } from './errors';
export type { AppRef, VerifyResult, VerifyCheck, WechatGateway } from './gateway';
export type { SandboxPort } from './ports';

export interface WechatFeatureOptions {
  apps: Pick<AppsStore, 'getApp' | 'getWechatSecret'>;
  /** Test mode's WeChat: the sandbox feature's simulator. */
  sandbox: SandboxPort;
  /** Codes per minute per WeChat AppID (WeChat's own limit is 5,000). */
  codesPerMinute?: number;
  /** URL Links per day per WeChat AppID; default config.urlLinksPerDay. */
  urlLinksPerDay?: number;
  /** Per HTTP request to WeChat. */
  requestTimeoutMs?: number;
  /** How long a caller waits for the worker's answer. */
  waitMs?: number;
  workerConcurrency?: number;
}

export function createWechatFeature(core: Core, opts: WechatFeatureOptions): {
  feature: Feature;
  gateway: WechatGateway;
} {
  const { config } = core;
  const { sandbox } = opts;
  const client = createWechatClient({
    redis: core.redis.client,
    key: core.key,
    metrics: core.metrics,
    timeoutMs: opts.requestTimeoutMs ?? 5_000,
  });

  async function credentials(appId: string, mode: KeyMode) {
    if (mode === 'test') return sandbox.credentials(appId);
    const app = await opts.apps.getApp(appId);
    if (!app) throw new WechatError('credentials', LOCAL.appNotFound, 'app not found');
    const secret = app.wechatAppId ? await opts.apps.getWechatSecret(appId) : null;
    if (!app.wechatAppId || !secret) throw new WechatError('credentials', LOCAL.noCredentials, 'no live WeChat credentials');
    return { base: config.wechatApiBase, creds: { appid: app.wechatAppId, secret } };
  }

  /** The phone's wx.login in the sandbox: a test control, not a WeChat API call. */
  async function sandboxPhoneCode(appId: string, openid: string): Promise<string> {
    const r = await sandbox.phoneCode(appId, openid);
    if (!r.ok) throw new WechatError('jscode2session', r.errcode, r.errmsg);
    return r.code;
  }

  const outcomeKey = (jobId: string) => core.key('wechat', 'outcome', jobId);
  const codesPerMinute = opts.codesPerMinute ?? config.wechatCodesPerMinute;
  const codeLimiter = createAppIdLimiter({
    redis: core.redis.client,
    keyPrefix: core.key('wechat', 'rl'),
    points: codesPerMinute,
    windowSeconds: 60,
    plain: (wait) => `Too many mini-program codes for this AppID (at most ${codesPerMinute} a minute); try again in ${wait} s`,
  });
  // Every phone visitor of a site may cost a link, and WeChat allows a mini-program 500,000 a day
  // (URL Links and Schemes together, the tenant's own included): a budget keeps visitors with a
  // phone user agent from spending them all. When it is spent, phones get the save-image hint.
  const urlLinksPerDay = opts.urlLinksPerDay ?? config.urlLinksPerDay;
  const urlLinkLimiter = createAppIdLimiter({
    redis: core.redis.client,
    keyPrefix: core.key('wechat', 'urllink-day'),
    points: urlLinksPerDay,
    windowSeconds: 86_400,
    plain: (wait) => `This AppID's URL Links for today (${urlLinksPerDay}) are used up; phone visitors get the save-the-code hint for ${Math.ceil(wait / 3600)} h more`,
  });

  const call = createWechatCall({ client, credentials });
  const direct = config.wechatCalls === 'direct';
  const replyChannel = (instanceId: string) => core.key('wechat', 'done', instanceId);
  const gateway = createWechatGateway({
    jobs: core.jobs,
    redis: core.redis.client,
    subscriber: () => core.redis.duplicate(),
    instanceId: core.instanceId,
    replyChannel,
    apps: opts.apps,
    outcomeKey,
    limit: (api, wechatAppId) => (api === 'generate_urllink' ? urlLinkLimiter : codeLimiter).consume(api, wechatAppId),
    async wechatAppIdFor(ref) {
      if (ref.mode === 'test') return sandbox.appIdFor(ref.appId);
      // Apps sharing one mini-program share its quota; an app without one is refused by the worker anyway.
      return (await opts.apps.getApp(ref.appId))?.wechatAppId ?? ref.appId;
    },
    sandboxPhoneCode,
    waitMs: opts.waitMs ?? 10_000,
    ...(direct ? { direct: call } : {}),
  });

  const feature: Feature = {
    name: 'wechat',
    async start() {
      // Subscribed before serving, so the first caller doesn't pay for it (workers and direct callers don't wait for jobs).
      if (config.role !== 'worker' && !direct) await gateway.listen();
      // Registered in both modes: jobs queued by instances set to `queued` still get done.
      core.jobs.worker(
        WECHAT_QUEUE,
        createWechatProcessor({
          call, redis: core.redis.client, logger: core.logger, outcomeKey, replyChannel,
          answerLocally: (caller, jobId, outcome) => caller === core.instanceId && gateway.settleLocally(jobId, outcome),
        }),
        { concurrency: opts.workerConcurrency ?? 50 },
      );
    },
  };

  return { feature, gateway };
}
