import { isIP } from 'node:net';
import { z } from 'zod';
import type { KeyMode } from '../../lib/ids';

/**
 * The one set of rules for an app's allowed origins, used by the console API, the CLI and
 * the gate that checks a page's `Origin` (issue 13: two validators had drifted apart).
 *
 * An entry is what a browser sends in `Origin`: `http(s)://host[:port]`, with no credentials,
 * path, query or fragment (one trailing `/`, as people paste it, is dropped). Hosts may be DNS
 * names, single-label intranet names (`http://intranet`), IPv4 literals or bracketed IPv6
 * literals (`https://[::1]:8080`). A wildcard may only stand for subdomains, as the whole first
 * label over a DNS name of at least two labels (`https://*.example.com`, never `*`,
 * `https://*.com`, `https://a.*.com` or a wildcard over an IP). Entries are stored in the form
 * the browser sends: lower case, IDNs in punycode, default ports dropped, IPv6 compressed.
 *
 * Both modes honour the listed entries; test mode also lets any `http://` page on this computer
 * (localhost, 127.0.0.1, [::1]) in, so a developer can start without touching settings.
 */
export type OriginCheck = { ok: true; origin: string } | { ok: false; reason: string };

export const MAX_ORIGIN_LENGTH = 300;
export const MAX_ORIGINS = 50;

const SHAPE = /^(https?):\/\/(\*\.)?(\[[0-9a-f:.]+\]|[^/?#@\s:[\]*]+)(:\d{1,5})?\/?$/i;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function checkOrigin(input: string): OriginCheck {
  const raw = input.trim();
  const example = 'like https://www.example.com (scheme and host, optional port, no path)';
  if (raw.length > MAX_ORIGIN_LENGTH) return { ok: false, reason: `an origin is at most ${MAX_ORIGIN_LENGTH} characters` };
  const m = SHAPE.exec(raw);
  if (!m) {
    if (/^https?:\/\/[^/]*\*/i.test(raw)) return { ok: false, reason: `"${input}": a wildcard may only be the whole first part, like https://*.example.com` };
    return { ok: false, reason: `"${input}" must look ${example}` };
  }
  const scheme = m[1]!.toLowerCase();
  const wildcard = Boolean(m[2]);
  let url: URL;
  try {
    url = new URL(`${scheme}://${m[3]}${m[4] ?? ''}`);
  } catch {
    return { ok: false, reason: `"${input}" is not a valid origin; it must look ${example}` };
  }
  const host = url.hostname;
  const isAddress = host.startsWith('[') || isIP(host) !== 0;
  if (!isAddress && (host.endsWith('.') || host.split('.').some((label) => label === ''))) {
    return { ok: false, reason: `"${input}" has an empty part in its host name` };
  }
  if (wildcard) {
    if (isAddress || host.split('.').length < 2) {
      return { ok: false, reason: `"${input}": a wildcard must cover subdomains of a domain, like https://*.example.com` };
    }
    return { ok: true, origin: `${scheme}://*.${url.host}` };
  }
  return { ok: true, origin: url.origin };
}

/** A list of entries from an API body: each checked, normalised and de-duplicated. */
export const originsSchema = z
  .array(z.string().max(MAX_ORIGIN_LENGTH))
  .max(MAX_ORIGINS, `at most ${MAX_ORIGINS} origins`)
  .transform((list, ctx) => {
    const out: string[] = [];
    for (const item of list) {
      const r = checkOrigin(item);
      if (!r.ok) {
        ctx.addIssue({ code: 'custom', message: r.reason });
        return z.NEVER;
      }
      if (!out.includes(r.origin)) out.push(r.origin);
    }
    return out;
  });

/** Whether a browser's `Origin` header may use an app whose list is `allowed` (stored, normalised entries). */
export function originAllowed(origin: string | undefined, allowed: readonly string[], mode: KeyMode): boolean {
  if (!origin) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  // Anything a browser would not send as an Origin (a path, credentials, odd case) matches nothing.
  if (url.origin !== origin) return false;
  if (mode === 'test' && url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return true;
  for (const entry of allowed) {
    if (entry === origin) return true;
    const wild = /^(https?):\/\/\*\.([^/:]+)(?::(\d+))?$/.exec(entry);
    if (wild && url.protocol === `${wild[1]}:` && url.hostname.endsWith(`.${wild[2]}`) && url.port === (wild[3] ?? '')) return true;
  }
  return false;
}
