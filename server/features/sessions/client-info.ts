import { isIP } from 'node:net';
import Bowser from 'bowser';

export interface ClientDescription {
  browser: string;
  os: string;
  mobile: boolean;
}

/**
 * Visitors share a few hundred user-agent strings, and parsing one costs more than the rest of
 * opening a session; the cache is bounded so a client sending random strings can't grow it.
 */
const MAX_CACHED = 2000;
const described = new Map<string, ClientDescription>();

/** What the phone shows about the browser that asked to log in. */
export function describeClient(userAgent: string | undefined): ClientDescription {
  const ua = (userAgent ?? '').slice(0, 512);
  const hit = described.get(ua);
  if (hit) return hit;
  const d = parseUserAgent(ua);
  if (described.size >= MAX_CACHED) described.clear();
  described.set(ua, d);
  return d;
}

/** Bowser (MIT) rather than ua-parser-js, whose 2.x is AGPL-3.0 (issue 11 item 11). */
function parseUserAgent(ua: string): ClientDescription {
  const unknown = { browser: 'Unknown browser', os: 'Unknown system', mobile: false };
  if (!ua.trim()) return unknown;
  let r: Bowser.Parser.ParsedResult;
  try {
    r = Bowser.parse(ua);
  } catch {
    return unknown;
  }
  const major = r.browser.version?.split('.')[0];
  const browser = [r.browser.name, major].filter(Boolean).join(' ') || unknown.browser;
  // Windows reports "NT 10.0" as its version; its marketing name ("10") is what people know.
  const osVersion = r.os.name === 'Windows' ? r.os.versionName : r.os.version;
  const os = [r.os.name, osVersion].filter(Boolean).join(' ') || unknown.os;
  return { browser, os, mobile: r.platform.type === 'mobile' || r.platform.type === 'tablet' };
}

/**
 * A coarse location where we know one without a GeoIP database: the visitor's own network.
 * Public addresses stay unknown (the field is optional in the contract) until a GeoIP source is added.
 */
export function coarseLocation(ip: string): string | undefined {
  const v = ip.replace(/^::ffff:/, '');
  if (v === '127.0.0.1' || v === '::1') return 'This computer (localhost)';
  if (isIP(v) === 4 && /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(v)) return 'Local network';
  if (isIP(v) === 6 && /^f[cd]/i.test(v)) return 'Local network';
  return undefined;
}

export function normaliseIp(ip: string | undefined): string {
  return (ip ?? '').replace(/^::ffff:/, '');
}
