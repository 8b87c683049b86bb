import { isIP } from 'node:net';
import { UAParser } from 'ua-parser-js';

/** What the phone shows about the browser that asked to log in. */
export function describeClient(userAgent: string | undefined): { browser: string; os: string; mobile: boolean } {
  const r = UAParser(userAgent ?? '');
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
