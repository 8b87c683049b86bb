/**
 * Delay before reconnect attempt `attempt` (1-based): exponential from `base`, capped at `max`,
 * with jitter over the upper half so thousands of widgets dropped by one server restart don't
 * all come back in the same millisecond.
 */
export function backoff(attempt: number, random: () => number = Math.random, base = 500, max = 10_000): number {
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Failed attempts in a row after which the element stops and says it is offline: about a minute
 * of retrying, longer than the Redis or Postgres restarts it is meant to ride out.
 */
export const MAX_ATTEMPTS = 10;
