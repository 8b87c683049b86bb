import { describe, expect, it } from 'vitest';
import { deserializeWechatError, LOCAL, serializeWechatError, WechatError } from './errors';

describe('WechatError', () => {
  it('survives the trip through a job failure message', () => {
    const e = new WechatError('jscode2session', 40163, 'code been used rid: 1234');
    const back = deserializeWechatError(`Error: ${serializeWechatError(e)}`);
    expect(back).toBeInstanceOf(WechatError);
    expect(back?.toJSON()).toEqual(e.toJSON());
    expect(deserializeWechatError('some other failure')).toBeNull();
    expect(deserializeWechatError('WechatError:{not json')).toBeNull();
  });

  it('speaks plain words for the codes tenants meet, and falls back to WeChat\'s own', () => {
    expect(new WechatError('stable_token', 40164, 'invalid ip 1.2.3.4').plain).toMatch(/IP whitelist/);
    expect(new WechatError('getwxacodeunlimit', 41030, 'invalid page').plain).toMatch(/page/);
    expect(new WechatError('stable_token', LOCAL.timeout, 'no answer').transient).toBe(true);
    expect(new WechatError('stable_token', 40125, 'invalid appsecret').transient).toBe(false);
    expect(new WechatError('getwxacodeunlimit', 99999, 'strange thing rid: abc').plain).toBe('WeChat error 99999: strange thing');
  });
});
