import { createHmac } from 'node:crypto';
import { safeEqual } from '../../lib/crypto';
import type { KeyMode } from '../../lib/ids';

/**
 * How the hosted authorize page's element gets past the app's allowed origins. The page is on
 * this service's own origin (PUBLIC_URL), which no tenant lists. Serving the page for an
 * interaction of app X in mode M sets an HttpOnly, SameSite=Strict cookie, scoped to /v1, that
 * says "X, M, until T", MAC'd under a key derived from MASTER_KEY. The sessions gate admits
 * the own origin for a key of X in M only with that cookie: other origins gain nothing, and
 * the own origin only serves this service's pages, which send the token nowhere but to the
 * interaction and from there to a registered redirect URI.
 */
export interface HostedPagePass {
  /** The Set-Cookie value for an interaction page of this app and mode. */
  issue(appId: string, mode: KeyMode, secure: boolean): string;
  /** Whether a request's Cookie header carries a current pass for this app and mode. */
  admits(cookieHeader: string | undefined, appId: string, mode: KeyMode): boolean;
}

/** As long as an interaction lives: the page can't be used after its flow is gone anyway. */
export const PASS_SECONDS = 600;

export function createHostedPagePass(masterKey: Buffer, now: () => number = Date.now): HostedPagePass {
  const key = createHmac('sha256', masterKey).update('oidc-hosted-page-pass').digest();
  const mac = (payload: string) => createHmac('sha256', key).update(payload).digest('base64url');
  const nameOf = (appId: string) => `wsl_oidc_${appId}`;

  return {
    issue(appId, mode, secure) {
      const payload = `${appId}.${mode}.${Math.floor(now() / 1000) + PASS_SECONDS}`;
      return `${nameOf(appId)}=${payload}.${mac(payload)}; Path=/v1; Max-Age=${PASS_SECONDS}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
    },
    admits(cookieHeader, appId, mode) {
      if (!cookieHeader) return false;
      const name = `${nameOf(appId)}=`;
      const raw = cookieHeader.split(/;\s*/).find((c) => c.startsWith(name))?.slice(name.length);
      const m = raw ? /^(app_[A-Za-z0-9]+)\.(test|live)\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(raw) : null;
      if (!m || m[1] !== appId || m[2] !== mode || Number(m[3]) * 1000 < now()) return false;
      return safeEqual(mac(`${m[1]}.${m[2]}.${m[3]}`), m[4]!);
    },
  };
}
