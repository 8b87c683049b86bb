import { isIP } from 'node:net';
import { UAParser } from 'ua-parser-js';

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

function parseUserAgent(ua: string): ClientDescription {
  const r = UAParser(ua);
  const mobile = r.device.type === 'mobile' || r.device.type === 'tablet';
  const browser = [r.browser.name, r.browser.major].filter(Boolean).join(' ') || 'Unknown browser';
  const os = [r.os.name, r.os.version].filter(Boolean).join(' ') || 'Unknown system';
  return { browser, os, mobile };
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
