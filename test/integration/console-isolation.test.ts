import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeys, apps, auditEvents, endUsers, loginEvents, memberships } from '../../server/db/schema/index';
import { newId } from '../../server/lib/ids';
import { createAppsStore } from '../../server/features/apps/store';
import { createConsoleFeature } from '../../server/features/console/index';
import type { RunningServer } from '../../server/main';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { ConsoleClient } from './console-client';

/**
 * Tenant isolation over every console route. The route list comes from the console's own
 * router, so a route added later is walked too; routes outside a tenant must be listed here
 * on purpose.
 */
const ACCOUNT_ROUTES = [
  'POST /auth/signup', 'POST /auth/signin', 'POST /auth/signout', 'GET /auth/me', 'POST /tenants', 'POST /invitations/accept',
  'POST /invitations/preview', 'GET /billing',
  'POST /auth/verify', 'POST /auth/verify/resend', 'POST /auth/forgot', 'POST /auth/reset', 'POST /auth/signin/second-factor',
  'GET /auth/2fa', 'POST /auth/2fa/enrol', 'POST /auth/2fa/confirm', 'POST /auth/2fa/disable',
];

/** Reads a viewer may not make (403): billing is the owner's, the audit log (emails, addresses) admins'. */
const OWNER_READS = ['/tenants/:tenantId/billing', '/tenants/:tenantId/audit', '/tenants/:tenantId/audit.csv'];

interface Route {
  method: string;
  path: string;
}

function walkRoutes(server: RunningServer): Route[] {
  // A second console built on the same core: only its router is read, nothing is served.
  const { apiRouter } = createConsoleFeature(server.core, {} as never);
  const out: Route[] = [];
  for (const layer of apiRouter.stack) {
    const route = (layer as { route?: { path: string; methods: Record<string, boolean> } }).route;
    if (!route) continue;
    for (const m of Object.keys(route.methods)) if (m !== '_all') out.push({ method: m.toUpperCase(), path: route.path.replace(/^\/console\/api/, '') });
  }
  return out;
}

let env: TestEnv;
let s: RunningServer;
const A = { owner: undefined as unknown as ConsoleClient, viewer: undefined as unknown as ConsoleClient, ids: {} as Record<string, string> };
const B = { owner: undefined as unknown as ConsoleClient, ids: {} as Record<string, string>, secrets: [] as string[] };

async function seed(c: ConsoleClient, email: string, org: string) {
  const me = await c.signUp(email, undefined, org);
  const tenantId = me.tenants[0]!.id;
  const app = await c.post(`/tenants/${tenantId}/apps`, { name: `${org} app`, allowedOrigins: ['https://shop.example.com'] });
  const appId = app.body.app.id as string;
  const key = await c.post(`/tenants/${tenantId}/apps/${appId}/keys`, { name: `${org} key`, mode: 'test' });
  const inv = await c.post(`/tenants/${tenantId}/invitations`, { role: 'viewer' });
  const hook = await c.post(`/tenants/${tenantId}/apps/${appId}/webhooks/endpoints?mode=test`, { url: 'http://127.0.0.1:9/hook' });
  const hookMsg = await c.post(`/tenants/${tenantId}/apps/${appId}/webhooks/endpoints/${hook.body.id}/test?mode=test`);
  const oidcClient = await c.post(`/tenants/${tenantId}/apps/${appId}/oidc/clients?mode=test`, { name: `${org} RP`, redirect_uris: ['https://rp.example.com/cb'] });
  const userId = newId('usr');
  await s.core.db.insert(endUsers).values({ id: userId, tenantId, appId, mode: 'test', openid: `openid-${org}`, nickname: `nick-${org}` });
  await s.core.db.insert(loginEvents).values({ id: newId('evt'), tenantId, appId, mode: 'test', sessionId: `s-${appId}`, status: 'succeeded', origin: 'https://shop.example.com' });
  return {
    ids: { tenantId, appId, keyId: key.body.id as string, accountId: me.account.id, invitationId: inv.body.id as string, inviteToken: new URL(inv.body.url).hash.slice(1),
      endpointId: hook.body.id as string, messageId: hookMsg.body.messageId as string, clientId: oidcClient.body.client_id as string, userId },
    secrets: [key.body.secret as string, app.body.keys.test.secret as string, hook.body.secret as string, oidcClient.body.client_secret as string],
  };
}

function fill(path: string, ids: Record<string, string>): string {
  return path.replace(/:(\w+)/g, (_, name: string) => {
    const v = ids[name];
    if (!v) throw new Error(`the isolation test has no id for :${name} in ${path}; add one to seed()`);
    return v;
  });
}

