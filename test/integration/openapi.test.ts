import Ajv2020 from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { EVENT_TYPES, TEST_EVENT_TYPE } from '../../contract/constants';
import { launchBrowser } from '../helpers/browser';
import { createTestApp, TEST_ORIGIN } from '../helpers/login';
import { createTestEnv, type TestEnv } from '../helpers/server';

/**
 * The published OpenAPI document against the running server: every public route of the
 * Express route table is documented (and nothing else is), and a real happy path through
 * every documented operation answers what its response schema says.
 */
type Json = Record<string, any>;
let env: TestEnv;
let server: RunningServer;
let doc: Json;
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });

beforeAll(async () => {
  env = await createTestEnv('openapi');
  server = await env.start();
  doc = await (await fetch(`${server.url}/v1/openapi.json`)).json() as Json;
});

afterAll(async () => {
  await env?.dispose();
});

interface Layer { route?: { path: string | string[]; methods: Record<string, boolean> }; handle: { stack?: Layer[] }; rawPath?: unknown }

/** Every (method, path) the Express app routes, sub-routers included. */
function routeTable(stack: Layer[], prefix = ''): Array<{ method: string; path: string }> {
  const out: Array<{ method: string; path: string }> = [];
  for (const layer of stack) {
    const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
    if (layer.route) {
      for (const p of [layer.route.path].flat()) {
        for (const m of Object.keys(layer.route.methods)) if (m !== '_all') out.push({ method: m, path: prefix + p });
      }
    } else if (layer.handle.stack) {
      out.push(...routeTable(layer.handle.stack, prefix + mount));
    }
  }
  return out;
}

/**
 * The API. Not in it: /apps/{appId}/oauth2/… (the OpenID Provider's own protocol and hosted page,
 * described by its discovery document) and Stripe's door for its events (billing on only).
 */
