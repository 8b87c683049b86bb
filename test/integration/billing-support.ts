import { createAppsStore } from '../../server/features/apps/store';
import { startStripeStandin, type RunningStandin, type StandinOptions } from '../../server/features/billing/stripe-standin/server';
import { startSimulator, type RunningSimulator } from '../../server/features/sandbox/simulator/standalone';
import type { RunningServer } from '../../server/main';
import { openSocket, postJson, TEST_ORIGIN } from '../helpers/login';

export { waitFor } from './webhooks-support';

export const STRIPE_KEY = 'sk_test_standin_0123456789';
export const STRIPE_WHSEC = 'whsec_standin_secret_0123456789';
export const PRICE_PRO = 'price_pro_monthly';
export const PRICE_PRO_MAU = 'price_pro_mau';

/** The Stripe stand-in with a Pro price ($29/month) and its metered MAU price, quick event retries. */
export function startStandin(opts: Pick<StandinOptions, 'meterStream'> = {}): Promise<RunningStandin> {
  return startStripeStandin({
    ...opts,
    apiKey: STRIPE_KEY,
    webhookSecret: STRIPE_WHSEC,
    prices: [{ id: PRICE_PRO, unitAmount: 2900, usageType: 'licensed' }, { id: PRICE_PRO_MAU, unitAmount: 2, usageType: 'metered' }],
    retryDelaysMs: [100, 300, 1000],
  });
}

/** Server environment with billing on, pointed at the stand-in. */
export function billingVars(standin: RunningStandin, extra: Record<string, string> = {}): Record<string, string> {
  return {
    STRIPE_SECRET_KEY: STRIPE_KEY,
    STRIPE_WEBHOOK_SECRET: STRIPE_WHSEC,
    STRIPE_API_BASE: standin.url,
    STRIPE_PRICE_PRO: PRICE_PRO,
    STRIPE_PRICE_PRO_MAU: PRICE_PRO_MAU,
    ...extra,
  };
}

/** Short enough for tests: a meter pass every 100 ms, claims held 1.5 s, Stripe calls bounded at 2 s, quota cached 200 ms. */
export const FAST_BILLING = { meter: { intervalMs: 100, holdMs: 1_500 }, stripeTimeoutMs: 2_000, quotaCacheMs: 200 };

let wxSeq = 0;

/** A live-mode app whose WeChat is the standalone simulator (the server's WECHAT_API_BASE). */
export async function createLiveApp(server: RunningServer, sim: RunningSimulator, tenantId?: string) {
  const apps = createAppsStore(server.core);
  const tenant = tenantId ?? (await apps.ensureDefaultTenant(`Tenant ${Math.random().toString(36).slice(2, 8)}`));
  const wechatAppId = `wx${(0xb111 * 1000 + ++wxSeq).toString(16).padStart(16, '0')}`;
  const wechatSecret = `${wxSeq.toString(16).padStart(2, '0')}${'a'.repeat(30)}`;
  sim.registerApp(wechatAppId, wechatSecret);
  const created = await apps.createApp({ tenantId: tenant, name: 'Live Shop', allowedOrigins: [TEST_ORIGIN], wechatAppId, wechatSecret });
  return { tenantId: tenant, app: created.app, keys: created.keys, wechatAppId };
}

export type LiveApp = Awaited<ReturnType<typeof createLiveApp>>;

/**
 * One live login as the phone and the browser do it. Answers the scan's HTTP answer and,
 * when it passed, the browser's `success` frame; when refused, the browser's error frame.
 */
export async function liveLogin(server: RunningServer, sim: RunningSimulator, app: LiveApp, openid: string) {
  const sock = await openSocket(server.url, app.keys.live!.publishable);
  try {
    const session = await sock.next('session');
    const code = await sim.issueCode(app.wechatAppId, openid);
    const scan = await postJson(`${server.url}/v1/mp/scan`, { scene: session.session, code });
    if (scan.status !== 200) return { scan, frame: await sock.next() };
    await sock.next('scanned');
    const confirm = await postJson(`${server.url}/v1/mp/confirm`, { scene: session.session, ticket: scan.body.ticket });
    if (confirm.status !== 200) throw new Error(`confirm ${confirm.status} ${JSON.stringify(confirm.body)}`);
    return { scan, frame: await sock.next('success') };
  } finally {
    sock.close();
  }
}

export { startSimulator, type RunningSimulator, type RunningStandin };
