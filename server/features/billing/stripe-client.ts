import Stripe from 'stripe';
import type { BillingConfig } from '../../config';

/**
 * The official SDK, pointed at STRIPE_API_BASE through its host/port/protocol options (a
 * stand-in in tests and staging). Bounded: a Stripe that hangs must not hold a request or a
 * sender pass for the SDK's default 80 s.
 */
export function createStripeClient(cfg: BillingConfig, opts: { timeoutMs?: number } = {}): Stripe {
  const base = new URL(cfg.apiBase);
  const protocol = base.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(cfg.secretKey, {
    host: base.hostname,
    port: base.port ? Number(base.port) : protocol === 'http' ? 80 : 443,
    protocol,
    timeout: opts.timeoutMs ?? 10_000,
    maxNetworkRetries: 1,
    appInfo: { name: 'wechat-scan-login' },
  });
}

/** Stripe could not be reached or failed on its side (not a refusal of what we asked). */
export function isStripeOutage(err: unknown): boolean {
  if (!(err instanceof Stripe.errors.StripeError)) return false;
  return err instanceof Stripe.errors.StripeConnectionError || err instanceof Stripe.errors.StripeAPIError || (err.statusCode ?? 0) >= 500 || err.statusCode === 429;
}
