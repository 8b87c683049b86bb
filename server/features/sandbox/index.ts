import { Router, type Request } from 'express';
import type { Core, Feature } from '../../core';
import type { AppsStore } from '../apps/store';
import { createPhoneRouter } from './phone/index';
import { sandboxAppId, sandboxSecret, SANDBOX_APPID_PATTERN } from './simulator/credentials';
import { createEngine } from './simulator/engine';
import { redisKv } from './simulator/kv';
import { createSimulatorRouter } from './simulator/router';

export { sandboxAppId } from './simulator/credentials';

export interface SandboxFeatureOptions {
  apps: Pick<AppsStore, 'resolveSecretKey'>;
  /**
   * Require the app's test-mode secret key (Authorization: Bearer sk_test_…) on the mounted
   * simulator's fault, token and stats controls, so a tenant who learns another's app id (it is
   * in every token's issuer) can't disturb its sandbox. Default true; tests of the simulator's
   * appid scoping alone may turn it off.
   */
  controlsNeedKey?: boolean;
}

/**
 * Test mode's WeChat: the simulator mounted at /sandbox/wechat (state in Redis, so every
 * instance agrees; sandbox pairs are checked by recomputing the derived secret, so it needs no
 * registry) and the phone page at /sandbox/phone that its codes point at. `service` satisfies
 * the wechat feature's SandboxPort (wechat/ports.ts); main.ts passes it on.
 */
export function createSandboxFeature(core: Core, opts: SandboxFeatureOptions) {
  const { config } = core;
  const simOptions = {
    kv: redisKv(core.redis.client, (part: string) => core.key('{sim}', part)),
    async resolveApp(appid: string) {
      return SANDBOX_APPID_PATTERN.test(appid) ? { secret: sandboxSecret(config.masterKey, appid), pages: null } : null;
    },
    phoneBaseUrl: () => config.publicUrl,
  };
  // Shares the router's Redis state: the phone's wx.login is answered here without an HTTP hop.
  const engine = createEngine({ ...simOptions, now: Date.now });

  const base = () => config.sandboxWechatApiBase ?? `${core.localUrl ?? config.publicUrl}/sandbox/wechat`;

  const service = {
    appIdFor: sandboxAppId,
    credentials(appId: string) {
      const appid = sandboxAppId(appId);
      return { base: base(), creds: { appid, secret: sandboxSecret(config.masterKey, appid) } };
    },
    async phoneCode(appId: string, openid: string): Promise<{ ok: true; code: string } | { ok: false; errcode: number; errmsg: string }> {
      const appid = sandboxAppId(appId);
      if (!config.sandboxWechatApiBase) {
        const r = await engine.issueCode(appid, openid);
        return r.ok ? { ok: true, code: r.value } : { ok: false, ...r.error };
      }
      // An external simulator is asked over HTTP, through its test control. Not answering is
      // reported as WeChat's "busy" (-1), which the phone may retry.
      try {
        const res = await fetch(`${config.sandboxWechatApiBase}/__sim/phone/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ appid, openid }),
          signal: AbortSignal.timeout(5_000),
        });
        const body = (await res.json().catch(() => null)) as { code?: unknown } | null;
        return typeof body?.code === 'string' ? { ok: true, code: body.code } : { ok: false, errcode: 40013, errmsg: `the simulator gave no code (HTTP ${res.status})` };
      } catch {
        return { ok: false, errcode: -1, errmsg: 'the simulator did not answer' };
      }
    },
  };

  const router = Router();
  router.use('/sandbox/wechat', createSimulatorRouter({
    ...simOptions,
    scoped: true,
    // Faults and stats of one app's sandbox need that app's test secret key: app ids are public.
    ...((opts.controlsNeedKey ?? true)
      ? {
          async authorizeControl(req: Request, appid: string) {
            const m = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '');
            const hit = m ? await opts.apps.resolveSecretKey(m[1]!) : null;
            return hit?.mode === 'test' && sandboxAppId(hit.app.id) === appid;
          },
        }
      : {}),
  }));
  router.use(createPhoneRouter());

  const feature: Feature = { name: 'sandbox', router };
  return { feature, service };
}
