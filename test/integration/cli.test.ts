/** The self-hosting CLI run the way an operator runs it: `npm run cli -- …` as a child process. */
import { execFile } from 'node:child_process';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apps, auditEvents } from '../../server/db/schema/index';
import { createAppsStore } from '../../server/features/apps/store';
import { createTestDatabase } from '../helpers/db';
import { testConfig, TEST_MASTER_KEY } from '../helpers/server';

let db: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  db = await createTestDatabase('cli');
});
afterAll(async () => {
  await db?.drop();
});

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, NODE_ENV: 'test', DATABASE_URL: db.url, MASTER_KEY: TEST_MASTER_KEY, LOG_LEVEL: 'silent' };
  return new Promise((resolve) => {
    execFile('npm', ['run', '--silent', 'cli', '--', ...args], { env, cwd: process.cwd() }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('npm run cli', () => {
  it('apps:create prints JSON with the app id and its keys, and the app works', async () => {
    const r = await cli('apps:create', '--name', 'My shop', '--origin', 'https://Shop.Example.com/', '--origin', 'https://[::1]:8080', '--origin', 'http://intranet');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { appId: string; tenantId: string; allowedOrigins: string[]; keys: Record<string, { publishable: string; secret: string }> };
    expect(out.appId).toMatch(/^app_/);
    expect(out.tenantId).toMatch(/^ten_/);
    expect(out.allowedOrigins).toEqual(['https://shop.example.com', 'https://[::1]:8080', 'http://intranet']);
    expect(out.keys.test!.publishable).toMatch(/^pk_test_/);
    expect(out.keys.test!.secret).toMatch(/^sk_test_/);
    expect(out.keys.live).toBeUndefined();

    const [row] = await db.database.db.select().from(apps).where(eq(apps.id, out.appId));
    expect(row!.name).toBe('My shop');
    const store = createAppsStore({ db: db.database.db, config: testConfig(db.url, 'unused') });
    expect((await store.resolveSecretKey(out.keys.test!.secret))?.app.id).toBe(out.appId);
    // The operator's command is in the tenant's audit log, with no secret in it.
    const events = await db.database.db.select().from(auditEvents).where(eq(auditEvents.appId, out.appId));
    expect(events).toEqual([expect.objectContaining({ tenantId: out.tenantId, actorType: 'operator', action: 'app.created', targetType: 'app', targetId: out.appId })]);
    expect(JSON.stringify(events)).not.toContain(out.keys.test!.secret);
  }, 60_000);

  it('apps:update --phone-number sets what the confirm page asks for, and refuses anything else', async () => {
    const created = JSON.parse((await cli('apps:create', '--name', 'Phone shop', '--origin', 'https://phone.example.com')).stdout) as { appId: string };
    const r = await cli('apps:update', '--app', created.appId, '--phone-number', 'required');
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ appId: created.appId, codeStyle: 'wxacode', phoneNumber: 'required' });
    const [row] = await db.database.db.select().from(apps).where(eq(apps.id, created.appId));
    expect(row!.phoneNumber).toBe('required');

    const wrong = await cli('apps:update', '--app', created.appId, '--phone-number', 'always');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--phone-number is off, optional or required/);
    const missing = await cli('apps:update', '--app', 'app_doesnotexist1', '--phone-number', 'off');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no app app_doesnotexist1/);
  }, 60_000);

  it('gives live keys too when the WeChat credentials are given', async () => {
    const r = await cli('apps:create', '--name', 'Live', '--origin', 'https://live.example.com', '--appid', 'wx0123456789abcdef', '--secret', '0123456789abcdef0123456789abcdef');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).keys.live.publishable).toMatch(/^pk_live_/);
  }, 60_000);

  it('apps:create --code-style link, then apps:update --code-style switches it (DESIGN §11)', async () => {
    const r = await cli('apps:create', '--name', 'Linked', '--origin', 'https://linked.example.com', '--code-style', 'link');
    expect(r.code).toBe(0);
    const created = JSON.parse(r.stdout);
    expect(created.codeStyle).toBe('link');
    const u = await cli('apps:update', '--app', created.appId, '--code-style', 'wxacode');
    expect(u.code).toBe(0);
    expect(JSON.parse(u.stdout)).toEqual({ appId: created.appId, codeStyle: 'wxacode', phoneNumber: 'off' });
    // The operator's change is in the tenant's audit log.
    const events = await db.database.db.select().from(auditEvents).where(eq(auditEvents.appId, created.appId));
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['app.created', 'app.updated']));
    const [row] = await db.database.db.select({ codeStyle: apps.codeStyle }).from(apps).where(eq(apps.id, created.appId));
    expect(row!.codeStyle).toBe('wxacode');
    const bad = await cli('apps:update', '--app', created.appId, '--code-style', 'png');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--code-style is wxacode or link/);
    const missing = await cli('apps:update', '--app', 'app_doesnotexist1', '--code-style', 'link');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no app app_doesnotexist1/);
  }, 120_000);

  it.each([
    [['apps:create', '--name', 'X', '--origin', 'https://x.example.com', '--bogus'], /Unknown option '--bogus'/],
    [['apps:create', '--origin', 'https://x.example.com'], /--name is required/],
    [['apps:create', '--name', 'X'], /give at least one --origin/],
    [['apps:create', '--name', 'X', '--origin', 'https://shop.example.com//'], /--origin "https:\/\/shop\.example\.com\/\/" must look like/],
    [['apps:create', '--name', 'X', '--origin', 'https://x.example.com', '--appid', 'wx0123456789abcdef'], /--appid and --secret go together/],
    [['apps:frobnicate'], /unknown command 'apps:frobnicate'/],
  ])('refuses %j with a clear line and exit code 2', async (args, message) => {
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/npm run cli -- help/);
  }, 60_000);
});
