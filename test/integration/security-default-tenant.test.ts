import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apps } from '../../server/db/schema/index';
import { createAppsStore } from '../../server/features/apps/store';
import type { RunningServer } from '../../server/main';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { ConsoleClient } from './console-client';

/**
 * The CLI's default tenant and the demo app are found by name. Organisation names are free
 * text anyone can sign up with, so a name match alone would hand the operator's apps, or the
 * demo page's logins, to a stranger's organisation.
 */
let env: TestEnv;
let s: RunningServer;

beforeAll(async () => {
  env = await createTestEnv('secdefaulttenant');
  s = await env.start();
});
afterAll(async () => {
  await env?.dispose();
});

describe('default tenants are not matched by a name anyone can choose', () => {
  it('puts CLI apps in the operator\'s tenant, never in a signed-up organisation called "Self-hosted"', async () => {
    const attacker = new ConsoleClient(s.url);
    const me = await attacker.signUp('mallory@example.com', undefined, 'Self-hosted');
    const theirs = me.tenants[0]!.id;
    const store = createAppsStore(s.core);
    const tenantId = await store.ensureDefaultTenant();
    expect(tenantId).not.toBe(theirs);
    // And it stays the same tenant afterwards.
    expect(await store.ensureDefaultTenant()).toBe(tenantId);
    const { app } = await store.createApp({ tenantId, name: 'Operator app', allowedOrigins: [] });
    expect((await attacker.get(`/tenants/${theirs}/apps`)).body.data.map((a: { id: string }) => a.id)).not.toContain(app.id);
  });

  it('serves the demo app\'s key on the demo page, not that of a signed-up "Demo" organisation\'s "Demo shop"', async () => {
    const attacker = new ConsoleClient(s.url);
    const me = await attacker.signUp('eve@example.com', undefined, 'Demo');
    const theirs = me.tenants[0]!.id;
    const created = await attacker.post(`/tenants/${theirs}/apps`, { name: 'Demo shop', allowedOrigins: ['https://evil.example.com'] });
    expect(created.status).toBe(201);
    const html = await (await fetch(`${s.url}/`)).text();
    expect(html).toMatch(/pk_test_/);
    expect(html).not.toContain(created.body.keys.test.publishable);
    const [row] = await s.core.db.select().from(apps).where(eq(apps.id, created.body.app.id));
    expect(row!.allowedOrigins).toEqual(['https://evil.example.com']);
  });
});
