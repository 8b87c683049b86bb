import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix of this test file's own; cleanup deletes every key under it. */
export function testRedisPrefix(label = 't'): { prefix: string; cleanup(): Promise<void> } {
  const prefix = `wsltest-${label.replace(/[^a-z0-9]/gi, '').slice(0, 16)}-${randomBytes(4).toString('hex')}`;
  return {
    prefix,
    async cleanup() {
      const r = new Redis(TEST_REDIS_URL);
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length) await r.del(...keys);
      } while (cursor !== '0');
      await r.quit();
    },
  };
}
