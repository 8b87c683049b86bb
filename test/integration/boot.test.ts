import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config';
import { startServer } from '../../server/main';
import { MIGRATIONS_FOLDER, openDatabase } from '../../server/db/client';
import { createTestDatabase } from '../helpers/db';
import { createTestApp, openSocket, postJson, testScan } from '../helpers/login';
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

  it('instances starting together migrate one fresh database safely (advisory lock)', async () => {
    const fresh = await createTestDatabase('migrate', { migrate: false });
    try {
      const handles = await Promise.all([1, 2, 3, 4].map(() => openDatabase({ url: fresh.url, dataDir: '.data/unused', max: 2 })));
      await Promise.all(handles.map((h) => h.migrate()));
      // Each migration applied exactly once, however many instances raced for it.
      const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
      expect(journal.entries.length).toBeGreaterThan(1);
      const rows = await handles[0]!.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
      expect(JSON.stringify(rows)).toContain(`"n":${journal.entries.length}}`);
      await Promise.all(handles.map((h) => h.close()));
    } finally {
      await fresh.drop();
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
      // A whole login on PGlite too: the confirm's one-statement write (CTEs) must work on both drivers.
      const { keys } = await createTestApp(s);
      const sock = await openSocket(s.url, keys.test.publishable);
      const session = await sock.next('session');
      const scan = await testScan(s.url, keys.test.secret, String(session.session), 'o_pglite');
      expect((await postJson(`${s.url}/v1/mp/confirm`, { scene: session.session, ticket: scan.body.ticket })).status).toBe(200);
      await sock.next('scanned');
      expect((await sock.next('success')).user).toMatchObject({ openid: 'o_pglite' });
      const events = await s.core.db.query.loginEvents.findMany();
      expect(events.map((e) => [e.status, e.openid])).toEqual([['succeeded', 'o_pglite']]);
      expect((await s.core.db.query.webhookMessages.findMany()).map((m) => m.type).sort()).toEqual(['login.succeeded', 'user.created']);
    } finally {
      await s.close();
      await redis.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
