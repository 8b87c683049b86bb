/**
 * Malformed input is a 400 with the error shape, never a 500 (issue 11 item 8). Every route in
 * the Express app's own table is tried, so a route added later is covered without touching
 * this file: a NUL byte or broken percent-encoding in each path parameter, a NUL in a JSON
 * body, and oversized or impossible query values (a 20-digit cursor, out-of-range dates).
 */
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { ConsoleClient } from './console-client';

let env: TestEnv;
let s: RunningServer;
let c: ConsoleClient;
let ids: Record<string, string>;
let keys: { publishable: string; secret: string };

interface RouteRow {
  method: string;
  path: string;
}

interface LayerLike {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: LayerLike[] };
  rawPath?: string | string[];
}

/** Every route the app declares, walking nested routers and the paths they are mounted at. */
function routeTable(app: Express): RouteRow[] {
  const rows: RouteRow[] = [];
  const walk = (stack: LayerLike[], prefix: string) => {
    for (const layer of stack) {
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const p of paths) for (const m of Object.keys(layer.route.methods)) if (m !== '_all') rows.push({ method: m.toUpperCase(), path: prefix + p });
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack, prefix + mount);
      } else if (mount.includes(':')) {
        // A parameterised middleware mount (a sub-app such as the OpenID provider) is a route too.
        rows.push({ method: 'GET', path: `${prefix}${mount}/x` });
      }
    }
  };
  walk((app as unknown as { router: { stack: LayerLike[] } }).router.stack, '');
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(`${r.method} ${r.path}`) && seen.add(`${r.method} ${r.path}`));
}

const PARAM = /:(\w+)|\*(\w+)/g;

function fill(path: string, attacked?: { name: string; value: string }): string {
  return path.replace(/[{}]/g, '').replace(PARAM, (_m, name?: string, splat?: string) => {
    const n = name ?? splat ?? '';
    if (attacked && n === attacked.name) return attacked.value;
    return ids[n] ?? 'x';
  });
}

function cursorOf(us: string): string {
  return Buffer.from(JSON.stringify({ us, id: 'x' })).toString('base64url');
}

const BAD_SEGMENTS = ['a%00b', '%00', '%E0%A4%A', '%zz', 'a%C0%AFb'];
const BAD_QUERIES = [
  `cursor=${cursorOf('99999999999999999999')}`,
  'cursor=99999999999999999999',
  'limit=99999999999999999999',
  'from=0000-01-01T00:00:00Z&to=9999-12-31T23:59:59Z',
  'from=2024-02-30T00:00:00Z',
  'from=-271821-04-20T00:00:00Z',
  'since=99999999999999999999',
  'q=a%00b',
  'after=%00',
  'status=%00',
];
const NUL_BODY = JSON.stringify({
  name: 'a\u0000b', email: 'a\u0000b@example.com', password: 'pass\u0000word pass word', url: 'https://a\u0000.example.com',
  token: 'a\u0000b', scene: 'a\u0000b', code: 'a\u0000b', ticket: 'a\u0000b', openid: 'o_\u0000', role: 'viewer\u0000',
  organisation: 'a\u0000b', description: 'a\u0000b', allowedOrigins: ['https://a\u0000.example.com'], events: ['login.succeeded\u0000'],
  displayName: 'a\u0000b', wechatAppId: 'wx\u0000', redirect_uris: ['https://a\u0000.example.com/cb'], 'k\u0000': 'v',
});

