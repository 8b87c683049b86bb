import { ReplyError, type Command } from 'ioredis';
import { UnavailableError } from './errors';

/**
 * Makes a command's failure to reach Redis (no connection, connection lost, retries or cluster
 * redirections spent, timed out) an UnavailableError, so callers and the HTTP edge tell an outage
 * from Redis's own answers (ReplyError: a script's error, a wrong type), which pass through.
 */
export function guard(command: Command): void {
  const reject = command.reject;
  command.reject = (err: Error) => reject(err instanceof ReplyError || err instanceof UnavailableError ? err : new UnavailableError('Redis is unavailable; try again shortly', 2, { cause: err }));
}

/** Start-up could not reach (or start) Redis: main.ts prints it as one line and exits. */
export class RedisUnavailableError extends Error {}
