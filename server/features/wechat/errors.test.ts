import { describe, expect, it } from 'vitest';
import { ApiError } from '../../lib/errors';
import { LOCAL, serializeWechatError, WechatError } from './errors';

describe('WechatError', () => {
  it('is an ApiError (wechat_error, 502) whose message is the plain words, with WeChat\'s code in details', () => {
    const e = new WechatError('jscode2session', 40163, 'code been used rid: 1234');
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ code: 'wechat_error', status: 502, message: e.plain, details: { errcode: 40163 } });
    expect(JSON.parse(serializeWechatError(e).slice('WechatError:'.length))).toEqual(e.toJSON());
  });

  it('speaks plain words for the codes tenants meet, and falls back to WeChat\'s own', () => {
    expect(new WechatError('stable_token', 40164, 'invalid ip 1.2.3.4').plain).toMatch(/IP whitelist/);
    expect(new WechatError('getwxacodeunlimit', 41030, 'invalid page').plain).toMatch(/page/);
    expect(new WechatError('stable_token', LOCAL.timeout, 'no answer').transient).toBe(true);
    expect(new WechatError('stable_token', 40125, 'invalid appsecret').transient).toBe(false);
    expect(new WechatError('getwxacodeunlimit', 99999, 'strange thing rid: abc').plain).toBe('WeChat error 99999: strange thing');
  });
});
