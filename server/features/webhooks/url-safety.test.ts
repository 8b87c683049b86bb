import { describe, expect, it } from 'vitest';
import { postWebhook } from './http-post';
import { addressAllowed, checkUrl, classifyAddress, webhookUrlPolicy } from './url-safety';

describe('webhook address classes', () => {
  it.each([
    ['8.8.8.8', 'public'], ['2606:4700:4700::1111', 'public'],
    ['127.0.0.1', 'loopback'], ['127.8.9.1', 'loopback'], ['::1', 'loopback'], ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'],
    ['10.0.0.1', 'private'], ['172.16.5.4', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'], ['100.64.0.1', 'private'], ['fd00::1', 'private'],
    ['169.254.169.254', 'link-local'], ['fe80::1', 'link-local'], ['::ffff:169.254.169.254', 'link-local'],
    ['0.0.0.0', 'reserved'], ['::', 'reserved'], ['224.0.0.1', 'reserved'], ['255.255.255.255', 'reserved'], ['64:ff9b::10.0.0.1', 'private'],
    ['172.32.0.1', 'public'],
    // Found by an outside review (issue 11): IPv4-compatible and IPv4-translated forms, and
    // ranges the hand-written tables missed. ipaddr.js classifies all but the first three.
    ['::127.0.0.1', 'loopback'], ['::7f00:1', 'loopback'], ['::a00:1', 'private'],
    ['::ffff:0:7f00:1', 'reserved'], ['::ffff:0:127.0.0.1', 'reserved'],
    ['192.88.99.1', 'reserved'], ['2001::1', 'reserved'], ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'],
    ['fec0::1', 'reserved'], ['100::1', 'reserved'], ['64:ff9b:1::1', 'private'], ['64:ff9b:1::808:808', 'private'],
    ['64:ff9b::8.8.8.8', 'public'], ['64:ff9b::7f00:1', 'loopback'], ['2002:7f00:1::1', 'reserved'], ['2001:db8::1', 'reserved'],
    ['198.18.0.1', 'reserved'], ['192.0.0.8', 'reserved'], ['fe80::1%eth0', 'link-local'], ['not-an-ip', 'reserved'],
  ])('%s is %s', (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls);
  });

  it('refuses the forms that reach loopback in test mode on a hosted instance, at delivery too', async () => {
    const hosted = webhookUrlPolicy({ env: 'production', webhookAllowPrivateUrls: false }, 'test');
    for (const host of ['[::127.0.0.1]', '[::ffff:0:7f00:1]', '[::ffff:127.0.0.1]']) {
      await expect(checkUrl(`http://${host}:9/x`, hosted)).rejects.toThrow(/public addresses/);
      expect((await postWebhook(`http://${host}:9/x`, {}, '{}', { timeoutMs: 1000, policy: hosted })).error).toBe('forbidden address');
    }
  });

  it('lets live mode reach only public addresses, test mode loopback too, and the operator switch everything', () => {
    expect(addressAllowed('127.0.0.1', { mode: 'live', allowPrivate: false, testLoopback: true })).toBe(false);
    expect(addressAllowed('127.0.0.1', { mode: 'test', allowPrivate: false, testLoopback: true })).toBe(true);
    expect(addressAllowed('10.0.0.1', { mode: 'test', allowPrivate: false, testLoopback: true })).toBe(false);
    expect(addressAllowed('169.254.169.254', { mode: 'test', allowPrivate: false, testLoopback: true })).toBe(false);
    expect(addressAllowed('169.254.169.254', { mode: 'live', allowPrivate: true, testLoopback: true })).toBe(true);
    expect(addressAllowed('8.8.8.8', { mode: 'live', allowPrivate: false, testLoopback: true })).toBe(true);
  });

  it('refuses names that resolve to loopback in live mode and accepts them in test mode', async () => {
    await expect(checkUrl('https://localhost/x', { mode: 'live', allowPrivate: false, testLoopback: true })).rejects.toThrow(/public addresses/);
    await expect(checkUrl('http://localhost:8080/x', { mode: 'test', allowPrivate: false, testLoopback: true })).resolves.toBeInstanceOf(URL);
    await expect(checkUrl('http://8.8.8.8/x', { mode: 'live', allowPrivate: false, testLoopback: true })).rejects.toThrow(/https/);
    await expect(checkUrl('https://nonexistent.invalid/x', { mode: 'live', allowPrivate: false, testLoopback: true })).rejects.toThrow(/does not resolve/);
  });

  it('on a hosted production instance refuses loopback in test mode too: it is our machine, not the developer\'s', async () => {
    const hosted = webhookUrlPolicy({ env: 'production', webhookAllowPrivateUrls: false }, 'test');
    expect(addressAllowed('127.0.0.1', hosted)).toBe(false);
    expect(addressAllowed('::1', hosted)).toBe(false);
    await expect(checkUrl('http://localhost:6379/x', hosted)).rejects.toThrow(/public addresses/);
    await expect(checkUrl('http://127.0.0.1:9/x', hosted)).rejects.toThrow(/public addresses/);
    // Delivery checks the dialled address with the same policy.
    expect((await postWebhook('http://127.0.0.1:9/x', {}, '{}', { timeoutMs: 1000, policy: hosted })).error).toBe('forbidden address');
    // Development keeps the convenience; the operator switch still opens everything.
    expect(addressAllowed('127.0.0.1', webhookUrlPolicy({ env: 'development', webhookAllowPrivateUrls: false }, 'test'))).toBe(true);
    expect(addressAllowed('127.0.0.1', webhookUrlPolicy({ env: 'production', webhookAllowPrivateUrls: true }, 'test'))).toBe(true);
  });

  it.each([
    'https://2130706433/x', 'https://0177.0.0.1/x', 'https://0x7f.1/x', 'https://127.1/x', 'https://[::ffff:127.0.0.1]/x',
    'https://[::1]/x', 'https://0.0.0.0/x', 'https://[::]/x', 'https://[::ffff:a9fe:a9fe]/x', 'https://[64:ff9b::a00:1]/x',
    'https://[::127.0.0.1]/x', 'https://[::ffff:0:7f00:1]/x', 'https://192.88.99.1/x', 'https://[2001::1]/x', 'https://[fec0::1]/x',
    'https://[100::1]/x', 'https://[64:ff9b:1::1]/x',
  ])('refuses the obfuscated loopback/private form %s in live mode', async (url) => {
    await expect(checkUrl(url, { mode: 'live', allowPrivate: false, testLoopback: true })).rejects.toThrow(/public addresses/);
  });
});
