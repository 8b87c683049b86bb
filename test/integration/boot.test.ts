import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config';
import { startServer } from '../../server/main';
import { createTestEnv } from '../helpers/server';
import { TEST_REDIS_URL, testRedisPrefix } from '../helpers/redis';

describe('boot', () => {
  it('serves health and readiness on real Postgres and Redis', async () => {
    const env = await createTestEnv('boot');
    try {
      const s = await env.start();
      expect(await (await fetch(`${s.url}/healthz`)).json()).toEqual({ ok: true });
      const ready = await fetch(`${s.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ postgres: 'ok', redis: 'ok' });
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      expect(metrics).toContain('wsl_sessions_created_total');
    } finally {
      await env.dispose();
    }
  });

  it('boots on the embedded PGlite default and applies the migrations', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsl-pglite-'));
    const redis = testRedisPrefix('pglite');
    const s = await startServer(loadConfig({ NODE_ENV: 'test', PORT: '0', DATA_DIR: dir, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: redis.prefix, LOG_LEVEL: 'silent' }));
    try {
      expect(s.core.database.kind).toBe('pglite');
      const tables = await s.core.database.db.execute(
        sql`select table_name from information_schema.tables where table_name in ('apps','login_events','webhook_messages')`,
      );
      expect(JSON.stringify(tables)).toContain('login_events');
      expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
    } finally {
      await s.close();
      await redis.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
