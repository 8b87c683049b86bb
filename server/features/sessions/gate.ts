import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Core } from '../../core';
import type { KeyMode } from '../../lib/ids';
import { originAllowed } from '../apps/origins';
import type { AppRecord, AppsStore } from '../apps/store';
import type { HostedPagePort } from './ports';

export type Refusal = { code: 'invalid_key' | 'origin_not_allowed' | 'rate_limited' | 'unavailable'; message: string; closeCode: number };
export type Admission = { ok: true; app: AppRecord; mode: KeyMode } | { ok: false; refusal: Refusal };

/** Close codes in the 4000 range, so the element can tell the visitor why without parsing text. */
export const CLOSE = { invalid_key: 4001, origin_not_allowed: 4003, session_not_found: 4004, bad_request: 4000, rate_limited: 4029, unavailable: 4503 } as const;

/**
 * Everything checked before any session state exists: the publishable key, the page's
 * Origin against the app's list, and a per-IP rate limit on new sessions. Every way a browser
 * opens a session spends the same limit: the socket's upgrade and POST /v1/sessions through
 * `admit`, a `refresh` frame through `spend`.
 */
export function createGate(core: Core, apps: AppsStore, hostedPages?: HostedPagePort) {
  const limiter = new RateLimiterRedis({
    storeClient: core.redis.client,
    keyPrefix: core.key('rl', 'sessions'),
    points: core.config.sessionRateLimit,
    duration: 60,
  });

  /** One new session for this IP, or why not. */
  async function spend(ip: string): Promise<Refusal | null> {
    try {
      await limiter.consume(ip);
      return null;
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        return { code: 'rate_limited', message: `Too many login codes from this network; try again in ${Math.ceil(err.msBeforeNext / 1000)} s`, closeCode: CLOSE.rate_limited };
      }
      return { code: 'unavailable', message: 'The login service is briefly unavailable; try again', closeCode: CLOSE.unavailable };
    }
  }

  async function admit(key: string | null, origin: string | undefined, ip: string, cookie?: string): Promise<Admission> {
    const found = key ? await apps.resolvePublishableKey(key) : null;
    if (!found) {
      return { ok: false, refusal: { code: 'invalid_key', message: 'This site key is unknown or revoked; check the site-key attribute', closeCode: CLOSE.invalid_key } };
    }
    // Test keys also work on this service's own pages (the console's live preview, the demo);
    // live keys only on the OpenID Provider's hosted page of their own app (see oidc/pass.ts).
    const ownOrigin = origin === new URL(core.config.publicUrl).origin
      && (found.mode === 'test' || (hostedPages?.admits(cookie, found.app.id, found.mode) ?? false));
    if (!ownOrigin && !originAllowed(origin, found.app.allowedOrigins, found.mode)) {
      return {
        ok: false,
        refusal: { code: 'origin_not_allowed', message: `This page's origin (${origin ?? 'none'}) is not an allowed origin of this app; add it in the console`, closeCode: CLOSE.origin_not_allowed },
      };
    }
    const refusal = await spend(ip);
    return refusal ? { ok: false, refusal } : { ok: true, app: found.app, mode: found.mode };
  }

  return { admit, spend };
}

export type Gate = ReturnType<typeof createGate>;
