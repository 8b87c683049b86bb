import { describe, expect, it } from 'vitest';
import { backoff } from './backoff';

describe('reconnect backoff', () => {
  it('doubles from 500 ms per attempt and caps at 10 s', () => {
    const top = (n: number) => backoff(n, () => 1);
    expect([1, 2, 3, 4, 5, 6, 7].map(top)).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('jitters over the upper half of each step', () => {
    expect(backoff(3, () => 0)).toBe(1000);
    expect(backoff(3, () => 0.5)).toBe(1500);
    expect(backoff(3, () => 1)).toBe(2000);
    for (let i = 0; i < 50; i++) {
      const d = backoff(4);
      expect(d).toBeGreaterThanOrEqual(2000);
      expect(d).toBeLessThanOrEqual(4000);
    }
  });
});
