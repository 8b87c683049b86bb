import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from './http-post';
import { DEFAULT_SCHEDULE_MS, nextDelay } from './schedule';

describe('retry schedule', () => {
  it("follows Svix's waits with ±20 % jitter and ends after the eighth attempt", () => {
    expect(DEFAULT_SCHEDULE_MS).toEqual([5e3, 3e5, 18e5, 72e5, 18e6, 36e6, 36e6]);
    expect(nextDelay(DEFAULT_SCHEDULE_MS, 1, undefined, () => 0.5)).toBe(5_000);
    expect(nextDelay(DEFAULT_SCHEDULE_MS, 1, undefined, () => 0)).toBe(4_000);
    expect(nextDelay(DEFAULT_SCHEDULE_MS, 1, undefined, () => 1)).toBe(6_000);
    expect(nextDelay(DEFAULT_SCHEDULE_MS, 2, undefined, () => 0.5)).toBe(300_000);
    expect(nextDelay(DEFAULT_SCHEDULE_MS, 7, undefined, () => 0.5)).toBe(36_000_000);
    expect(nextDelay(DEFAULT_SCHEDULE_MS, 8, undefined, () => 0.5)).toBeNull();
  });

  it('honours Retry-After within the schedule: longer waits up to its longest step, never shorter ones', () => {
    expect(nextDelay(DEFAULT_SCHEDULE_MS, 1, 60_000, () => 0.5)).toBe(60_000);
    expect(nextDelay(DEFAULT_SCHEDULE_MS, 2, 1_000, () => 0.5)).toBe(300_000);
    expect(nextDelay(DEFAULT_SCHEDULE_MS, 1, 7 * 86_400_000, () => 0.5)).toBe(36_000_000);
    expect(nextDelay(DEFAULT_SCHEDULE_MS, 8, 1_000, () => 0.5)).toBeNull();
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
