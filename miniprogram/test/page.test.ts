import { describe, expect, it } from 'vitest';
import { apiError, fakeWx, SCAN_OK, type Answer } from './fake-wx';
import { getSimulate, has, pageText, renderPage, waitForState } from './harness';

const SCENE = 'AbCdEfGhIjKlMnOpQrStUv';
const ok = (body: unknown): Answer => ({ status: 200, body });

describe('the confirm page rendered by miniprogram-simulate', () => {
  it('shows the site, device, time, match number and warning, then confirms on submit', async () => {
    const wx = fakeWx({ language: 'en', respond: (p) => (p === '/v1/mp/scan' ? ok(SCAN_OK) : ok({ ok: true })) });
    const page = renderPage(wx);
    expect(pageText(page)).toContain('Loading the login request');
    await page.instance.onLoad({ scene: encodeURIComponent(SCENE) });
    await waitForState(page, 'review');
    const text = pageText(page);
    expect(text).toContain('Acme Shop');
    expect(text).toContain('https://shop.example');
    expect(text).toContain('Chrome 126 on macOS 14');
    expect(text).toContain('中国, 上海');
    expect(text).toContain('203.0.113.7');
    expect(page.querySelector('.match-number')!.dom.textContent).toBe('42');
    expect(text).toContain('Make sure this number matches the one on your computer screen');
    expect(has(page, '.logo')).toBe(true);
    expect(wx.titles).toEqual(['Confirm login']);

    // The confirm button submits the form; that is where type="nickname" values arrive.
    page.querySelector('.confirm-form')!.dispatchEvent('submit', { detail: { value: { nickname: 'Ming' } } });
    await waitForState(page, 'done');
    expect(wx.requests[1]!.body).toEqual({ scene: SCENE, ticket: 'tkt_1', profile: { nickname: 'Ming' } });
    expect(pageText(page)).toContain('You are logged in');
    page.querySelector('.btn-back')!.dispatchEvent('tap');
    await getSimulate().sleep(0);
    expect(wx.exits).toBe(1);
  });

  it('cancels from the Cancel button and says so in Chinese', async () => {
    const wx = fakeWx({ language: 'zh_CN', respond: (p) => (p === '/v1/mp/scan' ? ok(SCAN_OK) : ok({ ok: true })) });
    const page = renderPage(wx);
    await page.instance.onLoad({ scene: SCENE });
    await waitForState(page, 'review');
    expect(pageText(page)).toContain('Acme Shop 请求使用你的微信账号登录');
    page.querySelector('.btn-cancel')!.dispatchEvent('tap');
    await waitForState(page, 'cancelled');
    expect(wx.requests.map((r) => r.path)).toEqual(['/v1/mp/scan', '/v1/mp/cancel']);
    expect(pageText(page)).toContain('已取消登录');
    expect(has(page, '.btn-retry')).toBe(false);
  });

  it('shows a network error with a retry button that works', async () => {
    let down = true;
    const wx = fakeWx({ language: 'en', respond: (p) => (down ? 'network' : p === '/v1/mp/scan' ? ok(SCAN_OK) : ok({ ok: true })) });
    const page = renderPage(wx);
    await page.instance.onLoad({ scene: SCENE });
    await waitForState(page, 'error');
    expect(pageText(page)).toContain('No connection');
    down = false;
    page.querySelector('.btn-retry')!.dispatchEvent('tap');
    await waitForState(page, 'review');
    expect(pageText(page)).toContain('42');
  });

  it('shows the expired screen without a retry', async () => {
    const wx = fakeWx({ language: 'en', respond: () => apiError(410, 'session_expired') });
    const page = renderPage(wx);
    await page.instance.onLoad({ scene: SCENE });
    await waitForState(page, 'error');
    expect(pageText(page)).toContain('This code has expired');
    expect(pageText(page)).toContain('Refresh the code on your computer');
    expect(has(page, '.btn-retry')).toBe(false);
    expect(has(page, '.btn-back')).toBe(true);
  });

  it('offers the avatar button and nickname input only where the base library has them', async () => {
    const respond = () => ok(SCAN_OK);
    const full = renderPage(fakeWx({ respond }));
    await full.instance.onLoad({ scene: SCENE });
    await waitForState(full, 'review');
    expect(has(full, '.avatar-btn')).toBe(true);
    expect(has(full, '.nickname')).toBe(true);

    const old = renderPage(fakeWx({ respond, supports: [] }));
    await old.instance.onLoad({ scene: SCENE });
    await waitForState(old, 'review');
    expect(has(old, '.avatar-btn')).toBe(false);
    expect(has(old, '.profile')).toBe(false);
    expect(has(old, '.btn-confirm')).toBe(true);
  });
});

