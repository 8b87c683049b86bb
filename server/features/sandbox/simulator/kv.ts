import type { RedisClient } from '../../../lib/redis';

/**
 * The few storage operations the simulator needs. Mounted in the product it runs on Redis,
 * so every server instance sees the same tokens, codes and faults; alone it can run in memory.
 */
export interface SimKv {
  get(key: string): Promise<string | null>;
  mget(keys: string[]): Promise<Array<string | null>>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Set only when absent; true when this call set it (single-use codes, token rotation). */
  setNx(key: string, value: string, ttlMs: number): Promise<boolean>;
  del(...keys: string[]): Promise<void>;
  /** Increment; the TTL is applied when the counter is created. */
  incr(key: string, ttlMs: number): Promise<number>;
  /** Increment a field of each hash; a hash lives ttlMs after its last change. */
  hincr(keys: string[], field: string, ttlMs: number): Promise<void>;
  hgetall(key: string): Promise<Record<string, string>>;
}

export function redisKv(redis: RedisClient, key: (part: string) => string): SimKv {
  return {
    get: (k) => redis.get(key(k)),
    mget: (ks) => redis.mget(ks.map(key)),
    async set(k, v, ttlMs) {
      await redis.set(key(k), v, 'PX', Math.max(1, Math.ceil(ttlMs)));
    },
    async setNx(k, v, ttlMs) {
      return (await redis.set(key(k), v, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK';
    },
    async del(...keys) {
      if (keys.length) await redis.del(...keys.map(key));
    },
    async incr(k, ttlMs) {
      // SET NX first so the TTL is only set by the call that creates the counter (works before Redis 7).
      const res = (await redis.multi().set(key(k), '0', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX').incr(key(k)).exec()) ?? [];
      return Number(res[1]?.[1]);
    },
    async hincr(ks, field, ttlMs) {
      const tx = redis.multi();
      for (const k of ks) tx.hincrby(key(k), field, 1).pexpire(key(k), Math.ceil(ttlMs));
      await tx.exec();
    },
    hgetall: (k) => redis.hgetall(key(k)),
  };
}

export function memoryKv(): SimKv {
  const values = new Map<string, { v: string; until: number }>();
  const hashes = new Map<string, Map<string, number>>();
  const live = (k: string) => {
    const e = values.get(k);
    if (e && e.until <= Date.now()) {
      values.delete(k);
      return undefined;
    }
    return e;
  };
  return {
    get: async (k) => live(k)?.v ?? null,
    mget: async (ks) => ks.map((k) => live(k)?.v ?? null),
    async set(k, v, ttlMs) {
      values.set(k, { v, until: Date.now() + ttlMs });
    },
    async setNx(k, v, ttlMs) {
      if (live(k)) return false;
      values.set(k, { v, until: Date.now() + ttlMs });
      return true;
    },
    async del(...keys) {
      for (const k of keys) {
        values.delete(k);
        hashes.delete(k);
      }
    },
    async incr(k, ttlMs) {
      const e = live(k);
      const n = (e ? Number(e.v) : 0) + 1;
      values.set(k, { v: String(n), until: e?.until ?? Date.now() + ttlMs });
      return n;
    },
    async hincr(ks, field, _ttlMs) {
      for (const k of ks) {
        const h = hashes.get(k) ?? new Map<string, number>();
        h.set(field, (h.get(field) ?? 0) + 1);
        hashes.set(k, h);
      }
    },
    async hgetall(k) {
      return Object.fromEntries([...(hashes.get(k) ?? new Map<string, number>())].map(([f, n]) => [f, String(n)]));
    },
  };
}
