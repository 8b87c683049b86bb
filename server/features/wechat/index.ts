import { Router, type Request } from 'express';
import type { Core, Feature } from '../../core';
import type { KeyMode } from '../../lib/ids';
import type { AppsStore } from '../apps/store';
import { sandboxAppId, sandboxSecret, SANDBOX_APPID_PATTERN } from '../sandbox/simulator/credentials';
import { redisKv } from '../sandbox/simulator/kv';
import { createEngine } from '../sandbox/simulator/engine';
import { createSimulatorRouter } from '../sandbox/simulator/router';
import { createWechatClient } from './client';
import { LOCAL, WechatError } from './errors';
import { createWechatGateway, type WechatGateway } from './gateway';
import { createWechatProcessor, WECHAT_QUEUE } from './jobs';
import { createAppIdLimiter } from './limiter';

export { WechatError } from './errors';
export type { AppRef, VerifyResult, VerifyCheck, WechatGateway } from './gateway';
export { sandboxAppId } from '../sandbox/simulator/credentials';

export interface WechatFeatureOptions {
  apps: Pick<AppsStore, 'getApp' | 'getWechatSecret' | 'resolveSecretKey'>;
  /** Codes per minute per WeChat AppID (WeChat's own limit is 5,000). */
  codesPerMinute?: number;
  /** Per HTTP request to WeChat. */
  requestTimeoutMs?: number;
  /** How long a caller waits for the worker's answer. */
  waitMs?: number;
  workerConcurrency?: number;
  /**
   * Require the app's test-mode secret key (Authorization: Bearer sk_test_…) on the mounted
   * simulator's fault and stats controls, so a tenant who learns another's app id (it is in
   * every token's issuer) can't disturb its sandbox. Default true; tests of the simulator's
   * appid scoping alone may turn it off.
   */
  sandboxControlsNeedKey?: boolean;
}

export function createWechatFeature(core: Core, opts: WechatFeatureOptions): {
  feature: Feature;
  gateway: WechatGateway;
  sandboxAppId(appId: string): string;
} {
  const { config } = core;
  const client = createWechatClient({
    redis: core.redis.client,
    key: core.key,
    metrics: core.metrics,
    timeoutMs: opts.requestTimeoutMs ?? 5_000,
  });

  // Read at call time: the port (and so localUrl / publicUrl) is only known after listen.
  const sandboxBase = () => config.sandboxWechatApiBase ?? `${core.localUrl ?? config.publicUrl}/sandbox/wechat`;

  async function credentials(appId: string, mode: KeyMode) {
    if (mode === 'test') {
      const appid = sandboxAppId(appId);
      return { base: sandboxBase(), creds: { appid, secret: sandboxSecret(config.masterKey, appid) } };
    }
    const app = await opts.apps.getApp(appId);
    if (!app) throw new WechatError('credentials', LOCAL.appNotFound, 'app not found');
    const secret = app.wechatAppId ? await opts.apps.getWechatSecret(appId) : null;
    if (!app.wechatAppId || !secret) throw new WechatError('credentials', LOCAL.noCredentials, 'no live WeChat credentials');
    return { base: config.wechatApiBase, creds: { appid: app.wechatAppId, secret } };
  }

  // The mounted simulator keeps its state in Redis, so an engine here sees what the router's does.
  const simOptions = {
    kv: redisKv(core.redis.client, (part: string) => core.key('sim', part)),
    async resolveApp(appid: string) {
      return SANDBOX_APPID_PATTERN.test(appid) ? { secret: sandboxSecret(config.masterKey, appid), pages: null } : null;
    },
    phoneBaseUrl: () => config.publicUrl,
  };
  const localSim = createEngine({ ...simOptions, now: Date.now });

  /**
   * The phone's wx.login in the sandbox. A test control, not a WeChat API call, so with the
   * simulator mounted here it is asked directly; an external simulator is asked over HTTP.
   */
  async function sandboxPhoneCode(appId: string, openid: string): Promise<string> {
    if (config.sandboxWechatApiBase) return client.sandboxLoginCode(config.sandboxWechatApiBase, sandboxAppId(appId), openid);
    const r = await localSim.issueCode(sandboxAppId(appId), openid);
    if (!r.ok) throw new WechatError('jscode2session', r.error.errcode, r.error.errmsg);
    return r.value;
  }

  const outcomeKey = (jobId: string) => core.key('wechat', 'outcome', jobId);
  const limiter = createAppIdLimiter({
    redis: core.redis.client,
    keyPrefix: core.key('wechat', 'rl'),
    pointsPerMinute: opts.codesPerMinute ?? 5_000,
  });

  const replyChannel = (instanceId: string) => core.key('wechat', 'done', instanceId);
  const gateway = createWechatGateway({
    jobs: core.jobs,
    redis: core.redis.client,
    subscriber: () => core.redis.duplicate(),
    instanceId: core.instanceId,
    replyChannel,
    apps: opts.apps,
    outcomeKey,
    limit: (api, wechatAppId) => limiter.consume(api, wechatAppId),
    async wechatAppIdFor(ref) {
      if (ref.mode === 'test') return sandboxAppId(ref.appId);
      // Apps sharing one mini-program share its quota; an app without one is refused by the worker anyway.
      return (await opts.apps.getApp(ref.appId))?.wechatAppId ?? ref.appId;
    },
    sandboxPhoneCode,
    waitMs: opts.waitMs ?? 20_000,
  });

  // The mounted simulator: state in Redis so every instance agrees; sandbox pairs are checked
  // by recomputing the derived secret, so it needs no registry.
  const router = Router();
  router.use('/sandbox/wechat', createSimulatorRouter({
    ...simOptions,
    scoped: true,
    // Faults and stats of one app's sandbox need that app's test secret key: app ids are public.
    ...((opts.sandboxControlsNeedKey ?? true)
      ? {
          async authorizeControl(req: Request, appid: string) {
            const m = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '');
            const hit = m ? await opts.apps.resolveSecretKey(m[1]!) : null;
            return hit?.mode === 'test' && sandboxAppId(hit.app.id) === appid;
          },
        }
      : {}),
  }));

  const feature: Feature = {
    name: 'wechat',
    router,
    async start() {
      // Subscribed before serving, so the first caller doesn't pay for it (workers don't call).
      if (config.role !== 'worker') await gateway.listen();
      core.jobs.worker(
        WECHAT_QUEUE,
        createWechatProcessor({
          client, redis: core.redis.client, logger: core.logger, outcomeKey, replyChannel, credentials,
          answerLocally: (caller, jobId, outcome) => caller === core.instanceId && gateway.settleLocally(jobId, outcome),
        }),
        { concurrency: opts.workerConcurrency ?? 50 },
      );
    },
  };

  return { feature, gateway, sandboxAppId };
}
