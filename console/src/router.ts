/**
 * History routing under /console/. Routes are plain patterns; the server answers index.html
 * for any /console/… path, so deep links and reloads work.
 */
export const BASE = '/console';

export type Route =
  | { name: 'signin' }
  | { name: 'signup' }
  | { name: 'invite' }
  | { name: 'verify' }
  | { name: 'forgot' }
  | { name: 'reset' }
  | { name: 'security' }
  | { name: 'audit'; tenantId: string }
  | { name: 'home' }
  | { name: 'neworg' }
  | { name: 'apps'; tenantId: string }
  | { name: 'app'; tenantId: string; appId: string; tab: AppTab }
  | { name: 'team'; tenantId: string }
  | { name: 'billing'; tenantId: string }
  | { name: 'notfound' };

export const APP_TABS = ['settings', 'keys', 'install', 'users', 'activity', 'webhooks', 'oidc'] as const;
export type AppTab = (typeof APP_TABS)[number];

export function parseRoute(pathname: string): Route {
  const path = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { name: 'home' };
  if (parts[0] === 'signin' && parts.length === 1) return { name: 'signin' };
  if (parts[0] === 'signup' && parts.length === 1) return { name: 'signup' };
  if (parts[0] === 'invite' && parts.length === 1) return { name: 'invite' };
  // Mailed links land on these three with `?token=`; each works signed in or out.
  if (parts[0] === 'verify' && parts.length === 1) return { name: 'verify' };
  if (parts[0] === 'forgot' && parts.length === 1) return { name: 'forgot' };
  if (parts[0] === 'reset' && parts.length === 1) return { name: 'reset' };
  if (parts[0] === 'security' && parts.length === 1) return { name: 'security' };
  if (parts[0] === 'organisations' && parts[1] === 'new' && parts.length === 2) return { name: 'neworg' };
  if (parts[0] === 't' && parts[1]) {
    const tenantId = parts[1];
    if (parts[2] === 'apps' && parts.length === 3) return { name: 'apps', tenantId };
    if (parts[2] === 'apps' && parts[3]) {
      const tab = (parts[4] ?? 'settings') as AppTab;
      if (APP_TABS.includes(tab) && parts.length <= 5) return { name: 'app', tenantId, appId: parts[3], tab };
    }
    if (parts[2] === 'team' && parts.length === 3) return { name: 'team', tenantId };
    if (parts[2] === 'billing' && parts.length === 3) return { name: 'billing', tenantId };
    if (parts[2] === 'audit' && parts.length === 3) return { name: 'audit', tenantId };
  }
  return { name: 'notfound' };
}

export function href(...parts: string[]): string {
  return `${BASE}/${parts.map(encodeURIComponent).join('/')}`;
}

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

/** Same-origin link clicks become history navigation (modifier clicks still open new tabs). */
export function interceptLinks(root: EventTarget): void {
  root.addEventListener('click', (e) => {
    const ev = e as MouseEvent;
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const a = ev.composedPath().find((n): n is HTMLAnchorElement => n instanceof HTMLAnchorElement);
    if (!a || a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || !url.pathname.startsWith(`${BASE}/`)) return;
    ev.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
}
