/**
 * Svix's retry schedule: the first attempt now, then these waits after each failure. After
 * the last one fails the delivery is marked failed (8 attempts in all).
 */
export const DEFAULT_SCHEDULE_MS = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

export const JITTER = 0.2;

/**
 * The wait before the next attempt, or null when the schedule is spent. `attemptsMade`
 * counts the attempt that just failed. A Retry-After may lengthen the wait, never beyond
 * the schedule's longest step, and never shorten it below the scheduled (jittered) wait.
 */
export function nextDelay(schedule: number[], attemptsMade: number, retryAfterMs?: number, random = Math.random): number | null {
  const base = schedule[attemptsMade - 1];
  if (base === undefined) return null;
  const jittered = Math.round(base * (1 + (random() * 2 - 1) * JITTER));
  if (retryAfterMs === undefined) return jittered;
  const ceiling = Math.max(...schedule);
  return Math.min(Math.max(jittered, retryAfterMs), ceiling);
}
