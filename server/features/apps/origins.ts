import type { KeyMode } from '../../lib/ids';

/**
 * Whether a browser Origin may use an app. Entries are exact origins (`https://shop.example.com`)
 * or a subdomain wildcard (`https://*.example.com`, which does not match the apex). Test mode
 * also allows any localhost port, so a developer can start without touching settings.
 */
export function originAllowed(origin: string | undefined, allowed: readonly string[], mode: KeyMode): boolean {
  if (!origin) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.origin !== origin) return false;
  if (mode === 'test' && url.protocol === 'http:' && (url.hostname === 'localhost' || url.hostname === '127.0.0.1')) return true;
  for (const entry of allowed) {
    if (entry === origin) return true;
    const wild = /^(https?):\/\/\*\.([^/:]+)(?::(\d+))?$/.exec(entry);
    if (wild && url.protocol === `${wild[1]}:` && url.hostname.endsWith(`.${wild[2]}`) && url.port === (wild[3] ?? '')) return true;
  }
  return false;
}

/**
 * An allowed-origin entry as people type it, made canonical: `https://Shop.example.com/` →
 * `https://shop.example.com`. Wildcards only for subdomains (`https://*.example.com`). Null if invalid.
 */
export function normaliseOrigin(input: string): string | null {
  const m = /^(https?):\/\/(\*\.)?([^/?#]+?)\/?$/i.exec(input.trim());
  if (!m) return null;
  const wildcard = Boolean(m[2]);
  let url: URL;
  try {
    url = new URL(`${m[1]}://${m[3]}`);
  } catch {
    return null;
  }
  if (url.username || url.password || url.pathname !== '/' || !url.hostname.includes('.') && url.hostname !== 'localhost') return null;
  if (wildcard && (url.hostname.split('.').length < 2 || /^[\d.]+$/.test(url.hostname))) return null;
  return `${url.protocol}//${wildcard ? '*.' : ''}${url.host}`;
}
