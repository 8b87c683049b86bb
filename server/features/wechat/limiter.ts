import type { RedisClient } from '../../lib/redis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { LOCAL, WechatError, type WechatApi } from './errors';

export interface AppIdLimiterOptions {
  redis: RedisClient;
  keyPrefix: string;
  /** Calls allowed per AppID in each window. */
  points: number;
  windowSeconds: number;
  /** The tenant's words when the budget is spent, given the seconds until it refills. */
  plain(waitSeconds: number): string;
}

/**
 * WeChat's quotas are per AppID while BullMQ's limiter is per queue, so we count per AppID
 * ourselves, in Redis, shared by every instance: one busy tenant runs out of its own budget
 * and never slows another.
 */
export function createAppIdLimiter(opts: AppIdLimiterOptions) {
  const limiter = new RateLimiterRedis({
    storeClient: opts.redis,
    keyPrefix: opts.keyPrefix,
    points: opts.points,
    duration: opts.windowSeconds,
  });
  return {
    async consume(api: WechatApi, wechatAppId: string): Promise<void> {
      try {
        await limiter.consume(wechatAppId, 1);
      } catch (err) {
        if (err instanceof RateLimiterRes) {
          const wait = Math.ceil(err.msBeforeNext / 1000);
          throw new WechatError(api, LOCAL.quota, `local quota: ${opts.points} per ${opts.windowSeconds} s for this AppID reached`, opts.plain(wait));
        }
        throw err;
      }
    },
  };
}
