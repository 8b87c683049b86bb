import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Core } from '../../../core';
import { sha256 } from '../../../lib/crypto';
import { ApiError } from '../../../lib/errors';

/** The console's abuse limits; each one's reason is in the comment of `createLoginLimiter`. */
export const LIMITS = {
  signInPerIp: { points: 30, seconds: 15 * 60 },
  signInPerEmailAndIp: { points: 5, seconds: 15 * 60 },
  signInPerEmail: { points: 10, seconds: 60 * 60 },
  signUpPerIp: { points: 20, seconds: 60 * 60 },
  knownPlaceSeconds: 30 * 24 * 3600,
  forgotPerIp: { points: 10, seconds: 15 * 60 },
  forgotPerEmail: { points: 3, seconds: 60 * 60 },
  verifyResendPerAccount: { points: 3, seconds: 60 * 60 },
  secondFactorPerAccount: { points: 10, seconds: 15 * 60 },
} as const;

/**
 * Sign-in attempts are limited three ways:
 * - per client IP: one place trying many accounts;
 * - per (email, IP): one place guessing one account; the real owner's own place gets in again
 *   after a successful sign-in clears it;
 * - per email, more slowly, for attempts from places this account has never signed in from:
 *   guesses spread over many IPs. A place where the account signed in before is exempt from
 *   this one, so an attacker who burns the per-email budget locks out only other strangers,
 *   never the owner at their usual computer (issue 11 item 4).
 * Every attempt is counted before the password is checked (atomic in Redis), so concurrent
 * guesses can't slip past, and a refused attempt looks the same whether the password was right.
 */
export function createLoginLimiter(core: Core) {
  const client = core.redis.client;
  const limiter = (name: string, l: { points: number; seconds: number }) =>
    new RateLimiterRedis({ storeClient: client, keyPrefix: core.key('rl', name), points: l.points, duration: l.seconds });
  const byIp = limiter('console-login-ip', LIMITS.signInPerIp);
  const byEmailAndIp = limiter('console-login-email-ip', LIMITS.signInPerEmailAndIp);
  const byEmail = limiter('console-login-email', LIMITS.signInPerEmail);
  const signUpByIp = limiter('console-signup-ip', LIMITS.signUpPerIp);
  const forgotByIp = limiter('console-forgot-ip', LIMITS.forgotPerIp);
  const forgotByEmail = limiter('console-forgot-email', LIMITS.forgotPerEmail);
  const resendByAccount = limiter('console-verify-resend', LIMITS.verifyResendPerAccount);
  const secondFactor = limiter('console-2fa', LIMITS.secondFactorPerAccount);
  // Hashed so Redis never holds the email next to the address.
  const place = (email: string, ip: string) => sha256(`${email}\n${ip}`);
  const knownKey = (email: string, ip: string) => core.key('console-known-place', place(email, ip));

  function refuse(err: unknown): never {
    if (err instanceof RateLimiterRes) {
      const minutes = Math.max(1, Math.ceil(err.msBeforeNext / 60_000));
      throw new ApiError('rate_limited', `Too many attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, { retryAfterSeconds: Math.ceil(err.msBeforeNext / 1000) });
    }
    throw err;
  }

  return {
    /** Counts one attempt; throws `rate_limited` when any limit that applies is spent. */
    async signIn(ip: string, email: string): Promise<void> {
      await byIp.consume(ip).catch(refuse);
      await byEmailAndIp.consume(place(email, ip)).catch(refuse);
      const known = (await client.exists(knownKey(email, ip))) === 1;
      if (!known) await byEmail.consume(email).catch(refuse);
    },
    /** The password was right: the attempt was no guess, and this place is the account's own from now on. */
    async signedIn(ip: string, email: string): Promise<void> {
      await byEmailAndIp.delete(place(email, ip));
      const wasKnown = await client.set(knownKey(email, ip), '1', 'EX', LIMITS.knownPlaceSeconds, 'GET');
      if (wasKnown === null) await byEmail.reward(email, 1);
    },
    async signUp(ip: string): Promise<void> {
      await signUpByIp.consume(ip).catch(refuse);
    },
    /** A place asking for many resets is refused openly; it learns nothing about any email. */
    async forgot(ip: string): Promise<void> {
      await forgotByIp.consume(ip).catch(refuse);
    },
    /**
     * Whether one more mail may go to this address (sign-up's "you already have an account"
     * mail and reset links share it). Spent silently: a 429 here would say the email is known.
     */
    async mailToEmail(email: string): Promise<boolean> {
      return forgotByEmail.consume(sha256(email)).then(() => true, (err: unknown) => {
        if (err instanceof RateLimiterRes) return false;
        throw err;
      });
    },
    async verifyResend(accountId: string): Promise<void> {
      await resendByAccount.consume(accountId).catch(refuse);
    },
    /** Second-factor guesses per account, whatever the place: 10 per 15 minutes against a million codes. */
    async secondFactor(accountId: string): Promise<void> {
      await secondFactor.consume(accountId).catch(refuse);
    },
  };
}

export type LoginLimiter = ReturnType<typeof createLoginLimiter>;
