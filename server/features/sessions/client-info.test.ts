import { describe, expect, it } from 'vitest';
import { describeClient } from './client-info';

describe('describeClient: what the phone shows about the browser', () => {
  it.each([
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36', { browser: 'Chrome 130', os: 'macOS 14.0', mobile: false }],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1', { browser: 'Safari 17', os: 'iOS 17.4', mobile: true }],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0', { browser: 'Microsoft Edge 130', os: 'Windows 10', mobile: false }],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36', { browser: 'Chrome 130', os: 'Android 14', mobile: true }],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', { browser: 'Firefox 133', os: 'Linux', mobile: false }],
    ['', { browser: 'Unknown browser', os: 'Unknown system', mobile: false }],
    [undefined, { browser: 'Unknown browser', os: 'Unknown system', mobile: false }],
    ['\u0000\u0001 not a browser', { browser: 'Unknown browser', os: 'Unknown system', mobile: false }],
  ])('%s', (ua, expected) => {
    expect(describeClient(ua)).toEqual(expected);
  });
});
