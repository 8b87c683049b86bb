import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'server/**/*.test.ts', 'widget/**/*.test.ts', 'miniprogram/**/*.test.ts', 'console/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files each own a database and a Redis prefix, so they can run side by side;
    // two workers match the two cores CI has.
    pool: 'forks',
    maxWorkers: 2,
  },
});
