import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../server/core';
import { endUsers } from '../../server/db/schema/index';
import { createAppsStore, type AppRecord, type KeyPair } from '../../server/features/apps/store';
import { createUsersFeature } from '../../server/features/users/index';
import { createWebhooksFeature } from '../../server/features/webhooks/index';
import { newId, type KeyMode } from '../../server/lib/ids';
import { serveFeatures } from '../helpers/server';

/** The users server API on real Postgres, composed by hand (apps store + users feature). */
let core: Core;
let url: string;
let dispose: () => Promise<void>;

let appA: AppRecord;
let keysA: { test: KeyPair; live?: KeyPair };
let appB: AppRecord;
let keysB: { test: KeyPair; live?: KeyPair };
/** App A's test-mode users, in the order the API promises: newest first login first. */
const expectedA: string[] = [];
let userB: string;
let liveUserA: string;

async function insertUser(app: AppRecord, mode: KeyMode, n: number, firstLoginAt: string) {
  const id = newId('usr');
  await core.db.insert(endUsers).values({
    id, tenantId: app.tenantId, appId: app.id, mode, openid: `o_${app.id}_${mode}_${n}`,
    unionid: n % 2 ? `u_${n}` : null, nickname: n % 3 ? `Name ${n}` : null, avatarUrl: null, loginCount: n,
    firstLoginAt: sql`${firstLoginAt}::timestamptz`, lastLoginAt: sql`now()`,
  });
  return id;
}

beforeAll(async () => {
  let apps!: ReturnType<typeof createAppsStore>;
  ({ core, url, dispose } = await serveFeatures('users', (c) => {
    apps = createAppsStore(c);
    return [createUsersFeature(c, { apps, events: createWebhooksFeature(c, { apps }).outbox }).feature];
  }));
  const tenantA = await apps.ensureDefaultTenant('Tenant A');
  const tenantB = await apps.ensureDefaultTenant('Tenant B');
  ({ app: appA, keys: keysA } = await apps.createApp({
    tenantId: tenantA, name: 'A', allowedOrigins: [], wechatAppId: 'wx0123456789abcdef', wechatSecret: 'b'.repeat(32),
  }));
  ({ app: appB, keys: keysB } = await apps.createApp({ tenantId: tenantB, name: 'B', allowedOrigins: [] }));

  // 23 users; several share a first-login instant and others differ only in microseconds,
  // which is exactly where a millisecond cursor or a missing tie-break would skip or repeat rows.
  const rows: { id: string; at: string }[] = [];
  for (let n = 0; n < 23; n++) {
    const at = n < 6 ? '2025-03-01T10:00:00.000000Z' : `2025-03-01T10:00:00.000${String(n).padStart(3, '0')}Z`;
    rows.push({ id: await insertUser(appA, 'test', n, at), at });
  }
  rows.sort((x, y) => (x.at === y.at ? (x.id < y.id ? 1 : -1) : x.at < y.at ? 1 : -1));
  expectedA.push(...rows.map((r) => r.id));
  liveUserA = await insertUser(appA, 'live', 1, '2025-03-02T00:00:00Z');
  userB = await insertUser(appB, 'test', 1, '2025-03-02T00:00:00Z');
});

afterAll(async () => {
  await dispose?.();
});

async function call(path: string, secretKey?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, { headers: secretKey ? { authorization: `Bearer ${secretKey}` } : {} });
  return { status: res.status, body: await res.json() };
}

describe('GET /v1/users', () => {
  it('pages through every user of the key\'s app and mode exactly once, newest first', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `?limit=5&cursor=${encodeURIComponent(cursor)}` : '?limit=5';
      const r = await call(`/v1/users${q}`, keysA.test.secret);
      expect(r.status).toBe(200);
      expect(r.body.data.length).toBeLessThanOrEqual(5);
      seen.push(...r.body.data.map((u: { id: string }) => u.id));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(pages).toBe(5);
    expect(seen).toEqual(expectedA);
  });

  it('defaults the page size and ends with a null cursor', async () => {
    const r = await call('/v1/users', keysA.test.secret);
    expect(r.body.data.length).toBe(20);
    expect(typeof r.body.nextCursor).toBe('string');
    const all = await call('/v1/users?limit=100', keysA.test.secret);
    expect(all.body.data.length).toBe(23);
    expect(all.body.nextCursor).toBeNull();
  });

  it('keeps apps and modes apart', async () => {
    const b = await call('/v1/users?limit=100', keysB.test.secret);
    expect(b.body.data.map((u: { id: string }) => u.id)).toEqual([userB]);
    const live = await call('/v1/users?limit=100', keysA.live!.secret);
    expect(live.body.data.map((u: { id: string }) => u.id)).toEqual([liveUserA]);
  });

  it('rejects bad cursors and limits with 400, and missing keys with 401', async () => {
    const cursor = (at: string) => `?cursor=${Buffer.from(JSON.stringify({ at, id: expectedA[0] })).toString('base64url')}`;
    for (const q of ['?cursor=nonsense', cursor('x'), cursor('2025-02-30T10:00:00.000000Z'), cursor('2025-03-01 10:00:00+00'), '?limit=0', '?limit=101', '?limit=abc']) {
      const r = await call(`/v1/users${q}`, keysA.test.secret);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code, q).toBe('bad_request');
    }
    expect((await call('/v1/users')).status).toBe(401);
    expect((await call('/v1/users', keysA.test.publishable)).body.error.code).toBe('invalid_key');
  });
});

describe('GET /v1/users/:id', () => {
  it('returns one user in the documented shape', async () => {
    const id = expectedA[0]!;
    const r = await call(`/v1/users/${id}`, keysA.test.secret);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['avatarUrl', 'firstLoginAt', 'id', 'lastLoginAt', 'loginCount', 'nickname', 'openid', 'unionid']);
    expect(r.body.id).toBe(id);
    expect(r.body.openid).toMatch(new RegExp(`^o_${appA.id}_test_`));
    expect(Number.isNaN(Date.parse(r.body.firstLoginAt))).toBe(false);
  });

  it("never shows another app's or another mode's user (404, same as unknown)", async () => {
    const cases: [string, string][] = [
      [userB, keysA.test.secret],
      [expectedA[0]!, keysB.test.secret],
      [expectedA[0]!, keysA.live!.secret],
      [liveUserA, keysA.test.secret],
      ['usr_doesnotexist00', keysA.test.secret],
      ['not-a-user-id', keysA.test.secret],
    ];
    for (const [id, key] of cases) {
      const r = await call(`/v1/users/${id}`, key);
      expect(r.status, id).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
    expect((await call(`/v1/users/${userB}`, keysB.test.secret)).status).toBe(200);
  });
});