async function send(method: string, path: string, body?: string): Promise<{ status: number; text: string; type: string }> {
  const headers: Record<string, string> = { origin: s.url };
  if (c.cookie) headers.cookie = c.cookie;
  if (c.csrf) headers['x-csrf-token'] = c.csrf;
  if (!path.startsWith('/console/')) headers.authorization = `Bearer ${keys.secret}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const ctrl = new AbortController();
  const res = await fetch(`${s.url}${path}`, { method, headers, body, signal: ctrl.signal, redirect: 'manual' });
  const type = res.headers.get('content-type') ?? '';
  // Streams (SSE, long-polls) that opened fine are not what this test is about.
  if (type.includes('event-stream')) {
    ctrl.abort();
    return { status: res.status, text: '', type };
  }
  return { status: res.status, text: await res.text(), type };
}

/** What is wrong with an answer to malformed input, or null: never 5xx, and a 4xx carries the error shape. */
function problemWith(r: { status: number; text: string; type: string }, want400 = false): string | null {
  if (r.status >= 500 || (want400 && r.status !== 400)) return `${r.status} ${r.text.slice(0, 160)}`;
  if (r.status >= 400 && r.type.includes('application/json')) {
    const e = (JSON.parse(r.text) as { error?: Record<string, unknown> }).error;
    if (typeof e?.code !== 'string' || typeof e.message !== 'string' || typeof e.requestId !== 'string') return `${r.status} without the error shape: ${r.text.slice(0, 160)}`;
  }
  return null;
}

beforeAll(async () => {
  env = await createTestEnv('secinput');
  s = await env.start();
  c = new ConsoleClient(s.url);
  const me = await c.signUp('input@example.com');
  const tenantId = me.tenants[0]!.id;
  const created = await c.post(`/tenants/${tenantId}/apps`, { name: 'Input', allowedOrigins: ['https://shop.example.com'] });
  keys = created.body.keys.test;
  ids = { tenantId, appId: created.body.app.id, accountId: me.account.id };
});
afterAll(async () => {
  await env?.dispose();
});

describe('malformed input on every route', () => {
  let routes: RouteRow[];
  beforeAll(() => {
    routes = routeTable(s.app!);
  });

  it('finds the routes in the router table', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    expect(names.length).toBeGreaterThan(40);
    expect(names).toEqual(expect.arrayContaining(['POST /console/api/auth/signup', 'GET /v1/users/:id', 'POST /v1/tokens/verify']));
  });

  it('a NUL byte or broken percent-encoding in a path parameter is a 400', async () => {
    const problems: string[] = [];
    for (const r of routes) {
      const params = [...r.path.matchAll(PARAM)].map((m) => m[1] ?? m[2]!);
      for (const name of params) {
        for (const value of BAD_SEGMENTS) {
          const p = problemWith(await send(r.method, fill(r.path, { name, value }), r.method === 'GET' ? undefined : '{}'), true);
          if (p) problems.push(`${r.method} ${r.path} with ${name}=${value} → ${p}`);
        }
      }
    }
    expect(problems).toEqual([]);
  }, 180_000);

  it('a NUL byte in any JSON string of a body is a 4xx, never 500', async () => {
    const problems: string[] = [];
    for (const r of routes.filter((x) => x.method !== 'GET' && x.method !== 'HEAD')) {
      const p = problemWith(await send(r.method, fill(r.path), NUL_BODY));
      if (p) problems.push(`${r.method} ${r.path} → ${p}`);
    }
    expect(problems).toEqual([]);
    // Where a route reads JSON, the NUL is refused at the edge and says so.
    const signup = await send('POST', '/console/api/auth/signup', NUL_BODY);
    expect(signup.status).toBe(400);
    expect(JSON.parse(signup.text).error.message).toMatch(/NUL/);
  }, 180_000);

  it('impossible query values (20-digit cursors and numbers, out-of-range dates, NULs) are 4xx, never 500', async () => {
    const problems: string[] = [];
    for (const r of routes.filter((x) => x.method === 'GET')) {
      for (const q of BAD_QUERIES) {
        const path = fill(r.path);
        const p = problemWith(await send('GET', `${path}${path.includes('?') ? '&' : '?'}${q}`));
        if (p) problems.push(`GET ${r.path}?${q} → ${p}`);
      }
    }
    expect(problems).toEqual([]);
  }, 180_000);
});
