import { describe, expect, it } from 'vitest';
import { chooseLang, stringsFor } from './i18n';

describe('language choice', () => {
  it('takes the element, then the page, then the browser', () => {
    expect(chooseLang(['en', 'zh-CN', 'zh-CN'])).toBe('en');
    expect(chooseLang([null, 'zh-CN', 'en-US'])).toBe('zh-CN');
    expect(chooseLang([undefined, '', 'zh-CN', 'en'])).toBe('zh-CN');
  });

  it('maps any Chinese variant to zh-CN and any English one to en', () => {
    expect(chooseLang(['zh-TW'])).toBe('zh-CN');
    expect(chooseLang(['ZH_hans_CN'])).toBe('zh-CN');
    expect(chooseLang(['en-GB'])).toBe('en');
  });

  it('skips languages it does not have, defaulting to English', () => {
    expect(chooseLang(['fr', 'de-DE', 'zh'])).toBe('zh-CN');
    expect(chooseLang(['fr', 'ja'])).toBe('en');
    expect(chooseLang([])).toBe('en');
  });

  it('lets a page override any string and keeps the rest', () => {
    const t = stringsFor('zh-CN', { ready: '扫码登录 ACME' });
    expect(t.ready).toBe('扫码登录 ACME');
    expect(t.expired).toBe(stringsFor('zh-CN').expired);
    expect(stringsFor('en').ready).toBe('Scan the code with WeChat');
  });

  it('has every string in both languages', () => {
    const en = stringsFor('en');
    const zh = stringsFor('zh-CN');
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    for (const v of [...Object.values(en), ...Object.values(zh)]) expect(v.trim()).not.toBe('');
  });
});
