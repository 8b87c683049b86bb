import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { LOCAL, WechatError, type WechatApi } from './errors';

/**
 * WeChat's code quota is per AppID while BullMQ's limiter is per queue, so we count per AppID
 * ourselves: one busy tenant runs out of its own budget and never slows another.
 */
export function createAppIdLimiter(opts: { redis: Redis; keyPrefix: string; pointsPerMinute: number }) {
  const limiter = new RateLimiterRedis({
    storeClient: opts.redis,
    keyPrefix: opts.keyPrefix,
    points: opts.pointsPerMinute,
    duration: 60,
  });
  return {
    async consume(api: WechatApi, wechatAppId: string): Promise<void> {
      try {
        await limiter.consume(wechatAppId, 1);
      } catch (err) {
        if (err instanceof RateLimiterRes) {
          const wait = Math.ceil(err.msBeforeNext / 1000);
          throw new WechatError(api, LOCAL.quota, `local quota: ${opts.pointsPerMinute}/min for this AppID reached`,
            `Too many mini-program codes for this AppID (at most ${opts.pointsPerMinute} a minute); try again in ${wait} s`);
        }
        throw err;
      }
    },
  };
}
