/**
 * An organisation never ends up without an owner, even when two owners act against each other
 * at the same moment (issue 11 item 3): truly concurrent requests, several rounds.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberships } from '../../server/db/schema/index';
import type { RunningServer } from '../../server/main';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { ConsoleClient } from './console-client';

let env: TestEnv;
let s: RunningServer;
let tenant: string;
let a: ConsoleClient;
let b: ConsoleClient;
let aId: string;
let bId: string;

const ROUNDS = 8;

beforeAll(async () => {
  env = await createTestEnv('teamrace');
  s = await env.start({ DATABASE_POOL_SIZE: '10' });
  a = new ConsoleClient(s.url);
  const me = await a.signUp('race-a@example.com', undefined, 'Race Co');
  tenant = me.tenants[0]!.id;
  aId = me.account.id;
  b = new ConsoleClient(s.url);
  bId = (await b.signUp('race-b@example.com')).account.id;
});
afterAll(async () => {
  await env?.dispose();
});

async function resetBothOwners(): Promise<void> {
  const rows = await s.core.db.select().from(memberships).where(eq(memberships.tenantId, tenant));
  if (!rows.some((m) => m.accountId === aId)) {
    await s.core.db.insert(memberships).values({ tenantId: tenant, accountId: aId, role: 'owner' });
  }
  await s.core.db.update(memberships).set({ role: 'owner' }).where(eq(memberships.tenantId, tenant));
  if (!rows.some((m) => m.accountId === bId)) {
    const inv = await a.post(`/tenants/${tenant}/invitations`, { role: 'owner' });
    expect((await b.post('/invitations/accept', { token: new URL(inv.body.url).hash.slice(1) })).status).toBe(200);
  }
}

async function owners(): Promise<number> {
  return (await s.core.db.select().from(memberships).where(and(eq(memberships.tenantId, tenant), eq(memberships.role, 'owner')))).length;
}

describe('the last owner', () => {
  it('two owners demoting each other at once leave exactly one owner', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      await resetBothOwners();
      const [ab, ba] = await Promise.all([
        a.patch(`/tenants/${tenant}/members/${bId}`, { role: 'admin' }),
        b.patch(`/tenants/${tenant}/members/${aId}`, { role: 'admin' }),
      ]);
      expect(await owners(), `round ${round}`).toBe(1);
      // One wins; the other is refused (409, or 403 when its owner role was already gone).
      expect([ab.status, ba.status].filter((x) => x === 200)).toHaveLength(1);
      expect([ab.status, ba.status].find((x) => x !== 200)).toBeOneOf([403, 409]);
    }
  });

  it('two owners demoting themselves at once leave exactly one owner', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      await resetBothOwners();
      await Promise.all([
        a.patch(`/tenants/${tenant}/members/${aId}`, { role: 'viewer' }),
        b.patch(`/tenants/${tenant}/members/${bId}`, { role: 'viewer' }),
      ]);
      expect(await owners(), `round ${round}`).toBe(1);
    }
  });

  it('two owners removing each other at once leave exactly one owner', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      await resetBothOwners();
      const [ab, ba] = await Promise.all([
        a.del(`/tenants/${tenant}/members/${bId}`),
        b.del(`/tenants/${tenant}/members/${aId}`),
      ]);
      expect(await owners(), `round ${round}`).toBe(1);
      expect([ab.status, ba.status].filter((x) => x === 204)).toHaveLength(1);
    }
  });

  it('an owner demoted meanwhile can no longer act as owner', async () => {
    await resetBothOwners();
    expect((await a.patch(`/tenants/${tenant}/members/${bId}`, { role: 'viewer' })).status).toBe(200);
    const refused = await b.patch(`/tenants/${tenant}/members/${aId}`, { role: 'viewer' });
    expect(refused.status).toBe(403);
    expect(await owners()).toBe(1);
  });
});