/** A plausible body, so a 404 can only come from scoping, never from validation. */
const BODY: Record<string, unknown> = {
  'POST /tenants/:tenantId/apps': { name: 'x' },
  'PATCH /tenants/:tenantId/apps/:appId': { name: 'renamed' },
  'POST /tenants/:tenantId/apps/:appId/keys': { name: 'k', mode: 'test' },
  'PATCH /tenants/:tenantId/members/:accountId': { role: 'admin' },
  'POST /tenants/:tenantId/invitations': { role: 'viewer' },
  'PATCH /tenants/:tenantId': { name: 'renamed' },
  'POST /tenants/:tenantId/apps/:appId/webhooks/endpoints': { url: 'http://127.0.0.1:9/other' },
  'PATCH /tenants/:tenantId/apps/:appId/webhooks/endpoints/:endpointId': { description: 'changed' },
  'POST /tenants/:tenantId/apps/:appId/webhooks/endpoints/:endpointId/replay-failed': { since: '2020-01-01T00:00:00Z' },
  'POST /tenants/:tenantId/apps/:appId/oidc/clients': { name: 'x', redirect_uris: ['https://rp.example.com/other'] },
  'PATCH /tenants/:tenantId/audit/settings': { retentionDays: 30 },
  'PATCH /tenants/:tenantId/security': { require2fa: false },
};

beforeAll(async () => {
  env = await createTestEnv('consoleiso');
  s = await env.start();
  A.owner = new ConsoleClient(s.url);
  B.owner = new ConsoleClient(s.url);
  const a = await seed(A.owner, 'a-owner@example.com', 'Alpha');
  const b = await seed(B.owner, 'b-owner@example.com', 'Bravo');
  A.ids = a.ids;
  B.ids = b.ids;
  B.secrets = b.secrets;
  A.viewer = new ConsoleClient(s.url);
  await A.viewer.signUp('a-viewer@example.com');
  const accepted = await A.viewer.post('/invitations/accept', { token: a.ids.inviteToken });
  expect(accepted.body.role).toBe('viewer');
  // A fresh invitation for the routes that need one (the first was used).
  A.ids.invitationId = (await A.owner.post(`/tenants/${A.ids.tenantId}/invitations`, { role: 'viewer' })).body.id;
}, 60_000);

afterAll(async () => {
  await env?.dispose();
});

