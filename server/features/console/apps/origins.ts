import { z } from 'zod';

/**
 * An allowed origin is exactly what a browser sends in `Origin`: scheme://host[:port], no
 * path. A wildcard may only stand for subdomains, as the whole first label, over a domain of
 * at least two labels (`https://*.example.com`; never `*`, `https://*.com`, `https://a.*.com`).
 * Returns the normalised origin or a reason in plain words.
 */
export function checkOrigin(input: string): { ok: true; origin: string } | { ok: false; reason: string } {
  const raw = input.trim().replace(/\/+$/, '');
  const m = /^(https?):\/\/([^/?#@\s]+)$/i.exec(raw);
  if (!m) return { ok: false, reason: `"${input}" must look like https://example.com (scheme and host, optional port, no path)` };
  const scheme = m[1]!.toLowerCase();
  let hostPort = m[2]!.toLowerCase();
  const wildcard = hostPort.startsWith('*.');
  if (wildcard) hostPort = hostPort.slice(2);
  if (hostPort.includes('*')) return { ok: false, reason: `"${input}": a wildcard may only be the first part, like https://*.example.com` };
  let url: URL;
  try {
    url = new URL(`${scheme}://${hostPort}`);
  } catch {
    return { ok: false, reason: `"${input}" is not a valid origin` };
  }
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
    return { ok: false, reason: `"${input}" must not have a path, query or credentials` };
  }
  if (wildcard) {
    if (url.hostname.split('.').length < 2 || /^[\d.]+$/.test(url.hostname) || url.hostname.startsWith('[')) {
      return { ok: false, reason: `"${input}": a wildcard must cover subdomains of a real domain, like https://*.example.com` };
    }
    return { ok: true, origin: `${scheme}://*.${url.host}` };
  }
  return { ok: true, origin: url.origin };
}

export const originsSchema = z
  .array(z.string().max(300))
  .max(50, 'at most 50 origins')
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
