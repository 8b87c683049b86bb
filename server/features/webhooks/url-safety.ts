import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import type { KeyMode } from '../../lib/ids';

/**
 * Where a webhook may be sent. Live mode: https to public addresses only, checked when the
 * endpoint is saved and again on every connection against the address actually dialled
 * (a name that resolved to a public IP at create time may point at 127.0.0.1 later: DNS
 * rebinding). Test mode also allows http and loopback so developers can point it at their
 * own machine; private networks and link-local (cloud metadata at 169.254.169.254) stay
 * closed to it. On a hosted production instance "loopback" is our own machine, not the
 * developer's (Redis, sidecars, admin ports, with the answer shown in the delivery log), so
 * production refuses it in test mode too. The operator switch `webhookAllowPrivateUrls`
 * opens everything (self-hosting).
 */
export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'reserved';

export interface UrlPolicy {
  mode: KeyMode;
  allowPrivate: boolean;
  /** Test mode may reach loopback: only where loopback is the developer's own machine. */
  testLoopback: boolean;
}

/** The one policy both the create-time check and the delivery use, so they can't disagree. */
export function webhookUrlPolicy(config: { env: string; webhookAllowPrivateUrls: boolean }, mode: KeyMode): UrlPolicy {
  return { mode, allowPrivate: config.webhookAllowPrivateUrls, testLoopback: config.env !== 'production' };
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

const linkLocal = new BlockList();
linkLocal.addSubnet('169.254.0.0', 16, 'ipv4');
linkLocal.addSubnet('fe80::', 10, 'ipv6');

const privateNets = new BlockList();
privateNets.addSubnet('10.0.0.0', 8, 'ipv4');
privateNets.addSubnet('172.16.0.0', 12, 'ipv4');
privateNets.addSubnet('192.168.0.0', 16, 'ipv4');
privateNets.addSubnet('100.64.0.0', 10, 'ipv4'); // carrier-grade NAT
privateNets.addSubnet('fc00::', 7, 'ipv6'); // unique local

const reserved = new BlockList();
reserved.addSubnet('0.0.0.0', 8, 'ipv4');
reserved.addSubnet('192.0.0.0', 24, 'ipv4');
reserved.addSubnet('192.0.2.0', 24, 'ipv4');
reserved.addSubnet('198.18.0.0', 15, 'ipv4');
reserved.addSubnet('198.51.100.0', 24, 'ipv4');
reserved.addSubnet('203.0.113.0', 24, 'ipv4');
reserved.addSubnet('224.0.0.0', 4, 'ipv4'); // multicast
reserved.addSubnet('240.0.0.0', 4, 'ipv4'); // reserved + broadcast
reserved.addAddress('::', 'ipv6');
reserved.addSubnet('ff00::', 8, 'ipv6'); // multicast
reserved.addSubnet('2001:db8::', 32, 'ipv6');

/** An IPv4 address hidden inside an IPv6 one (mapped ::ffff:a.b.c.d, NAT64, 6to4) is judged as IPv4. */
function embeddedIpv4(ip: string): string | null {
  const lower = ip.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1]!;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  const sixToFour = /^2002:([0-9a-f]{1,4}):([0-9a-f]{1,4}):/.exec(lower);
  if (sixToFour) {
    const hi = parseInt(sixToFour[1]!, 16);
    const lo = parseInt(sixToFour[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return null;
}

export function classifyAddress(ip: string): AddressClass {
  const family = isIP(ip);
  if (family === 0) return 'reserved';
  if (family === 6) {
    const v4 = embeddedIpv4(ip);
    if (v4) return classifyAddress(v4);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (loopback.check(ip, type)) return 'loopback';
  if (linkLocal.check(ip, type)) return 'link-local';
  if (privateNets.check(ip, type)) return 'private';
  if (reserved.check(ip, type)) return 'reserved';
  return 'public';
}

export function addressAllowed(ip: string, policy: UrlPolicy): boolean {
  if (policy.allowPrivate) return true;
  const cls = classifyAddress(ip);
  if (cls === 'public') return true;
  return policy.mode === 'test' && policy.testLoopback && cls === 'loopback';
}

export class UnsafeUrlError extends Error {}

/** Shape checks that need no DNS: scheme, credentials, host. Messages are safe to show the tenant. */
export function checkUrlShape(raw: string, policy: UrlPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnsafeUrlError('url must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UnsafeUrlError('url must use https');
  if (url.protocol === 'http:' && policy.mode === 'live' && !policy.allowPrivate) {
    throw new UnsafeUrlError('live-mode webhook URLs must use https');
  }
  if (url.username || url.password) throw new UnsafeUrlError('url must not contain credentials');
  if (!url.hostname) throw new UnsafeUrlError('url must have a host');
  return url;
}

function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

function lookupAll(host: string): Promise<LookupAddress[]> {
  return new Promise((ok, fail) => dnsLookup(host, { all: true, verbatim: true }, (err, addrs) => (err ? fail(err) : ok(addrs))));
}

/** Create-time check: every address the name resolves to must be allowed. */
export async function checkUrl(raw: string, policy: UrlPolicy): Promise<URL> {
  const url = checkUrlShape(raw, policy);
  const host = bareHost(url);
  let addrs: string[];
  if (isIP(host)) addrs = [host];
  else {
    try {
      addrs = (await lookupAll(host)).map((a) => a.address);
    } catch {
      throw new UnsafeUrlError(`url host ${host} does not resolve`);
    }
  }
  if (!addrs.length || addrs.some((a) => !addressAllowed(a, policy))) {
    throw new UnsafeUrlError(
      policy.mode === 'live'
        ? 'live-mode webhook URLs must resolve to public addresses (not private, loopback or link-local)'
        : policy.testLoopback
          ? 'test-mode webhook URLs may use localhost or public addresses, not private or link-local ones'
          : 'webhook URLs must resolve to public addresses (not private, loopback or link-local); use a tunnel to reach your own machine',
    );
  }
  return url;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that refuses forbidden addresses, so the check applies to the
 * very address the socket connects to. IP literals never reach a lookup, so callers check
 * those with `addressAllowed` first.
 */
export function guardedLookup(policy: UrlPolicy) {
  return (hostname: string, options: { all?: boolean } & Record<string, unknown>, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addrs) => {
      if (err) return callback(err, []);
      const allowed = addrs.filter((a) => addressAllowed(a.address, policy));
      if (!allowed.length) {
        const e: NodeJS.ErrnoException = new UnsafeUrlError(`${hostname} resolves to a forbidden address`);
        e.code = 'EFORBIDDENADDR';
        return callback(e, []);
      }
      if (options.all) return callback(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

export function literalHostAllowed(url: URL, policy: UrlPolicy): boolean | null {
  const host = bareHost(url);
  return isIP(host) ? addressAllowed(host, policy) : null;
}