describe('console tenant isolation', () => {
  let routes: Route[] = [];
  beforeAll(() => {
    routes = walkRoutes(s);
  });

  it('knows every route and classifies the ones outside a tenant on purpose', () => {
    expect(routes.length).toBeGreaterThan(20);
    const outside = routes.filter((r) => !r.path.startsWith('/tenants/:tenantId')).map((r) => `${r.method} ${r.path}`);
    expect(outside.sort()).toEqual([...ACCOUNT_ROUTES].sort());
  });

  it("answers 404 to a member of A on every tenant route with B's ids, and never shows B's data", async () => {
    const checked: string[] = [];
    for (const r of routes.filter((x) => x.path.startsWith('/tenants/:tenantId'))) {
      const label = `${r.method} ${r.path}`;
      const body = r.method === 'GET' ? undefined : (BODY[label] ?? {});
      // 1. B's tenant id (and B's other ids).
      // 2. A's own tenant id with B's other ids, where the route has any.
      const variants = [fill(r.path, B.ids)];
      if (/:(?!tenantId)\w+/.test(r.path)) variants.push(fill(r.path, { ...B.ids, tenantId: A.ids.tenantId! }));
      for (const path of variants) {
        const res = await A.owner.call(r.method, path, body);
        expect(res.status, `${label} as ${path}`).toBe(404);
        const text = JSON.stringify(res.body);
        for (const secret of [B.ids.appId, B.ids.keyId, 'Bravo', 'openid-Bravo', 'nick-Bravo', ...B.secrets]) {
          expect(text, `${label} leaked ${secret}`).not.toContain(secret);
        }
        checked.push(`${label} ${path}`);
      }
    }
    expect(checked.length).toBeGreaterThan(routes.length);

    // Nothing of B changed.
    const [bApp] = await s.core.db.select().from(apps).where(eq(apps.id, B.ids.appId!));
    expect(bApp!.name).toBe('Bravo app');
    const [bKey] = await s.core.db.select().from(apiKeys).where(eq(apiKeys.id, B.ids.keyId!));
    expect(bKey!.revokedAt).toBeNull();
    const bMembers = await s.core.db.select().from(memberships).where(eq(memberships.tenantId, B.ids.tenantId!));
    expect(bMembers).toEqual([expect.objectContaining({ accountId: B.ids.accountId, role: 'owner' })]);
    expect(await createAppsStore(s.core).resolveSecretKey(B.secrets[0]!)).not.toBeNull();
  }, 120_000);

  it('answers 403 to a viewer on every write route, and changes nothing', async () => {
    const writes = routes.filter((r) => r.path.startsWith('/tenants/:tenantId') && r.method !== 'GET');
    expect(writes.length).toBeGreaterThan(8);
    for (const r of writes) {
      const label = `${r.method} ${r.path}`;
      const res = await A.viewer.call(r.method, fill(r.path, A.ids), BODY[label] ?? {});
      expect(res.status, label).toBe(403);
      expect(res.body.error.code, label).toBe('forbidden');
    }
    const [aApp] = await s.core.db.select().from(apps).where(eq(apps.id, A.ids.appId!));
    expect(aApp!.name).toBe('Alpha app');
    const [aKey] = await s.core.db.select().from(apiKeys).where(eq(apiKeys.id, A.ids.keyId!));
    expect(aKey!.revokedAt).toBeNull();
  }, 120_000);

  it("shows a secret key only its own app's audit events, never another tenant's", async () => {
    const aSecret = (await A.owner.post(`/tenants/${A.ids.tenantId}/apps/${A.ids.appId}/keys`, { name: 'audit reader', mode: 'test' })).body.secret as string;
    const seen: Array<{ target: { id: string }; actor: { email?: string } }> = [];
    let cursor: string | undefined;
    do {
      const res = await fetch(`${s.url}/v1/audit_events${cursor ? `?cursor=${cursor}` : ''}`, { headers: { authorization: `Bearer ${aSecret}` } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: typeof seen; next?: string };
      seen.push(...body.data);
      cursor = body.next;
    } while (cursor);
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.some((e) => e.target.id === A.ids.appId)).toBe(true);
    const text = JSON.stringify(seen);
    for (const b of [B.ids.appId!, B.ids.keyId!, B.ids.endpointId!, 'b-owner@example.com']) expect(text).not.toContain(b);
    const bRows = await s.core.db.select().from(auditEvents).where(eq(auditEvents.tenantId, B.ids.tenantId!));
    expect(bRows.length).toBeGreaterThan(2);
  });

  it('lets the viewer read every read route of its own tenant, except billing (owners only) and the audit log (admins)', async () => {
    for (const r of routes.filter((x) => x.path.startsWith('/tenants/:tenantId') && x.method === 'GET' && !x.path.endsWith('/stream'))) {
      const res = await A.viewer.get(fill(r.path, A.ids));
      expect(res.status, `GET ${r.path}`).toBe(OWNER_READS.includes(r.path) ? 403 : 200);
    }
  });

  it('refuses every state-changing route without the CSRF token, with a wrong one, or from another site, and changes nothing', async () => {
    const writes = routes.filter((r) => r.method !== 'GET');
    expect(writes.length).toBeGreaterThan(20);
    const open = new Set(['POST /auth/signup', 'POST /auth/signin', 'POST /invitations/preview', 'POST /auth/verify', 'POST /auth/forgot', 'POST /auth/reset', 'POST /auth/signin/second-factor']);
    for (const r of writes) {
      const label = `${r.method} ${r.path}`;
      const path = r.path.startsWith('/tenants/:tenantId') ? fill(r.path, A.ids) : r.path;
      const body = BODY[label] ?? (label === 'POST /invitations/accept' || label === 'POST /invitations/preview' ? { token: A.ids.inviteToken } : label === 'POST /tenants' ? { name: 'csrf' } : {});
      const attempts = open.has(label)
        ? [{ origin: 'https://evil.example' }]
        : [{ csrf: null }, { csrf: 'x'.repeat(32) }, { origin: 'https://evil.example' }, { origin: 'null' }];
      for (const opts of attempts) {
        const res = await A.owner.call(r.method, path, body, opts);
        expect(res.status, `${label} ${JSON.stringify(opts)}`).toBe(403);
        expect(res.body.error.code, `${label} ${JSON.stringify(opts)}`).toBe('csrf_failed');
      }
      // A browser that sends no Origin still says where the request came from.
      const headers: Record<string, string> = { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site', 'x-csrf-token': A.owner.csrf! };
      if (A.owner.cookie) headers.cookie = A.owner.cookie;
      const fetched = await fetch(`${s.url}/console/api${path}`, { method: r.method, headers, body: JSON.stringify(body) });
      expect(fetched.status, `${label} sec-fetch-site`).toBe(403);
    }
    // Still signed in, nothing renamed, nothing revoked.
    expect((await A.owner.get('/auth/me')).status).toBe(200);
    const [aApp] = await s.core.db.select().from(apps).where(eq(apps.id, A.ids.appId!));
    expect(aApp!.name).toBe('Alpha app');
    const [aKey] = await s.core.db.select().from(apiKeys).where(eq(apiKeys.id, A.ids.keyId!));
    expect(aKey!.revokedAt).toBeNull();
  }, 120_000);

  it('answers 401 on every tenant route without a session', async () => {
    const anon = new ConsoleClient(s.url);
    for (const r of routes.filter((x) => x.path.startsWith('/tenants/:tenantId'))) {
      const res = await anon.call(r.method, fill(r.path, A.ids), r.method === 'GET' ? undefined : {});
      expect(res.status, `${r.method} ${r.path}`).toBe(401);
    }
  });
});
