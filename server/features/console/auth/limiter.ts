import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Core } from '../../../core';
import { ApiError } from '../../../lib/errors';

/**
 * Sign-in attempts are limited per client IP (many accounts from one place) and per email
 * (one account from many places). A successful sign-in clears the email's count.
 */
export function createLoginLimiter(core: Core) {
  const client = core.redis.client;
  const byIp = new RateLimiterRedis({ storeClient: client, keyPrefix: core.key('rl', 'console-login-ip'), points: 30, duration: 15 * 60 });
  const byEmail = new RateLimiterRedis({ storeClient: client, keyPrefix: core.key('rl', 'console-login-email'), points: 10, duration: 15 * 60 });
  const signupByIp = new RateLimiterRedis({ storeClient: client, keyPrefix: core.key('rl', 'console-signup-ip'), points: 20, duration: 60 * 60 });

  function refuse(err: unknown): never {
    if (err instanceof RateLimiterRes) {
      const minutes = Math.max(1, Math.ceil(err.msBeforeNext / 60_000));
      throw new ApiError('rate_limited', `Too many attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, { retryAfterSeconds: Math.ceil(err.msBeforeNext / 1000) });
    }
    throw err;
  }

  return {
    async signIn(ip: string, email: string): Promise<void> {
      await Promise.all([byIp.consume(ip), byEmail.consume(email)]).catch(refuse);
    },
    async signedIn(email: string): Promise<void> {
      await byEmail.delete(email);
    },
    async signUp(ip: string): Promise<void> {
      await signupByIp.consume(ip).catch(refuse);
    },
  };
}

export type LoginLimiter = ReturnType<typeof createLoginLimiter>;
