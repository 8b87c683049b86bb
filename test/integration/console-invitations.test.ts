import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accounts } from '../../server/db/schema/index';
import type { RunningServer } from '../../server/main';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { ConsoleClient } from './console-client';

/** What an invitation link shows before it is accepted, and signing up through one. */
let env: TestEnv;
let s: RunningServer;
const PASSWORD = 'quartz-lantern-orbit-meadow-41';

beforeAll(async () => {
  env = await createTestEnv('consoleinvite');
  s = await env.start();
});
afterAll(async () => {
  await env?.dispose();
});

async function invitation(role: 'viewer' | 'admin' | 'owner' = 'admin') {
  const owner = new ConsoleClient(s.url);
  const tenant = (await owner.signUp(`boss-${role}-${Date.now()}@invite.example`, PASSWORD, 'Inviting Co')).tenants[0]!.id;
  const inv = await owner.post(`/tenants/${tenant}/invitations`, { role });
  expect(inv.status).toBe(201);
  return { owner, tenant, token: new URL(inv.body.url as string).hash.slice(1) };
}

describe('console invitations', () => {
  it('previews an open invitation to anyone holding the link: organisation, role, inviter; nothing else', async () => {
    const { owner, token } = await invitation('admin');
    const anon = new ConsoleClient(s.url);
    const r = await anon.post('/invitations/preview', { token });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['expiresAt', 'invitedBy', 'role', 'tenant']);
    expect(r.body).toMatchObject({ tenant: { name: 'Inviting Co' }, role: 'admin' });
    expect(r.body.invitedBy).toMatch(/^boss-admin-/);
    expect(Object.keys(r.body.tenant)).toEqual(['name']);
    expect(owner.cookie).toBeDefined();

    expect((await anon.post('/invitations/preview', { token: 'x'.repeat(30) })).status).toBe(404);
    const bad = await anon.post('/invitations/preview', { token: 'short' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toMatchObject({ field: 'token' });
    // Cross-site posts are refused like every open console route.
    expect((await anon.call('POST', '/invitations/preview', { token }, { origin: 'https://evil.example' })).status).toBe(403);
  });

  it('signs up through an invitation straight into that organisation, with no empty one of their own', async () => {
    const { tenant, token } = await invitation('viewer');
    const c = new ConsoleClient(s.url);
    expect((await c.post('/auth/signup', { email: 'joiner@invite.example', password: PASSWORD, invitation: token })).status).toBe(202);
    const r = await c.post('/auth/signin', { email: 'joiner@invite.example', password: PASSWORD });
    expect(r.body.tenants).toEqual([expect.objectContaining({ id: tenant, name: 'Inviting Co', role: 'viewer' })]);
    // The link is spent.
    expect((await new ConsoleClient(s.url).post('/invitations/preview', { token })).status).toBe(404);
  });

  it('answers a known email signing up through an invitation like a new one, and leaves the link for them to accept', async () => {
    const { tenant, token } = await invitation('viewer');
    const existing = new ConsoleClient(s.url);
    await existing.signUp('already@invite.example', PASSWORD);
    const r = await new ConsoleClient(s.url).post('/auth/signup', { email: 'already@invite.example', password: PASSWORD, invitation: token });
    expect(r.status).toBe(202);
    // Nothing changed: the link is open until its owner accepts it, signed in.
    expect((await new ConsoleClient(s.url).post('/invitations/preview', { token })).status).toBe(200);
    expect((await existing.post('/invitations/accept', { token })).status).toBe(200);
    expect((await existing.get('/auth/me')).body.tenants.map((t: { id: string }) => t.id)).toContain(tenant);
  });

  it('refuses a spent invitation at sign-up and creates nothing', async () => {
    const { token } = await invitation('viewer');
    expect((await new ConsoleClient(s.url).post('/auth/signup', { email: 'first@invite.example', password: PASSWORD, invitation: token })).status).toBe(202);
    const late = new ConsoleClient(s.url);
    const r = await late.post('/auth/signup', { email: 'late@invite.example', password: PASSWORD, invitation: token });
    expect(r.status).toBe(404);
    expect(await s.core.db.select().from(accounts).where(eq(accounts.email, 'late@invite.example'))).toEqual([]);
    // Without the spent link the same person can still sign up normally.
    expect((await late.post('/auth/signup', { email: 'late@invite.example', password: PASSWORD })).status).toBe(202);
    // A spent link is refused for a known email too, so the answer tells nothing about the email.
    expect((await new ConsoleClient(s.url).post('/auth/signup', { email: 'first@invite.example', password: PASSWORD, invitation: token })).status).toBe(404);
  });
});