describe('a site that asks for the phone number', () => {
  const asking = (phoneNumber: 'optional' | 'required') => ({ ...SCAN_OK, asks: { phoneNumber } });

  it('required: says so before consent, Confirm waits for the number, then sends its code', async () => {
    const wx = fakeWx({ language: 'en', respond: (p) => (p === '/v1/mp/scan' ? ok(asking('required')) : ok({ ok: true })) });
    const page = renderPage(wx);
    await page.instance.onLoad({ scene: SCENE });
    await waitForState(page, 'review');
    expect(pageText(page)).toContain('This site also asks for your phone number');
    expect(pageText(page)).toContain('You cannot log in to this site without it.');
    page.querySelector('.confirm-form')!.dispatchEvent('submit', { detail: { value: {} } });
    await getSimulate().sleep(10);
    expect(wx.requests.map((r) => r.path)).toEqual(['/v1/mp/scan']);
    page.querySelector('.btn-phone')!.dispatchEvent('getphonenumber', { detail: { code: 'phone-code-1', errMsg: 'getPhoneNumber:ok' } });
    await getSimulate().sleep(0);
    expect(pageText(page)).toContain('Your WeChat phone number will be shared');
    page.querySelector('.confirm-form')!.dispatchEvent('submit', { detail: { value: {} } });
    await waitForState(page, 'done');
    expect(wx.requests[1]).toEqual({ path: '/v1/mp/confirm', body: { scene: SCENE, ticket: 'tkt_1', phoneCode: 'phone-code-1' } });
  });

  it('required: refusing the number cancels the login and says why', async () => {
    const wx = fakeWx({ language: 'en', respond: (p) => (p === '/v1/mp/scan' ? ok(asking('required')) : ok({ ok: true })) });
    const page = renderPage(wx);
    await page.instance.onLoad({ scene: SCENE });
    await waitForState(page, 'review');
    page.querySelector('.btn-phone')!.dispatchEvent('getphonenumber', { detail: { errMsg: 'getPhoneNumber:fail user deny' } });
    await waitForState(page, 'cancelled');
    expect(wx.requests.map((r) => r.path)).toEqual(['/v1/mp/scan', '/v1/mp/cancel']);
    expect(pageText(page)).toContain('This site needs your phone number to log you in');
  });

  it('optional: declining still logs in, without a phone code', async () => {
    const wx = fakeWx({ language: 'zh_CN', respond: (p) => (p === '/v1/mp/scan' ? ok(asking('optional')) : ok({ ok: true })) });
    const page = renderPage(wx);
    await page.instance.onLoad({ scene: SCENE });
    await waitForState(page, 'review');
    expect(pageText(page)).toContain('该网站还请求获取你的手机号');
    page.querySelector('.btn-phone')!.dispatchEvent('getphonenumber', { detail: { errMsg: 'getPhoneNumber:fail user deny' } });
    await getSimulate().sleep(0);
    expect(pageText(page)).toContain('你选择了不提供手机号');
    page.querySelector('.confirm-form')!.dispatchEvent('submit', { detail: { value: {} } });
    await waitForState(page, 'done');
    expect(wx.requests[1]!.body).toEqual({ scene: SCENE, ticket: 'tkt_1' });
  });

  it('a code WeChat refuses brings the visitor back to share again, in plain words', async () => {
    let confirms = 0;
    const wx = fakeWx({ language: 'en', respond: (p) => (p === '/v1/mp/scan' ? ok(asking('required')) : ++confirms === 1 ? apiError(502, 'wechat_error') : ok({ ok: true })) });
    const page = renderPage(wx);
    await page.instance.onLoad({ scene: SCENE });
    await waitForState(page, 'review');
    page.querySelector('.btn-phone')!.dispatchEvent('getphonenumber', { detail: { code: 'spent' } });
    await getSimulate().sleep(0);
    page.querySelector('.confirm-form')!.dispatchEvent('submit', { detail: { value: {} } });
    await getSimulate().sleep(10);
    await waitForState(page, 'review');
    expect(pageText(page)).toContain('Your phone number could not be read');
    page.querySelector('.btn-phone')!.dispatchEvent('getphonenumber', { detail: { code: 'fresh' } });
    await getSimulate().sleep(0);
    page.querySelector('.confirm-form')!.dispatchEvent('submit', { detail: { value: {} } });
    await waitForState(page, 'done');
    expect(wx.requests[2]!.body).toMatchObject({ phoneCode: 'fresh' });
  });

  it('a site that does not ask shows no phone section', async () => {
    const wx = fakeWx({ language: 'en', respond: () => ok(SCAN_OK) });
    const page = renderPage(wx);
    await page.instance.onLoad({ scene: SCENE });
    await waitForState(page, 'review');
    expect(has(page, '.phone')).toBe(false);
    expect(pageText(page)).not.toContain('phone number');
  });
});
