import { describe, expect, it } from 'vitest';
import { checkOrigin, originAllowed, originsSchema } from './origins';

describe('checkOrigin: the one rule set for the console, the CLI and the gate', () => {
  it.each([
    ['https://www.example.com', 'https://www.example.com'],
    ['https://Shop.Example.com/', 'https://shop.example.com'],
    ['  https://shop.example.com  ', 'https://shop.example.com'],
    ['https://shop.example.com:443', 'https://shop.example.com'],
    ['http://shop.example.com:80', 'http://shop.example.com'],
    ['https://shop.example.com:8443', 'https://shop.example.com:8443'],
    ['http://intranet', 'http://intranet'],
    ['http://localhost:5173', 'http://localhost:5173'],
    ['http://192.168.1.20:3000', 'http://192.168.1.20:3000'],
    ['https://[::1]:8080', 'https://[::1]:8080'],
    ['https://[0:0:0:0:0:0:0:1]', 'https://[::1]'],
    ['https://[2001:DB8::1]/', 'https://[2001:db8::1]'],
    ['https://例子.com', 'https://xn--fsqu00a.com'],
    ['https://*.example.com', 'https://*.example.com'],
    ['https://*.Example.com:8443/', 'https://*.example.com:8443'],
  ])('accepts %s as %s', (input, origin) => {
    expect(checkOrigin(input)).toEqual({ ok: true, origin });
  });

  it.each([
    ['*', /must look like/],
    ['example.com', /must look like/],
    ['ftp://example.com', /must look like/],
    ['https://', /must look like/],
    ['https://shop.example.com//', /must look like/],
    ['https://shop.example.com/path', /must look like/],
    ['https://shop.example.com?q=1', /must look like/],
    ['https://shop.example.com#top', /must look like/],
    ['https://user:pw@shop.example.com', /must look like/],
    ['https://shop.example.com:99999', /not a valid origin/],
    ['https://shop..example.com', /empty part/],
    ['https://shop.example.com.', /empty part/],
    ['https://*', /wildcard/],
    ['https://*.com', /wildcard must cover subdomains/],
    ['https://a.*.example.com', /wildcard may only be the whole first part/],
    ['https://*example.com', /wildcard may only be the whole first part/],
    ['https://*.1.2.3.4', /wildcard must cover subdomains/],
    ['https://*.[::1]', /wildcard must cover subdomains/],
    ['https://[::1', /must look like/],
    [`https://${'a'.repeat(300)}.com`, /at most 300/],
  ])('refuses %s in plain words', (input, reason) => {
    const r = checkOrigin(input);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(reason);
  });

  it('normalises and de-duplicates a list, and names the bad entry', () => {
    expect(originsSchema.parse(['https://A.example.com/', 'https://a.example.com'])).toEqual(['https://a.example.com']);
    const bad = originsSchema.safeParse(['https://ok.example.com', 'https://bad.example.com/x']);
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.message).toContain('https://bad.example.com/x');
    expect(originsSchema.safeParse(Array.from({ length: 51 }, (_, i) => `https://s${i}.example.com`)).success).toBe(false);
  });
});

describe('originAllowed: what a page may use an app from', () => {
  const list = ['https://shop.example.com', 'https://*.example.org', 'https://[::1]:8080', 'http://intranet'];
  it.each([
    ['https://shop.example.com', 'live', true],
    ['https://shop.example.com', 'test', true],
    ['https://shop.example.com:8443', 'live', false],
    ['http://shop.example.com', 'live', false],
    ['https://a.example.org', 'live', true],
    ['https://a.b.example.org', 'live', true],
    ['https://example.org', 'live', false],
    ['https://evilexample.org', 'live', false],
    ['https://[::1]:8080', 'live', true],
    ['http://intranet', 'live', true],
    // A browser never sends these as an Origin, so they match nothing.
    ['https://shop.example.com/', 'live', false],
    ['https://SHOP.example.com', 'live', false],
    ['null', 'test', false],
    [undefined, 'test', false],
    // Test keys also work from any page on this computer, live keys never do unless listed.
    ['http://localhost:5173', 'test', true],
    ['http://127.0.0.1:9999', 'test', true],
    ['http://[::1]:3000', 'test', true],
    ['http://localhost:5173', 'live', false],
    ['http://[::1]:3000', 'live', false],
  ] as const)('%s in %s mode → %s', (origin, mode, allowed) => {
    expect(originAllowed(origin, list, mode)).toBe(allowed);
  });
});
