import { randomBytes } from 'node:crypto';
import type { Core } from '../../../core';
import { sha256 } from '../../../lib/crypto';
import { ApiError } from '../../../lib/errors';

/** Time to open the authenticator app and type the code. */
const CHALLENGE_TTL_SECONDS = 5 * 60;

/**
 * The half-way state of a two-factor sign-in: the password was right, the code is still to
 * come. Redis holds the account under the challenge's hash for five minutes; it is spent by
 * the sign-in it finishes, so a challenge can't open two sessions.
 */
export function createSecondFactorChallenges(core: Pick<Core, 'redis' | 'key'>) {
  const client = core.redis.client;
  const key = (challenge: string) => core.key('console-2fa-challenge', sha256(challenge));
  return {
    async issue(accountId: string): Promise<string> {
      const challenge = randomBytes(24).toString('base64url');
      await client.set(key(challenge), accountId, 'EX', CHALLENGE_TTL_SECONDS);
      return challenge;
    },
    async peek(challenge: string): Promise<string> {
      const accountId = await client.get(key(challenge));
      if (!accountId) throw new ApiError('unauthorized', 'This sign-in has expired; enter your email and password again');
      return accountId;
    },
    /** True only for the one caller that removed it: two codes racing can't both sign in. */
    async spend(challenge: string): Promise<boolean> {
      return (await client.del(key(challenge))) === 1;
    },
  };
}

export type SecondFactorChallenges = ReturnType<typeof createSecondFactorChallenges>;