const isPublic = (path: string) => (path.startsWith('/v1/') || path.startsWith('/apps/')) && !path.includes('/oauth2/') && path !== '/v1/billing/stripe-webhook';
const toTemplate = (path: string) => path.replace(/:(\w+)/g, '{$1}');

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 and lists exactly the public routes the server has', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: server.core.config.publicUrl }]);
    const routes = routeTable((server.app as unknown as { router: { stack: Layer[] } }).router.stack).filter((r) => isPublic(r.path));
    expect(routes.length).toBeGreaterThan(20);
    const documented = new Set(Object.entries(doc.paths as Json).flatMap(([p, ops]) => Object.keys(ops as Json).map((m) => `${m} ${p}`)));
    const routed = new Set(routes.map((r) => `${r.method} ${toTemplate(r.path)}`));
    expect([...routed].filter((r) => !documented.has(r)), 'public routes missing from /v1/openapi.json: add them to OPERATIONS in contract/openapi.ts, and a call below').toEqual([]);
    // The other way round (a documented route the server lacks) is the happy path below: it calls every
    // documented operation, including the discovery document that oidc-provider serves outside the table.
  });

  it('documents every webhook event type with its payload', () => {
    expect(Object.keys(doc.webhooks).sort()).toEqual([...EVENT_TYPES, TEST_EVENT_TYPE].sort());
    expect(doc.webhooks['user.deleted'].post.requestBody.content['application/json'].schema.properties.data.required).toEqual(['userId', 'time']);
  });

  it('is rendered at /docs/api by Swagger UI served from this server', async () => {
    const page = await fetch(`${server.url}/docs/api`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/docs/api/ui/swagger-ui-bundle.js');
    expect(html).not.toMatch(/https?:\/\//);
    const browser = await launchBrowser();
    try {
      const tab = await browser.newPage();
      const outside: string[] = [];
      tab.on('request', (r) => { if (!r.url().startsWith(server.url)) outside.push(r.url()); });
      await tab.goto(`${server.url}/docs/api`);
      await tab.getByText('/v1/users/{id}/export').first().waitFor();
      const operations = Object.values(doc.paths as Json).reduce((n: number, ops) => n + Object.keys(ops as Json).length, 0);
      expect(await tab.locator('.opblock').count()).toBe(operations + Object.keys(doc.webhooks as Json).length);
      expect(outside).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe('real answers match the document', () => {
  const covered = new Set<string>();

  /** Finds the documented operation for a concrete path. */
  function operationOf(method: string, path: string): { template: string; op: Json } {
    const bare = path.split('?')[0]!;
    for (const [template, ops] of Object.entries(doc.paths as Json)) {
      const re = new RegExp(`^${template.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '[^/]+')}$`);
      if (re.test(bare) && (ops as Json)[method]) return { template, op: (ops as Json)[method] };
    }
    throw new Error(`${method} ${bare} is not in the document`);
  }

  function check(schema: Json, value: unknown, what: string) {
    const validate = ajv.compile(schema);
    if (!validate(value)) throw new Error(`${what} does not match the document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 600)}`);
  }

  /** One call: the request body checked against the document, the answer too; returns the parsed answer. */
  async function call(method: string, path: string, opts: { key?: string; body?: unknown; form?: FormData; headers?: Record<string, string> } = {}): Promise<{ status: number; body: any; type: string }> {
    const { template, op } = operationOf(method, path);
    if (opts.body !== undefined) check(op.requestBody.content['application/json'].schema, opts.body, `${method} ${template} request`);
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.key) headers.authorization = `Bearer ${opts.key}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${server.url}${path}`, { method: method.toUpperCase(), headers, body: opts.form ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)) });
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!;
    const answer = op.responses[String(res.status)];
    const raw = Buffer.from(await res.arrayBuffer());
    if (!answer) throw new Error(`${method} ${template} answered ${res.status}, which the document does not list: ${raw.toString().slice(0, 300)}`);
    const media = answer.content[type];
    expect(media, `${method} ${template} answered ${type}, not one of ${Object.keys(answer.content)}`).toBeDefined();
    const body = type === 'application/json' ? JSON.parse(raw.toString()) : raw;
    if (type === 'application/json') check(media.schema, body, `${method} ${template} ${res.status}`);
    covered.add(`${method} ${template}`);
    return { status: res.status, body, type };
  }

  it('for a whole login, the server API, webhooks and the reference itself', async () => {
    const { app, keys } = await createTestApp(server);
    const sk = keys.test.secret;
    const browser = { origin: TEST_ORIGIN };

    await call('get', '/v1/openapi.json');
    const opened = await call('post', `/v1/sessions?key=${keys.test.publishable}`, { headers: browser });
    expect(opened.status).toBe(201);
    const { session: id, secret } = opened.body as { session: string; secret: string };
    await call('get', `/v1/sessions/${id}/events`, { key: secret });
    const qr = await call('get', `/v1/sessions/${id}/qr`);
    const scan = await call('post', `/v1/test_helpers/sessions/${id}/scan`, { key: sk, body: { openid: 'o_openapi_1' } });
    const form = new FormData();
    form.set('scene', id);
    form.set('ticket', scan.body.ticket);
    form.set('file', new Blob([new Uint8Array(qr.body as Buffer)], { type: 'image/png' }), 'me.png');
    const avatar = await call('post', '/v1/mp/avatar', { form });
    await call('get', new URL(avatar.body.avatarUrl).pathname);
    await call('post', '/v1/mp/confirm', { body: { scene: id, ticket: scan.body.ticket, profile: { nickname: 'Ada', avatarUrl: avatar.body.avatarUrl } } });
    const success = await call('get', `/v1/sessions/${id}/events?after=scanned`, { key: secret });
    expect(success.body.type).toBe('success');
    await call('post', '/v1/tokens/verify', { key: sk, body: { token: success.body.token } });
    await call('get', `/apps/${app.id}/.well-known/openid-configuration`);
    await call('get', `/apps/${app.id}/.well-known/jwks.json`);

    // The mini-program's own scan (a sandbox wx.login code), then Cancel.
    const second = await call('post', `/v1/sessions?key=${keys.test.publishable}`, { headers: browser });
    const code = await (await fetch(`${server.url}/sandbox/phone/code`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ scene: second.body.session, openid: 'o_openapi_2' }) })).json() as { code: string };
    const scanned = await call('post', '/v1/mp/scan', { body: { scene: second.body.session, code: code.code } });
    await call('post', '/v1/mp/cancel', { body: { scene: second.body.session, ticket: scanned.body.ticket } });

    await call('get', '/v1/usage', { key: sk });
    await call('get', '/v1/audit_events?limit=5', { key: sk });
    const users = await call('get', '/v1/users?limit=10', { key: sk });
    const userId = users.body.data[0].id as string;
    await call('get', `/v1/users/${userId}`, { key: sk });
    await call('get', `/v1/users/${userId}/export`, { key: sk });

    const endpoint = await call('post', '/v1/webhook_endpoints', { key: sk, body: { url: 'http://127.0.0.1:9/hook', events: ['login.succeeded'], description: 'docs' } });
    const ep = endpoint.body.id as string;
    await call('get', '/v1/webhook_endpoints', { key: sk });
    await call('get', `/v1/webhook_endpoints/${ep}`, { key: sk });
    await call('patch', `/v1/webhook_endpoints/${ep}`, { key: sk, body: { description: 'the docs endpoint', enabled: true } });
    await call('post', `/v1/webhook_endpoints/${ep}/rotate_secret`, { key: sk });
    await call('post', `/v1/webhook_endpoints/${ep}/test`, { key: sk });
    await call('post', `/v1/webhook_endpoints/${ep}/replay_failed`, { key: sk, body: { since: new Date(Date.now() - 3_600_000).toISOString() } });
    const messages = await call('get', '/v1/webhook_messages?limit=5', { key: sk });
    const message = messages.body.data[0].id as string;
    await call('get', `/v1/webhook_messages/${message}/attempts`, { key: sk });
    await call('post', `/v1/webhook_messages/${message}/replay`, { key: sk, body: { endpointId: ep } });
    await call('delete', `/v1/webhook_endpoints/${ep}`, { key: sk });
    await call('delete', `/v1/users/${userId}`, { key: sk });

    const client = await call('post', '/v1/oidc_clients', { key: sk, body: { name: 'Docs RP', redirect_uris: ['http://localhost:8080/callback'] } });
    await call('get', '/v1/oidc_clients', { key: sk });
    await call('get', `/v1/oidc_clients/${client.body.client_id}`, { key: sk });
    await call('delete', `/v1/oidc_clients/${client.body.client_id}`, { key: sk });

    const all = Object.entries(doc.paths as Json).flatMap(([p, ops]) => Object.keys(ops as Json).map((m) => `${m} ${p}`));
    expect(all.filter((o) => !covered.has(o)), 'documented operations without a happy path here').toEqual([]);
  });

  it('for errors: the shared error shape', async () => {
    const res = await fetch(`${server.url}/v1/users`, { headers: { authorization: 'Bearer sk_test_nope' } });
    expect(res.status).toBe(401);
    check(doc.components.schemas.Error, await res.json(), 'an error');
    expect(() => check(doc.components.schemas.Error, { error: { code: 'unauthorized', message: 'no' } }, 'a body without requestId')).toThrow(/requestId/);
  });
});
