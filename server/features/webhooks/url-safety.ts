import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
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

/** ipaddr.js's ranges (RFC 6890 and successors) by what they mean for us; only `unicast` is public. */
const CLASS_OF_RANGE: Record<string, AddressClass> = {
  unicast: 'public',
  loopback: 'loopback',
  private: 'private',
  uniqueLocal: 'private',
  carrierGradeNat: 'private',
  linkLocal: 'link-local',
};

/** NAT64's well-known prefix carries a routable IPv4 address in its last 32 bits (RFC 6052). */
const NAT64 = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
/** Local-use NAT64 (RFC 8215) is a private network's translator; ipaddr.js lumps it with the one above. */
const NAT64_LOCAL = ipaddr.IPv6.parseCIDR('64:ff9b:1::/48');
/**
 * Deprecated IPv4-compatible addresses (RFC 4291 §2.5.5.1). ipaddr.js reads `::127.0.0.1` as
 * IPv4-mapped but calls the same address written `::7f00:1` (how URLs normalise it) unicast,
 * so both spellings are judged here by the IPv4 address inside.
 */
const V4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96');

function embeddedIpv4(addr: ipaddr.IPv6): ipaddr.IPv4 | null {
  const last32 = () => new ipaddr.IPv4(addr.parts.slice(6).flatMap((p) => [p >> 8, p & 255]));
  if (addr.isIPv4MappedAddress()) return last32();
  if (addr.match(NAT64)) return last32();
  // :: and ::1 are the unspecified and loopback addresses, not IPv4-compatible ones.
  if (addr.match(V4_COMPATIBLE) && !['unspecified', 'loopback'].includes(addr.range())) return last32();
  return null;
}

export function classifyAddress(ip: string): AddressClass {
  // node's parser first: ipaddr.js also accepts non-standard forms (0x7f.1) that are never a resolved address.
  if (isIP(ip) === 0) return 'reserved';
  let addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv6') {
    if ((addr as ipaddr.IPv6).match(NAT64_LOCAL)) return 'private';
    addr = embeddedIpv4(addr as ipaddr.IPv6) ?? addr;
  }
  return CLASS_OF_RANGE[addr.range()] ?? 'reserved';
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
