import { describe, expect, it } from 'vitest';
import { addressAllowed, checkUrl, classifyAddress } from './url-safety';

describe('webhook address classes', () => {
  it.each([
    ['8.8.8.8', 'public'], ['2606:4700:4700::1111', 'public'],
    ['127.0.0.1', 'loopback'], ['127.8.9.1', 'loopback'], ['::1', 'loopback'], ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'],
    ['10.0.0.1', 'private'], ['172.16.5.4', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'], ['100.64.0.1', 'private'], ['fd00::1', 'private'],
    ['169.254.169.254', 'link-local'], ['fe80::1', 'link-local'], ['::ffff:169.254.169.254', 'link-local'],
    ['0.0.0.0', 'reserved'], ['::', 'reserved'], ['224.0.0.1', 'reserved'], ['255.255.255.255', 'reserved'], ['64:ff9b::10.0.0.1', 'private'],
    ['172.32.0.1', 'public'],
  ])('%s is %s', (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls);
  });

  it('lets live mode reach only public addresses, test mode loopback too, and the operator switch everything', () => {
    expect(addressAllowed('127.0.0.1', { mode: 'live', allowPrivate: false })).toBe(false);
    expect(addressAllowed('127.0.0.1', { mode: 'test', allowPrivate: false })).toBe(true);
    expect(addressAllowed('10.0.0.1', { mode: 'test', allowPrivate: false })).toBe(false);
    expect(addressAllowed('169.254.169.254', { mode: 'test', allowPrivate: false })).toBe(false);
    expect(addressAllowed('169.254.169.254', { mode: 'live', allowPrivate: true })).toBe(true);
    expect(addressAllowed('8.8.8.8', { mode: 'live', allowPrivate: false })).toBe(true);
  });

  it('refuses names that resolve to loopback in live mode and accepts them in test mode', async () => {
    await expect(checkUrl('https://localhost/x', { mode: 'live', allowPrivate: false })).rejects.toThrow(/public addresses/);
    await expect(checkUrl('http://localhost:8080/x', { mode: 'test', allowPrivate: false })).resolves.toBeInstanceOf(URL);
    await expect(checkUrl('http://8.8.8.8/x', { mode: 'live', allowPrivate: false })).rejects.toThrow(/https/);
    await expect(checkUrl('https://nonexistent.invalid/x', { mode: 'live', allowPrivate: false })).rejects.toThrow(/does not resolve/);
  });
});
